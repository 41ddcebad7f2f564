import { headingOf, isKeyValueLine } from './summarize';
import { splitSentences } from './tokens';

const PLAIN_WORDS: Array<[string, string]> = [
  ['due to the fact that', 'because'],
  ['in the event that', 'if'],
  ['at this point in time', 'now'],
  ['in order to', 'to'],
  ['prior to', 'before'],
  ['with regard to', 'about'],
  ['a large number of', 'many'],
  ['approximately', 'about'],
  ['utilization', 'use'],
  ['utilize', 'use'],
  ['utilizes', 'uses'],
  ['commence', 'start'],
  ['commences', 'starts'],
  ['terminate', 'end'],
  ['subsequently', 'later'],
  ['facilitate', 'help'],
  ['facilitates', 'helps'],
  ['demonstrate', 'show'],
  ['demonstrates', 'shows'],
  ['additional', 'more'],
  ['numerous', 'many'],
  ['purchase', 'buy'],
  ['assistance', 'help'],
  ['endeavor', 'try'],
  ['sufficient', 'enough'],
  ['regarding', 'about'],
  ['therefore', 'so'],
  ['nevertheless', 'still'],
  ['obtain', 'get'],
  ['obtains', 'gets'],
  ['require', 'need'],
  ['requires', 'needs'],
  ['individuals', 'people'],
  ['methodology', 'method'],
  ['remuneration', 'pay'],
  ['consequently', 'so'],
  ['furthermore', 'also'],
  ['additionally', 'also'],
  ['modification', 'change'],
  ['modifications', 'changes'],
  ['objective', 'goal'],
];

function keepCase(original: string, replacement: string): string {
  return /^\p{Lu}/u.test(original) ? replacement[0].toUpperCase() + replacement.slice(1) : replacement;
}

export function plainWords(sentence: string): string {
  let out = sentence;
  for (const [from, to] of PLAIN_WORDS) {
    out = out.replace(new RegExp(`\\b${from}\\b`, 'gi'), (m) => keepCase(m, to));
  }
  return out;
}

export function wordCount(sentence: string): number {
  return sentence.split(/\s+/).filter(Boolean).length;
}

/** Splits a sentence longer than `maxWords` at semicolons, then at ", and" / ", but" / ", which"-style joints. */
export function shortenSentence(sentence: string, maxWords = 20): string[] {
  if (wordCount(sentence) <= maxWords) return [sentence];
  const end = /[.!?]+$/.exec(sentence)?.[0] ?? '.';
  const body = sentence.replace(/[.!?]+$/, '');
  const parts = body.split(/\s*;\s*|,\s+(?=(?:and|but|so|which|while|because|although|whereas)\s)/i);
  if (parts.length === 1) return [sentence];
  return parts
    .map((p) =>
      p.replace(/^(and|but|so|while|whereas)\s+/i, (_m, w: string) => (/^but$/i.test(w) ? 'But ' : '')),
    )
    .map((p) => p.replace(/^which\s+/i, 'This '))
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `${p[0].toUpperCase()}${p.slice(1)}${end}`)
    .flatMap((p) => (wordCount(p) < wordCount(sentence) ? shortenSentence(p, maxWords) : [p]));
}

/** Collapses "the the" style repeated words. */
export function dropRepeatedWords(text: string): string {
  return text.replace(/\b(\p{L}+)(\s+\1\b)+/giu, '$1');
}

/** Paragraph by paragraph: headings and code kept, sentences shortened and (when `plain`) worded plainly. */
export function simplify(text: string, options: { plain: boolean; maxWords?: number }): string {
  const paragraphs = text.split(/\n[ \t]*\n/);
  let inFence = false;
  return paragraphs
    .map((paragraph) => {
      const fences = (paragraph.match(/^\s*```/gm) ?? []).length;
      const wasInFence = inFence;
      if (fences % 2 === 1) inFence = !inFence;
      if (wasInFence || fences > 0) return paragraph;
      return paragraph
        .split('\n')
        .reduce<string[]>((lines, line) => {
          // Join a prose line wrapped in the middle of a sentence; keep headings, list items and fields apart.
          const previous = lines[lines.length - 1];
          const wrapped =
            previous !== undefined &&
            previous.length > 40 &&
            !/[.!?:]["')\]]*\s*$/.test(previous) &&
            !headingOf(previous) &&
            !isKeyValueLine(previous) &&
            /^\s*\p{Ll}/u.test(line);
          if (!wrapped) lines.push(line);
          else lines[lines.length - 1] = `${lines[lines.length - 1]} ${line.trim()}`;
          return lines;
        }, [])
        .map((line) => {
          if (headingOf(line) || isKeyValueLine(line)) return line.trimEnd();
          const marker = /^\s*(?:[-*+]|\d+[.)])\s+/.exec(line)?.[0] ?? '';
          const sentences = splitSentences(dropRepeatedWords(line.slice(marker.length)));
          const out = sentences
            .flatMap((s) => shortenSentence(s, options.maxWords ?? 20))
            .map((s) => (options.plain ? plainWords(s) : s));
          return `${marker}${out.join(' ')}`;
        })
        .join('\n');
    })
    .join('\n\n')
    .trim();
}
