/**
 * A tiny JSON Schema validator for the subset the `extract` crew accepts: `type` (a name or a list of names),
 * `properties`, `required`, `items`, `enum`, plus the annotations `description` and `title`.
 * Anything else is rejected by `checkSchema`, so a schema never silently means more than what is enforced.
 */
export type JsonSchemaType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface JsonSchema {
  type?: JsonSchemaType | JsonSchemaType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  title?: string;
}

const TYPES: readonly string[] = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
const KEYWORDS: readonly string[] = [
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'description',
  'title',
  '$schema',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with the schema itself, each prefixed by its JSON path (`$.properties.total.type`). */
export function checkSchema(schema: unknown, path = '$'): string[] {
  if (!isRecord(schema)) return [`${path}: a schema must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.includes(key)) problems.push(`${path}: unsupported keyword "${key}"`);
  }
  const { type, properties, required, items } = schema;
  if (type !== undefined) {
    const names = Array.isArray(type) ? type : [type];
    if (names.length === 0) problems.push(`${path}.type: must not be empty`);
    for (const name of names) {
      if (typeof name !== 'string' || !TYPES.includes(name))
        problems.push(`${path}.type: unknown type ${JSON.stringify(name)}`);
    }
  }
  if (properties !== undefined) {
    if (!isRecord(properties)) problems.push(`${path}.properties: must be an object`);
    else
      for (const [name, sub] of Object.entries(properties))
        problems.push(...checkSchema(sub, `${path}.properties.${name}`));
  }
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))) {
    problems.push(`${path}.required: must be a list of property names`);
  }
  if (items !== undefined) problems.push(...checkSchema(items, `${path}.items`));
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) problems.push(`${path}.enum: must be a list`);
  return problems;
}

export function typeNames(schema: JsonSchema): JsonSchemaType[] {
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function typeOf(value: unknown): JsonSchemaType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonSchemaType;
}

function matchesType(value: unknown, type: JsonSchemaType): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Where `value` breaks `schema`, each as `$.path: message`; empty when it conforms. */
export function validateJson(value: unknown, schema: JsonSchema, path = '$'): string[] {
  const types = typeNames(schema);
  if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
    return [`${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  const errors: string[] = [];
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (isRecord(value)) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) errors.push(`${path}.${name}: required property is missing`);
    }
    for (const [name, sub] of Object.entries(schema.properties ?? {})) {
      if (name in value) errors.push(...validateJson(value[name], sub, `${path}.${name}`));
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) =>
      errors.push(...validateJson(item, schema.items as JsonSchema, `${path}[${i}]`)),
    );
  }
  return errors;
}

/**
 * The JSON value in a model answer: the whole answer, or the content of a ```json fence, or the outermost
 * {...} / [...] span. Undefined when none parses.
 */
export function parseJsonAnswer(answer: string): { value: unknown } | undefined {
  const candidates = [answer.trim()];
  const fence = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(answer);
  if (fence) candidates.push(fence[1].trim());
  for (const [open, close] of [
    ['{', '}'],
    ['[', ']'],
  ]) {
    const from = answer.indexOf(open);
    const to = answer.lastIndexOf(close);
    if (from >= 0 && to > from) candidates.push(answer.slice(from, to + 1));
  }
  for (const candidate of candidates) {
    try {
      return { value: JSON.parse(candidate) };
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}
