/** What `run` answers for one item of a batch: its result, or the error that item alone gets. */
export type BatchOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Entry<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs work for one key at a time, in batches: items submitted while a batch of the same key runs are taken
 * together by the next one, in the order they were submitted. Different keys run side by side. The first item
 * of an idle key starts at once (no waiting to fill a batch).
 *
 * When a batch of several items fails as a whole (`run` throws), each of its items is run again on its own, so
 * one item that cannot be applied does not fail the others.
 */
export class KeyedBatcher<I, R> {
  private readonly queues = new Map<string, Entry<I, R>[]>();

  constructor(
    private readonly run: (key: string, items: I[]) => Promise<BatchOutcome<R>[]>,
    private readonly maxBatch = 100,
  ) {}

  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      const fresh: Entry<I, R>[] = [{ item, resolve, reject }];
      this.queues.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: string, queue: Entry<I, R>[]): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, this.maxBatch);
        try {
          this.settle(
            batch,
            await this.run(
              key,
              batch.map((e) => e.item),
            ),
          );
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          for (const entry of batch) {
            try {
              this.settle([entry], await this.run(key, [entry.item]));
            } catch (single) {
              entry.reject(single);
            }
          }
        }
      }
    } finally {
      this.queues.delete(key);
    }
  }

  private settle(batch: Entry<I, R>[], outcomes: BatchOutcome<R>[]): void {
    batch.forEach((entry, i) => {
      const outcome = outcomes[i];
      if (!outcome) entry.reject(new Error('no outcome for a batched item'));
      else if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    });
  }
}
