import { longDocument } from '../testing/fixtures';
import { countTokens, splitByTokens } from './tokens';

describe(splitByTokens.name, () => {
  const sut = splitByTokens;

  it('returns a short text as one chunk', () => {
    expect(sut('Hello world. Second sentence.', 100, 10)).toEqual(['Hello world. Second sentence.']);
  });

  it('returns no chunk for blank text', () => {
    expect(sut('  \n\n ', 100, 0)).toEqual([]);
  });

  it.each([
    [50, 0],
    [50, 20],
    [120, 30],
    [300, 100],
  ])('never exceeds maxTokens=%i (overlap %i) and covers every sentence', (max, overlap) => {
    const text = longDocument(12);
    const chunks = sut(text, max, overlap);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(countTokens(chunk)).toBeLessThanOrEqual(max);
    const joined = chunks.join('\n\n');
    for (let p = 1; p <= 12; p++) {
      for (let s = 1; s <= 6; s++) expect(joined).toContain(`Paragraph ${p} sentence ${s} describes`);
    }
  });

  it('cuts on paragraph boundaries when paragraphs fit', () => {
    const text = longDocument(6);
    const chunks = sut(text, 200, 0);
    for (const chunk of chunks) {
      expect(chunk.startsWith('## Section') || chunk.startsWith('Paragraph')).toBe(true);
      expect(chunk.endsWith('detail.') || /## Section \d+$/.test(chunk)).toBe(true);
    }
  });

  it('repeats the tail of a chunk at the start of the next one when overlapping', () => {
    const text = longDocument(8);
    const chunks = sut(text, 120, 40);
    const sentences = (chunk: string): string[] => chunk.match(/Paragraph \d+ sentence \d+/g) ?? [];
    let overlapping = 0;
    for (let i = 1; i < chunks.length; i++) {
      const previous = sentences(chunks[i - 1]);
      if (previous.includes(sentences(chunks[i])[0])) overlapping++;
    }
    expect(overlapping).toBeGreaterThan(0);
  });

  it('splits an over-long sentence at words and an over-long word at tokens', () => {
    const sentence = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const word = 'x'.repeat(5000);
    const chunks = sut(`${sentence}\n\n${word}`, 40, 0);
    for (const chunk of chunks) expect(countTokens(chunk)).toBeLessThanOrEqual(40);
    expect(chunks.join(' ')).toContain('word0 word1');
    expect(chunks.join(' ')).toContain('word299');
    expect(chunks.join('').replace(/[^x]/g, '').length).toBe(5000);
  });

  it('rejects impossible bounds', () => {
    expect(() => sut('text', 0, 0)).toThrow(RangeError);
    expect(() => sut('text', 10, 10)).toThrow(RangeError);
    expect(() => sut('text', 10, -1)).toThrow(RangeError);
  });
});

describe('special tokens in a document', () => {
  it('counts and splits text that contains <|endoftext|> as ordinary characters', () => {
    const text = 'A paragraph that mentions <|endoftext|> and <|fim_prefix|> literally.';
    expect(countTokens(text)).toBeGreaterThan(10);
    expect(splitByTokens(text, 5, 0).join('')).toContain('<|endoftext|>');
  });
});
