import { textChunks } from './text-chunks';

async function collect(parts: (string | Uint8Array)[], max: number): Promise<string[]> {
  async function* source() {
    for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
  }
  const out: string[] = [];
  for await (const chunk of textChunks(source(), 'doc.txt', max)) out.push(chunk);
  return out;
}

describe(textChunks.name, () => {
  it('cuts at paragraph breaks and never exceeds the maximum', async () => {
    const paragraph = 'Sentence one is here. Sentence two follows it.';
    const text = Array.from({ length: 20 }, () => paragraph).join('\n\n');
    const sut = await collect([text.slice(0, 300), text.slice(300)], 200);
    expect(sut.every((c) => c.length <= 200)).toBe(true);
    expect(sut.join('\n\n')).toBe(text);
    expect(sut[0]!.endsWith('it.')).toBe(true);
  });

  it('keeps a multi-byte character split across network chunks whole', async () => {
    const bytes = Buffer.from('héllo wörld');
    const sut = await collect([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)], 100);
    expect(sut).toEqual(['héllo wörld']);
  });

  it('cuts a long run without spaces at the maximum', async () => {
    const sut = await collect(['x'.repeat(250)], 100);
    expect(sut.map((c) => c.length)).toEqual([100, 100, 50]);
  });

  it.each([
    ['invalid UTF-8', [Buffer.from([0x48, 0xc3, 0x28])], 'doc.txt is not valid UTF-8 text'],
    ['NUL bytes', [Buffer.from([0x41, 0x00, 0x42])], 'doc.txt looks binary, not text'],
  ])('fails permanently on %s', async (_label, parts, message) => {
    await expect(collect(parts, 100)).rejects.toMatchObject({ kind: 'permanent', message });
  });
});
