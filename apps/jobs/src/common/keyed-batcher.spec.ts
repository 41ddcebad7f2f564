import { KeyedBatcher, type BatchOutcome } from './keyed-batcher';

describe(KeyedBatcher.name, () => {
  /** Runs batches when told to, recording what each got. */
  function setup(fail: (items: string[]) => boolean = () => false) {
    const batches: { key: string; items: string[] }[] = [];
    const gates: (() => void)[] = [];
    const sut = new KeyedBatcher<string, string>(async (key, items) => {
      batches.push({ key, items });
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail(items)) throw new Error(`batch ${items.join(',')} failed`);
      return items.map((item): BatchOutcome<string> =>
        item.startsWith('bad')
          ? { ok: false, error: new Error(item) }
          : { ok: true, value: item.toUpperCase() },
      );
    }, 3);
    const release = async () => {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      gates.shift()!();
    };
    return { sut, batches, release };
  }

  it('starts the first item at once and takes what arrived meanwhile as the next batch, in order, at most maxBatch', async () => {
    const { sut, batches, release } = setup();
    const results = ['a', 'b', 'c', 'd', 'e'].map((item) => sut.submit('job-1', item));
    await release();
    await release();
    await release();
    await expect(Promise.all(results)).resolves.toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(batches.map((b) => b.items)).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('runs different keys side by side', async () => {
    const { sut, batches, release } = setup();
    const one = sut.submit('job-1', 'a');
    const two = sut.submit('job-2', 'b');
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.key)).toEqual(['job-1', 'job-2']);
    await release();
    await release();
    await expect(Promise.all([one, two])).resolves.toEqual(['A', 'B']);
  });

  it("rejects an item's own error alone, and runs a failed batch's items one by one", async () => {
    const { sut, batches, release } = setup((items) => items.includes('poison') && items.length > 1);
    const first = sut.submit('job-1', 'a');
    const rest = ['bad-1', 'poison', 'c'].map((item) => sut.submit('job-1', item));
    const settled = Promise.allSettled([first, ...rest]);
    for (let i = 0; i < 5; i++) await release();
    const results = await settled;
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'A',
      'bad-1',
      'POISON',
      'C',
    ]);
    expect(batches.map((b) => b.items)).toEqual([
      ['a'],
      ['bad-1', 'poison', 'c'],
      ['bad-1'],
      ['poison'],
      ['c'],
    ]);
  });
});
