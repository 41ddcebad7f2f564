import { StepError } from '../step/step-error';

/**
 * Decodes a UTF-8 byte stream and yields pieces of at most `maxChars` characters, cut at a paragraph break,
 * else a sentence end, else a space, in the last quarter of the piece. Memory stays around one piece plus
 * one network chunk, whatever the size of the document. Invalid UTF-8 or NUL bytes fail permanently.
 */
export async function* textChunks(
  body: AsyncIterable<Uint8Array>,
  name: string,
  maxChars: number,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let first = true;
  const cut = (text: string): number => {
    const floor = Math.floor(maxChars * 0.75);
    for (const pattern of [/\n\s*\n/g, /[.!?]\s/g, /\s/g]) {
      let best = -1;
      for (const match of text.slice(0, maxChars).matchAll(pattern)) {
        const end = (match.index ?? 0) + match[0].length;
        if (end >= floor) best = end;
      }
      if (best > 0) return best;
    }
    return maxChars;
  };
  const decode = (bytes?: Uint8Array) => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw StepError.permanent(`${name} is not valid UTF-8 text`);
    }
  };
  for await (const bytes of body) {
    if (bytes.includes(0)) throw StepError.permanent(`${name} looks binary, not text`);
    pending += decode(bytes);
    if (first) {
      pending = pending.replace(/^\uFEFF/, '');
      first = false;
    }
    while (pending.length > maxChars) {
      const end = cut(pending);
      const piece = pending.slice(0, end).trim();
      pending = pending.slice(end);
      if (piece) yield piece;
    }
  }
  pending += decode();
  const rest = pending.trim();
  if (rest) yield rest;
}
