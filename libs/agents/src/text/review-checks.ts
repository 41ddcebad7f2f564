import { bodySentences, words } from './summarize';
import { wordCount } from './simplify';

export const MAX_SENTENCE_WORDS = 35;

/**
 * The mechanical checks the offline critic applies to a draft; each failure is one line of feedback.
 * `source` is the original document, when the critic has it.
 */
export function reviewDraft(draft: string, source?: string): string[] {
  const problems: string[] = [];
  if (draft.trim() === '') return ['The draft is empty.'];
  bodySentences(draft).forEach((sentence, i) => {
    const n = wordCount(sentence);
    if (n > MAX_SENTENCE_WORDS) {
      problems.push(
        `Sentence ${i + 1} has ${n} words (at most ${MAX_SENTENCE_WORDS}): "${sentence.slice(0, 60)}…"`,
      );
    }
  });
  const repeated = /\b(\p{L}+)\s+\1\b/iu.exec(draft);
  if (repeated) problems.push(`Repeated word: "${repeated[0]}".`);
  const placeholder = /\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum|\[citation needed\]/i.exec(draft);
  if (placeholder) problems.push(`Unfinished placeholder left in the text: "${placeholder[0]}".`);
  if ((draft.match(/^\s*```/gm) ?? []).length % 2 === 1) problems.push('A code block is not closed.');
  if (source) {
    const have = words(draft).length;
    const want = words(source).length;
    if (want > 0 && have < want * 0.5) {
      problems.push(`The draft keeps ${have} of ${want} content words: content seems to be missing.`);
    }
  }
  return problems;
}
