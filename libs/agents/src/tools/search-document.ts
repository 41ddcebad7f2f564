import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { headingOf } from '../text/summarize';

export const DEFAULT_MAX_PASSAGES = 5;
export const MAX_PASSAGES = 20;
/** Characters shown on each side of a match. */
export const PASSAGE_CONTEXT_CHARS = 160;

export interface Passage {
  /** Character offset of the match in the document (0-based). */
  offset: number;
  /** Line of the match (1-based). */
  line: number;
  /** The nearest heading before the match, when the document has one. */
  heading?: string;
  /** How many matches this passage contains. */
  matches: number;
  /** The match with up to PASSAGE_CONTEXT_CHARS around it, cut at spaces; `…` marks a cut. */
  text: string;
}

export interface SearchResult {
  query: string;
  /** Every match in the document, including those beyond the passages returned. */
  totalMatches: number;
  passages: Passage[];
  /** True when more passages matched than were returned. */
  truncated: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Offsets of the lines that start with a heading, and the heading text. */
function headings(text: string): Array<{ offset: number; text: string }> {
  const out: Array<{ offset: number; text: string }> = [];
  let offset = 0;
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const heading = inFence ? undefined : headingOf(line);
    if (heading) out.push({ offset, text: heading.text });
    offset += line.length + 1;
  }
  return out;
}

/** Moves `from` back to just after a whitespace, at most `slack` characters (so words are not cut in half). */
function snapStart(text: string, from: number, slack = 20): number {
  for (let i = from; i > 0 && i > from - slack; i--) if (/\s/.test(text[i - 1])) return i;
  return from;
}

function snapEnd(text: string, to: number, slack = 20): number {
  for (let i = to; i < text.length && i < to + slack; i++) if (/\s/.test(text[i])) return i;
  return to;
}

/**
 * Passages of `text` that contain `query`, case-insensitively; whitespace in the query matches any whitespace
 * (a phrase may be broken over lines). Matches close enough to share a passage are counted in one passage.
 */
export function searchText(text: string, query: string, maxPassages = DEFAULT_MAX_PASSAGES): SearchResult {
  const phrase = query.trim();
  if (phrase === '') throw new Error('the query is empty');
  const pattern = new RegExp(phrase.split(/\s+/).map(escapeRegExp).join('\\s+'), 'giu');
  const marks = headings(text);
  const passages: Passage[] = [];
  let totalMatches = 0;
  let truncated = false;
  let lastEnd = -1;
  let line = 1;
  let lineCountedTo = 0;
  for (const match of text.matchAll(pattern)) {
    totalMatches++;
    const start = match.index;
    const end = start + match[0].length;
    const previous = passages.at(-1);
    if (previous && start < lastEnd) {
      previous.matches++;
      continue;
    }
    if (passages.length >= maxPassages) {
      truncated = true;
      continue;
    }
    for (; lineCountedTo < start; lineCountedTo++) if (text[lineCountedTo] === '\n') line++;
    const from = snapStart(text, Math.max(0, start - PASSAGE_CONTEXT_CHARS));
    const to = snapEnd(text, Math.min(text.length, end + PASSAGE_CONTEXT_CHARS));
    const body = text.slice(from, to).trim().replace(/\s+/g, ' ');
    const heading = [...marks].reverse().find((h) => h.offset <= start)?.text;
    passages.push({
      offset: start,
      line,
      ...(heading === undefined ? {} : { heading }),
      matches: 1,
      text: `${from > 0 ? '…' : ''}${body}${to < text.length ? '…' : ''}`,
    });
    lastEnd = to;
  }
  return { query: phrase, totalMatches, passages, truncated };
}

/** A search over the document of one run (each run builds its own, with its own document). */
export function createSearchDocumentTool(document: { name: string; text: string }) {
  return tool(
    ({ query, maxResults }) =>
      JSON.stringify({
        document: document.name,
        documentLength: document.text.length,
        ...searchText(document.text, query, maxResults ?? DEFAULT_MAX_PASSAGES),
      }),
    {
      name: 'search_document',
      description:
        'Searches the WHOLE current document (also the parts you were not shown) for a word or phrase, ' +
        'case-insensitively, and returns the passages that contain it with their position (character offset, ' +
        'line, nearest heading) and the total number of matches. Use it to find facts, names or numbers that ' +
        'may be elsewhere in a long document.',
      schema: z.object({
        query: z.string().min(1).max(200).describe('The word or phrase to find (not a regular expression)'),
        maxResults: z
          .number()
          .int()
          .min(1)
          .max(MAX_PASSAGES)
          .optional()
          .describe(`How many passages to return at most (default ${DEFAULT_MAX_PASSAGES})`),
      }),
    },
  );
}
