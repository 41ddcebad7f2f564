import { REPORT } from '../testing/fixtures';
import { createSearchDocumentTool, PASSAGE_CONTEXT_CHARS, searchText } from './search-document';

describe(searchText.name, () => {
  const sut = searchText;

  it('finds a term case-insensitively, with its offset, line and heading', () => {
    const result = sut(REPORT, 'ANCHORAGE');

    expect(result.totalMatches).toBe(2);
    expect(result.truncated).toBe(false);
    expect(result.passages).toHaveLength(2);
    for (const passage of result.passages) {
      expect(REPORT.slice(passage.offset, passage.offset + 'anchorage'.length)).toBe('anchorage');
      expect(REPORT.split('\n')[passage.line - 1]).toContain('anchorage');
    }
    expect(result.passages[0]).toMatchObject({ heading: 'Findings', matches: 1 });
    expect(result.passages[0].text).toContain('mostly near the northern anchorage.');
    expect(result.passages[1].heading).toBe('Recommendations');
    expect(result.passages[1].text).toContain('follow-up inspection of the northern anchorage');
  });

  it('matches a phrase across any whitespace and cuts passages at word boundaries', () => {
    const text = `${'lorem ipsum '.repeat(40)}the load\n  rating is fine ${'dolor sit '.repeat(40)}`;

    const [passage] = sut(text, 'Load Rating').passages;

    expect(passage.offset).toBe(text.indexOf('load'));
    expect(passage.line).toBe(1);
    expect(passage.heading).toBeUndefined();
    expect(passage.text).toMatch(/^….*the load rating is fine.*…$/);
    expect(passage.text.length).toBeLessThan(2 * PASSAGE_CONTEXT_CHARS + 60);
    expect(passage.text.slice(1).split(' ')[0]).toMatch(/^(lorem|ipsum)$/);
  });

  it('treats the query as text, not as a regular expression', () => {
    expect(sut('costs 3.2 million, not 342 million', '3.2').totalMatches).toBe(1);
    expect(sut('a (b) c', '(b)').passages[0].offset).toBe(2);
  });

  it('counts nearby matches in one passage and stops at maxPassages', () => {
    const text = Array.from({ length: 10 }, (_, i) => `Part ${i}: the bridge. ${'x '.repeat(300)}`).join(
      '\n',
    );

    const result = sut(`${text} bridge bridge`, 'bridge', 3);

    expect(result.passages).toHaveLength(3);
    expect(result.totalMatches).toBe(12);
    expect(result.truncated).toBe(true);
    expect(result.passages.map((p) => p.line)).toEqual([1, 2, 3]);
  });

  it('merges matches that fall in the same passage', () => {
    const result = sut('Corrosion here, corrosion there.', 'corrosion');

    expect(result.totalMatches).toBe(2);
    expect(result.passages).toEqual([
      { offset: 0, line: 1, matches: 2, text: 'Corrosion here, corrosion there.' },
    ]);
  });

  it('returns no passage when nothing matches, and refuses an empty query', () => {
    expect(sut(REPORT, 'suspension cable')).toEqual({
      query: 'suspension cable',
      totalMatches: 0,
      passages: [],
      truncated: false,
    });
    expect(() => sut(REPORT, '   ')).toThrow('the query is empty');
  });
});

describe(createSearchDocumentTool.name, () => {
  it('searches the document of its own run', async () => {
    const first = createSearchDocumentTool({ name: 'a.md', text: 'The tunnel is long.' });
    const second = createSearchDocumentTool({
      name: 'b.md',
      text: 'No match here. A tunnel. Another tunnel.',
    });

    const a = JSON.parse(String(await first.invoke({ query: 'tunnel' }))) as Record<string, unknown>;
    const b = JSON.parse(String(await second.invoke({ query: 'tunnel', maxResults: 1 }))) as Record<
      string,
      unknown
    >;

    expect(a).toMatchObject({ document: 'a.md', documentLength: 19, totalMatches: 1 });
    expect(a['passages']).toEqual([{ offset: 4, line: 1, matches: 1, text: 'The tunnel is long.' }]);
    expect(b).toMatchObject({ document: 'b.md', totalMatches: 2, passages: [{ offset: 17, matches: 2 }] });
  });

  it('rejects arguments outside its schema', async () => {
    const sut = createSearchDocumentTool({ name: 'a.md', text: 'x' });

    await expect(sut.invoke({ query: 'x', maxResults: 0 })).rejects.toThrow(/did not match expected schema/);
  });
});
