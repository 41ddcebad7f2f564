import { getEncoding, type Tiktoken } from 'js-tiktoken';

let encoding: Tiktoken | undefined;

/** cl100k_base, loaded once (about 300 ms); its ranks ship inside js-tiktoken, no network. */
export function tokenizer(): Tiktoken {
  encoding ??= getEncoding('cl100k_base');
  return encoding;
}

/** js-tiktoken's BPE is quadratic in the length of one run of letters (5000 letters take over a second). */
const LONG_RUN = 256;
const LONG_RUN_PATTERN = new RegExp(`\\p{L}{${LONG_RUN + 1},}`, 'gu');

/**
 * cl100k_base tokens of `text`. Runs of more than 256 letters without a break (never prose; base64 without
 * digits, sequences) are counted in 256-letter pieces, which stays within a token or two of the exact count.
 */
/**
 * Tokens of a document's text. A document may contain the text of a special token (`<|endoftext|>`);
 * js-tiktoken refuses it by default, but in a document it is ordinary characters.
 */
function encodeText(text: string): number[] {
  return tokenizer().encode(text, [], []);
}

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  let total = 0;
  let from = 0;
  for (const m of text.matchAll(LONG_RUN_PATTERN)) {
    total += encodeText(text.slice(from, m.index)).length;
    for (let i = 0; i < m[0].length; i += LONG_RUN) total += encodeText(m[0].slice(i, i + LONG_RUN)).length;
    from = m.index + m[0].length;
  }
  return total + encodeText(text.slice(from)).length;
}

/** Sentences of a text, whitespace trimmed (for scoring, not for re-assembly). */
export function splitSentences(text: string): string[] {
  return (text.match(/(?:[^.!?\n]|[.!?]+(?!["')\]]*(?:\s|$)))+(?:[.!?]+["')\]]*|\n|$)/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Sentences with their trailing whitespace, so that joining them gives back the paragraph exactly. */
const SENTENCE = /(?:[^.!?]|[.!?]+(?!["')\]]*(?:\s|$)))+(?:[.!?]+["')\]]*)?\s*|[.!?]+["')\]]*\s*/g;

interface Unit {
  text: string;
  tokens: number;
  /** First piece of a paragraph: joined to the previous piece with a blank line. */
  paragraphStart: boolean;
}

const PARAGRAPH_SEPARATOR = '\n\n';

/** Sentences (split further at words, then at tokens, when one is longer than maxTokens), marked by paragraph. */
function units(text: string, maxTokens: number): Unit[] {
  const out: Unit[] = [];
  for (const raw of text.split(/\n[ \t]*\n+/)) {
    const paragraph = raw.trim();
    if (paragraph === '') continue;
    const found = paragraph.match(SENTENCE) ?? [];
    const sentences = found.join('') === paragraph ? found : [paragraph];
    let first = true;
    for (const sentence of sentences) {
      const tokens = countTokens(sentence);
      const parts = tokens <= maxTokens ? [{ text: sentence, tokens }] : splitLong(sentence, maxTokens);
      for (const part of parts) {
        out.push({ ...part, paragraphStart: first });
        first = false;
      }
    }
  }
  return out;
}

/** Words (with their trailing whitespace) packed up to maxTokens; a word longer than that is cut. */
function splitLong(sentence: string, maxTokens: number): Array<{ text: string; tokens: number }> {
  const out: Array<{ text: string; tokens: number }> = [];
  let current = '';
  let currentTokens = 0;
  const flush = () => {
    if (current !== '') out.push({ text: current, tokens: countTokens(current) });
    current = '';
    currentTokens = 0;
  };
  for (const word of sentence.match(/\S+\s*/g) ?? []) {
    const tokens = countTokens(word);
    if (tokens > maxTokens) {
      flush();
      out.push(...cutWord(word, maxTokens));
    } else if (currentTokens + tokens <= maxTokens) {
      current += word;
      currentTokens += tokens;
    } else {
      flush();
      current = word;
      currentTokens = tokens;
    }
  }
  flush();
  return out.filter((p) => p.tokens <= maxTokens || p.text.trim() === '');
}

function cutWord(word: string, maxTokens: number): Array<{ text: string; tokens: number }> {
  const out: Array<{ text: string; tokens: number }> = [];
  const chars = [...word];
  let i = 0;
  while (i < chars.length) {
    // Grow by up to 256 characters at a time, then shrink until the piece fits.
    let end = Math.min(chars.length, i + Math.max(1, maxTokens));
    let piece = chars.slice(i, end).join('');
    let tokens = countTokens(piece);
    while (tokens > maxTokens && end - i > 1) {
      end = i + Math.max(1, Math.floor((end - i) / 2));
      piece = chars.slice(i, end).join('');
      tokens = countTokens(piece);
    }
    out.push({ text: piece, tokens });
    i = end;
  }
  return out;
}

function join(parts: Unit[]): string {
  return parts
    .map((u, i) => (i > 0 && u.paragraphStart ? `${PARAGRAPH_SEPARATOR}${u.text}` : u.text))
    .join('')
    .trim();
}

/**
 * Splits `text` into chunks of at most `maxTokens` cl100k_base tokens. Chunks end at a paragraph break when one
 * falls in the second half of the chunk, else at a sentence end; a sentence longer than a chunk is cut between
 * words, a word longer than a chunk between tokens. Consecutive chunks share up to `overlapTokens` tokens of
 * whole sentences (the end of one chunk repeated at the start of the next).
 */
export function splitByTokens(text: string, maxTokens: number, overlapTokens = 0): string[] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    throw new RangeError(`overlapTokens must be an integer in [0, maxTokens), got ${overlapTokens}`);
  }
  if (text.trim() === '') return [];
  if (countTokens(text) <= maxTokens) return [text.trim()];

  const all = units(text, maxTokens);
  const separator = countTokens(PARAGRAPH_SEPARATOR);
  const cost = (i: number, start: number) =>
    all[i].tokens + (i > start && all[i].paragraphStart ? separator : 0);
  const chunks: string[] = [];
  let start = 0;
  while (start < all.length) {
    let end = start;
    let total = 0;
    while (end < all.length && total + cost(end, start) <= maxTokens) total += cost(end++, start);
    if (end === start) end = start + 1;
    if (end < all.length) {
      // Prefer to end at a paragraph break in the second half of the chunk.
      let acc = 0;
      let best = -1;
      for (let i = start; i < end; i++) {
        if (i > start && all[i].paragraphStart && acc >= total / 2) best = i;
        acc += cost(i, start);
      }
      if (best > start) end = best;
    }
    // Token counts of joined pieces add up within a token or two; the exact count decides.
    while (end - start > 1 && countTokens(join(all.slice(start, end))) > maxTokens) end--;
    chunks.push(join(all.slice(start, end)));
    if (end >= all.length) break;
    let next = end;
    let overlap = 0;
    while (next - 1 > start) {
      const added = cost(next - 1, next - 1) + (next < end && all[next].paragraphStart ? separator : 0);
      if (overlap + added > overlapTokens || overlap + added + separator + all[end].tokens > maxTokens) break;
      overlap += added;
      next--;
    }
    start = next;
  }
  return chunks;
}
