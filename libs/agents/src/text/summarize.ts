import { splitSentences } from './tokens';

const STOPWORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours
out over own same she should so some such than that the their them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours one two may
might must shall us via per etc e.g i.e within without upon using used use`.split(/\s+/),
);

export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []).filter(
    (w) => w.length > 2 && !STOPWORDS.has(w) && !/^\d+$/.test(w),
  );
}

export interface Heading {
  level: number;
  text: string;
}

const MARKDOWN_HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const NUMBERED_HEADING = /^(\d+(?:\.\d+)*)\.?\s+(\p{Lu}[^.!?:]{0,80})$/u;

/** Markdown headings, numbered section titles ("2.1 Scope") and short ALL-CAPS lines. */
export function headingOf(line: string): Heading | undefined {
  const trimmed = line.trim();
  const md = MARKDOWN_HEADING.exec(trimmed);
  if (md) return { level: md[1].length, text: md[2].trim() };
  const numbered = NUMBERED_HEADING.exec(trimmed);
  if (numbered && numbered[2].split(/\s+/).length <= 10) {
    return { level: numbered[1].split('.').length, text: `${numbered[1]} ${numbered[2].trim()}` };
  }
  if (/^[\p{Lu}\d][\p{Lu}\d &/,-]{2,60}$/u.test(trimmed) && /\p{Lu}{3}/u.test(trimmed)) {
    return { level: 1, text: trimmed };
  }
  return undefined;
}

export function outline(text: string): Heading[] {
  const out: Heading[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = headingOf(line);
    if (heading) out.push(heading);
  }
  return out;
}

/** "Inspector: Maria Lopez": a field, not prose. */
export function isKeyValueLine(line: string): boolean {
  return /^\s*(?:[-*+]\s+)?[^:.!?]{1,40}:\s+\S/.test(line) && !/[.!?]["')\]]*\s*$/.test(line);
}

function isTableRule(line: string): boolean {
  return /^\s*\|?[\s:|-]+\|?\s*$/.test(line) && line.includes('-');
}

/** The sentences of the body text: headings, code blocks, list markers and table rules left out. */
export function bodySentences(text: string): string[] {
  const lines: string[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      lines.push('');
      continue;
    }
    if (inFence || headingOf(line) || isTableRule(line) || isKeyValueLine(line)) {
      lines.push('');
      continue;
    }
    lines.push(line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, ''));
  }
  return lines
    .join('\n')
    .split(/\n\s*\n/)
    .flatMap((paragraph) => splitSentences(paragraph.replace(/\s*\n\s*/g, ' ')))
    .filter((s) => words(s).length >= 3);
}

/** Weight of each word: how often it occurs in the text times how rare it is across sentences (TF-IDF). */
function wordWeights(sentences: string[]): Map<string, number> {
  const tf = new Map<string, number>();
  const df = new Map<string, number>();
  for (const sentence of sentences) {
    const ws = words(sentence);
    for (const w of ws) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const w of new Set(ws)) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const n = sentences.length;
  const weights = new Map<string, number>();
  for (const [w, count] of tf) weights.set(w, count * (Math.log((n + 1) / (df.get(w)! + 0.5)) + 1));
  return weights;
}

/**
 * The `count` highest-scoring sentences, in their original order. A sentence scores the mean weight of its
 * distinct words (so long sentences do not win by length), with a small bonus for the opening sentence.
 */
export function topSentences(sentences: string[], count: number): string[] {
  if (sentences.length <= count) return [...sentences];
  const weights = wordWeights(sentences);
  const scored = sentences.map((sentence, index) => {
    const distinct = [...new Set(words(sentence))];
    const sum = distinct.reduce((acc, w) => acc + (weights.get(w) ?? 0), 0);
    const score = distinct.length === 0 ? 0 : sum / Math.sqrt(distinct.length) + (index === 0 ? 0.5 : 0);
    return { sentence, index, score };
  });
  const chosen = [...scored]
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, count)
    .sort((a, b) => a.index - b.index);
  return chosen.map((c) => c.sentence);
}

export function keywords(text: string, count: number): string[] {
  const sentences = bodySentences(text);
  const weights = wordWeights(sentences.length > 0 ? sentences : [text]);
  return [...weights.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, count)
    .map(([w]) => w);
}

export function summaryLength(sentenceCount: number): number {
  return Math.min(8, Math.max(3, Math.ceil(sentenceCount / 5)));
}

export interface ExtractiveSummary {
  sentences: string[];
  keywords: string[];
  outline: Heading[];
}

export function summarize(text: string): ExtractiveSummary {
  const sentences = bodySentences(text);
  return {
    sentences: topSentences(sentences, summaryLength(sentences.length)),
    keywords: keywords(text, 8),
    outline: outline(text),
  };
}

export function renderSummary(summary: ExtractiveSummary, note: string): string {
  const parts = [`> ${note}`, '## Summary', summary.sentences.join(' ') || '(no sentences found)'];
  parts.push('## Keywords', summary.keywords.join(', ') || '(none)');
  if (summary.outline.length > 0) {
    const minLevel = Math.min(...summary.outline.map((h) => h.level));
    parts.push(
      '## Outline',
      summary.outline.map((h) => `${'  '.repeat(h.level - minLevel)}- ${h.text}`).join('\n'),
    );
  }
  return parts.join('\n\n');
}

/** Reads back a summary written by `renderSummary` (the map outputs, when merging). */
export function parseSummary(markdown: string): ExtractiveSummary {
  const section = (name: string) => {
    const m = new RegExp(`^## ${name}\\n\\n([\\s\\S]*?)(?=\\n\\n## |(?![\\s\\S]))`, 'm').exec(markdown);
    return m ? m[1].trim() : '';
  };
  const keywordText = section('Keywords');
  return {
    sentences: splitSentences(section('Summary')),
    keywords: keywordText && keywordText !== '(none)' ? keywordText.split(/,\s*/) : [],
    outline: section('Outline')
      .split('\n')
      .filter((l) => l.trim().startsWith('- '))
      .map((l) => ({
        level: Math.floor((l.length - l.trimStart().length) / 2) + 1,
        text: l.trim().slice(2),
      })),
  };
}

/** Merges chunk summaries: re-ranks their sentences together, keeps keywords that recur, joins the outlines. */
export function mergeSummaries(parts: ExtractiveSummary[]): ExtractiveSummary {
  const sentences = parts.flatMap((p) => p.sentences);
  const seen = new Set<string>();
  const unique = sentences.filter((s) => !seen.has(s) && seen.add(s));
  const keywordScore = new Map<string, number>();
  for (const part of parts) {
    part.keywords.forEach((k, i) =>
      keywordScore.set(k, (keywordScore.get(k) ?? 0) + (part.keywords.length - i)),
    );
  }
  const outlineSeen = new Set<string>();
  return {
    sentences: topSentences(unique, Math.min(10, Math.max(3, Math.ceil(unique.length / 3)))),
    keywords: [...keywordScore.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([k]) => k),
    outline: parts
      .flatMap((p) => p.outline)
      .filter((h) => !outlineSeen.has(`${h.level}:${h.text}`) && outlineSeen.add(`${h.level}:${h.text}`)),
  };
}
