import type { JobEvent, JobEventType, JobStage } from '@docflow/contracts';
import { CallbackQueue } from './callback-queue';

interface Call {
  event: JobEvent;
  answer: (delivered: boolean) => void;
  fail: (error: Error) => void;
}

/** A `send` whose answers the test gives, one call at a time. */
function manualSend() {
  const calls: Call[] = [];
  const send = (event: JobEvent) =>
    new Promise<boolean>((resolve, reject) => calls.push({ event, answer: resolve, fail: reject }));
  return { calls, send };
}

function event(inputId: string, type: JobEventType, stage?: JobStage, progress?: number): JobEvent {
  return {
    id: ['job-1', 0, inputId, type, stage, progress].filter((p) => p !== undefined).join(':'),
    jobId: 'job-1',
    type,
    at: '2026-11-23T10:00:00.000Z',
    chunk: 0,
    inputId,
    docIds: [inputId],
    ...(stage ? { stage } : {}),
    ...(progress !== undefined ? { progress } : {}),
  };
}

/** Lets the queue's promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const names = (calls: Call[]) =>
  calls.map((c) =>
    [c.event.inputId, c.event.type, c.event.stage, c.event.progress].filter((x) => x !== undefined).join(' '),
  );

describe(CallbackQueue.name, () => {
  it("sends an input's events one after the other, each after the previous one was answered", async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send, concurrency: 8 });
    sut.push('a', event('a', 'stage_started', 'extract'));
    sut.push('a', event('a', 'stage_completed', 'extract'));
    sut.push('a', event('a', 'doc_completed'));
    expect(names(calls)).toEqual(['a stage_started extract']);

    calls[0]!.answer(true);
    await settle();
    expect(names(calls)).toEqual(['a stage_started extract', 'a stage_completed extract']);
    // Given up on (false) still lets the next one go, as awaited sends did.
    calls[1]!.answer(false);
    await settle();
    expect(names(calls)).toEqual(['a stage_started extract', 'a stage_completed extract', 'a doc_completed']);
    calls[2]!.answer(true);
    expect(await sut.flush()).toEqual({ queued: 3, delivered: 2, undelivered: 1, superseded: 0 });
  });

  it('sends different inputs side by side, at most `concurrency` at once, round-robin', async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send, concurrency: 2 });
    for (const input of ['a', 'b', 'c']) {
      sut.push(input, event(input, 'stage_started', 'extract'));
      sut.push(input, event(input, 'stage_completed', 'extract'));
    }
    expect(names(calls)).toEqual(['a stage_started extract', 'b stage_started extract']);

    calls[0]!.answer(true);
    await settle();
    // c waited longer than a's second event: it goes first.
    expect(names(calls).slice(2)).toEqual(['c stage_started extract']);
    calls[1]!.answer(true);
    await settle();
    expect(names(calls).slice(3)).toEqual(['a stage_completed extract']);
    for (let i = 2; i < 6; i++) {
      calls[i]!.answer(true);
      await settle();
    }
    expect(names(calls)).toHaveLength(6);
    // Every lane kept its own order.
    for (const input of ['a', 'b', 'c'])
      expect(names(calls).filter((n) => n.startsWith(`${input} `))).toEqual([
        `${input} stage_started extract`,
        `${input} stage_completed extract`,
      ]);
    expect(await sut.flush()).toMatchObject({ queued: 6, delivered: 6 });
  });

  it('drops a stage_progress superseded by a newer one or by the end of its stage before it was sent', async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send });
    sut.push('a', event('a', 'stage_started', 'transform'));
    sut.push('a', event('a', 'stage_progress', 'transform', 10));
    sut.push('a', event('a', 'stage_progress', 'transform', 20));
    sut.push('a', event('a', 'stage_progress', 'transform', 30));
    calls[0]!.answer(true);
    await settle();
    sut.push('a', event('a', 'stage_progress', 'transform', 40));
    sut.push('a', event('a', 'stage_completed', 'transform'));
    sut.push('a', event('a', 'stage_started', 'load'));
    calls[1]!.answer(true);
    await settle();
    calls[2]!.answer(true);
    await settle();
    calls[3]!.answer(true);
    expect(await sut.flush()).toEqual({ queued: 7, delivered: 4, undelivered: 0, superseded: 3 });
    expect(names(calls)).toEqual([
      'a stage_started transform',
      // 10 and 20 were queued behind 30; 30 was on its way when 40 came; 40 was queued behind the completion.
      'a stage_progress transform 30',
      'a stage_completed transform',
      'a stage_started load',
    ]);
  });

  it('never drops a stage_progress behind another event, nor one of another stage', async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send });
    sut.push('a', event('a', 'stage_started', 'extract'));
    sut.push('a', event('a', 'stage_progress', 'extract', 50));
    sut.push('a', event('a', 'stage_completed', 'transform'));
    sut.push('b', event('b', 'stage_progress', 'transform', 50));
    sut.push('b', event('b', 'doc_failed'));
    for (let i = 0; i < 5; i++) {
      calls[i]!.answer(true);
      await settle();
    }
    expect(await sut.flush()).toMatchObject({ queued: 5, delivered: 5, superseded: 0 });
  });

  it('flush waits for every event, retries and all, and resolves at once when nothing is pending', async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send });
    expect(await sut.flush()).toEqual({ queued: 0, delivered: 0, undelivered: 0, superseded: 0 });

    sut.push('a', event('a', 'stage_completed', 'load'));
    sut.push('a', event('a', 'doc_completed'));
    let flushed = false;
    const flushing = sut.flush().then(() => (flushed = true));
    calls[0]!.answer(true);
    await settle();
    expect(flushed).toBe(false);
    expect(sut.pending).toBe(1);
    calls[1]!.answer(true);
    await flushing;
    expect(flushed).toBe(true);
    expect(sut.pending).toBe(0);
  });

  it("idle(key) waits for that input's events only", async () => {
    const { calls, send } = manualSend();
    const sut = new CallbackQueue({ send });
    await sut.idle('a'); // nothing queued: at once
    sut.push('a', event('a', 'stage_started', 'extract'));
    sut.push('a', event('a', 'stage_started', 'transform'));
    sut.push('b', event('b', 'stage_started', 'extract'));
    let aIdle = false;
    const waiting = sut.idle('a').then(() => (aIdle = true));
    expect(names(calls)).toEqual(['a stage_started extract', 'b stage_started extract']);
    calls[0]!.answer(true);
    await settle();
    expect(aIdle).toBe(false);
    expect(names(calls)[2]).toBe('a stage_started transform');
    calls[2]!.answer(true);
    await waiting;
    expect(sut.pending).toBe(1); // b's is still on its way
    calls[1]!.answer(true);
    await sut.flush();
  });

  it('counts a send that throws as given up on, logs it, and goes on with the lane', async () => {
    const { calls, send } = manualSend();
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as never;
    const sut = new CallbackQueue({ send, logger });
    sut.push('a', event('a', 'stage_started', 'extract'));
    sut.push('a', event('a', 'doc_failed'));
    calls[0]!.fail(new Error('boom'));
    await settle();
    calls[1]!.answer(true);
    expect(await sut.flush()).toMatchObject({ delivered: 1, undelivered: 1 });
    expect(warnings).toEqual([
      expect.objectContaining({ msg: 'job callback not delivered', type: 'stage_started', error: 'boom' }),
    ]);
  });
});
