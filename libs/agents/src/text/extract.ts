import { typeNames, type JsonSchema } from '../json-schema/json-schema';
import { outline } from './summarize';

/** "invoiceNumber", "invoice_number", "Invoice number" → "invoice number". */
export function normalizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .replace(/[^\p{L}\p{N} ]+/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Every "key: value" (or "key = value", "| key | value |") pair in the text, keys normalised, first wins. */
export function keyValueLines(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const table = /^\|\s*([^|]{1,60}?)\s*\|\s*([^|]+?)\s*\|?$/.exec(line);
    const kv = /^(?:[-*+]\s+)?\**([^:=|]{1,60}?)\**\s*[:=]\s*(.+)$/.exec(line);
    const m = kv ?? table;
    if (!m) continue;
    const key = normalizeKey(m[1]);
    const value = m[2].replace(/\*\*/g, '').trim();
    if (key && value && !/^-+$/.test(value) && !pairs.has(key)) pairs.set(key, value);
  }
  return pairs;
}

const PATTERNS: Array<[RegExp, RegExp]> = [
  [/e ?mail/, /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/],
  [/\burl\b|website|link/, /https?:\/\/[^\s)>\]]+/],
  [/phone|tel/, /\+?\d[\d ()-]{6,}\d/],
  [
    /date|day|deadline|due/,
    /\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2},? \d{4}\b/i,
  ],
];

function coerce(value: string, schema: JsonSchema): unknown {
  const types = typeNames(schema);
  if (schema.enum) {
    const hit = schema.enum.find((e) => String(e).toLowerCase() === value.trim().toLowerCase());
    if (hit !== undefined) return hit;
    const inside = schema.enum.find((e) =>
      new RegExp(`\\b${String(e).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'i').test(value),
    );
    return inside ?? null;
  }
  if (types.includes('integer') || types.includes('number')) {
    const m = /-?\d[\d,' ]*(?:\.\d+)?/.exec(value);
    if (!m) return null;
    const n = Number(m[0].replace(/[,' ]/g, ''));
    if (Number.isNaN(n)) return null;
    return types.includes('integer') && !types.includes('number') ? Math.round(n) : n;
  }
  if (types.includes('boolean')) {
    if (/^(yes|true|y|1|on|enabled)\b/i.test(value.trim())) return true;
    if (/^(no|false|n|0|off|disabled)\b/i.test(value.trim())) return false;
    return null;
  }
  if (types.includes('array')) {
    const items = value
      .split(/\s*(?:,|;|\band\b)\s*/)
      .map((v) => v.trim())
      .filter(Boolean);
    return items.map((item) => (schema.items ? coerce(item, schema.items) : item)).filter((v) => v !== null);
  }
  return value.trim();
}

function findValue(name: string, schema: JsonSchema, pairs: Map<string, string>, text: string): unknown {
  const keys = [normalizeKey(name), ...(schema.title ? [normalizeKey(schema.title)] : [])];
  for (const key of keys) {
    const exact = pairs.get(key);
    if (exact !== undefined) return coerce(exact, schema);
  }
  for (const key of keys) {
    for (const [candidate, value] of pairs) {
      if (candidate.includes(key) || (candidate.length > 3 && key.includes(candidate)))
        return coerce(value, schema);
    }
  }
  const types = typeNames(schema);
  if (types.length === 0 || types.includes('string')) {
    for (const [keyPattern, valuePattern] of PATTERNS) {
      if (keys.some((k) => keyPattern.test(k))) {
        const m = valuePattern.exec(text);
        if (m) return m[0];
      }
    }
    if (keys.some((k) => k === 'title' || k === 'name' || k === 'document title')) {
      const first = outline(text)[0];
      if (first) return first.text;
    }
  }
  return null;
}

/**
 * Builds an object for `schema` from the text: each property is looked up among the "key: value" lines by its
 * (normalised) name or title, then by simple patterns (e-mail, URL, phone, date, a title from the first heading),
 * and coerced to the property's type. What cannot be found is null.
 */
export function extractBySchema(text: string, schema: JsonSchema): unknown {
  const pairs = keyValueLines(text);
  const build = (s: JsonSchema): unknown => {
    const out: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(s.properties ?? {})) {
      out[name] =
        typeNames(sub).includes('object') && sub.properties ? build(sub) : findValue(name, sub, pairs, text);
    }
    return out;
  };
  return build(schema);
}
