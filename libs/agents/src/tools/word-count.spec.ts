import { REPORT } from '../testing/fixtures';
import { createWordCountTool, textStatistics, WORDS_PER_MINUTE } from './word-count';

describe(textStatistics.name, () => {
  const sut = textStatistics;

  it('counts words, sentences and paragraphs', () => {
    const text =
      "# Title\n\nThe bridge is 1,250 meters long. It isn't new!\n\nRepairs cost 3.2 million euros.\nDone";

    expect(sut(text)).toEqual({
      words: 16,
      sentences: 5,
      paragraphs: 3,
      characters: text.length,
      readingTimeMinutes: 1,
    });
  });

  it('gives the reading time in whole minutes, rounded up', () => {
    expect(sut('word '.repeat(WORDS_PER_MINUTE)).readingTimeMinutes).toBe(1);
    expect(sut('word '.repeat(WORDS_PER_MINUTE + 1)).readingTimeMinutes).toBe(2);
  });

  it('counts nothing in an empty or blank text', () => {
    expect(sut(' \n\n ')).toEqual({
      words: 0,
      sentences: 0,
      paragraphs: 0,
      characters: 4,
      readingTimeMinutes: 0,
    });
  });
});

describe(createWordCountTool.name, () => {
  const sut = createWordCountTool({ name: 'report.md', text: REPORT });

  it('counts the document when no text is given', async () => {
    const result = JSON.parse(String(await sut.invoke({}))) as Record<string, unknown>;

    expect(result).toEqual({ of: 'document report.md', ...textStatistics(REPORT) });
    expect(result['words']).toBeGreaterThan(150);
  });

  it('counts the given text', async () => {
    const result = JSON.parse(String(await sut.invoke({ text: 'Two words.' }))) as Record<string, unknown>;

    expect(result).toMatchObject({ of: 'the given text', words: 2, sentences: 1, paragraphs: 1 });
  });
});
