import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { splitSentences } from '../text/tokens';

/** Silent reading speed of an adult reading non-fiction, in words per minute. */
export const WORDS_PER_MINUTE = 238;

export interface TextStatistics {
  words: number;
  /** Sentences; a heading or a line without end punctuation counts as one. */
  sentences: number;
  /** Blocks of text separated by blank lines. */
  paragraphs: number;
  characters: number;
  /** At WORDS_PER_MINUTE, rounded up to whole minutes (0 for a text without words). */
  readingTimeMinutes: number;
}

const WORD = /[\p{L}\p{N}]+(?:['’.,-][\p{L}\p{N}]+)*/gu;

export function textStatistics(text: string): TextStatistics {
  const words = text.match(WORD)?.length ?? 0;
  const sentences = splitSentences(text).filter((s) => /[\p{L}\p{N}]/u.test(s)).length;
  const paragraphs = text.split(/\n[ \t]*\n/).filter((p) => /[\p{L}\p{N}]/u.test(p)).length;
  return {
    words,
    sentences,
    paragraphs,
    characters: [...text].length,
    readingTimeMinutes: Math.ceil(words / WORDS_PER_MINUTE),
  };
}

/** Counts of a given text, or of the run's document when no text is given. */
export function createWordCountTool(document: { name: string; text: string }) {
  return tool(
    ({ text }) =>
      JSON.stringify(
        text === undefined
          ? { of: `document ${document.name}`, ...textStatistics(document.text) }
          : { of: 'the given text', ...textStatistics(text) },
      ),
    {
      name: 'word_count',
      description:
        'Counts words, sentences and paragraphs and estimates the reading time (minutes, at ' +
        `${WORDS_PER_MINUTE} words a minute) of a text. Without "text" it counts the whole current document. ` +
        'Use it to check a length limit ("at most 200 words") instead of counting yourself.',
      schema: z.object({
        text: z.string().optional().describe('The text to count; leave it out to count the whole document'),
      }),
    },
  );
}
