import { DomainError, parseJobEventId, type JobEventPage } from '@docflow/contracts';
import { decideHistory } from './job-events.stream';
import { lastEventPosition } from './jobs.controller';

const page = (ids: string[], pending = false): JobEventPage => ({
  items: ids.map((id) => ({
    id,
    type: 'stage_started',
    data: { jobId: 'j', type: 'stage_started', at: '' },
  })),
  pending,
});

describe("a finished job's events: JetStream or the stored history", () => {
  it('reads JetStream while it holds the next event the client needs', async () => {
    expect(await decideHistory({ afterSeq: 0, first: { seq: 7 }, history: page(['7', '9']) })).toBe(
      'jetstream',
    );
    expect(await decideHistory({ afterSeq: 7, first: { seq: 9 }, history: page(['9']) })).toBe('jetstream');
  });

  it('reads the stored history when JetStream lost what the client needs (nothing, or a later message)', async () => {
    expect(await decideHistory({ afterSeq: 0, history: page(['7', '9']) })).toBe('history');
    expect(await decideHistory({ afterSeq: 7, history: page(['9']) })).toBe('history');
    // Expired from the front: JetStream's first message of the job is a later one.
    expect(await decideHistory({ afterSeq: 0, first: { seq: 9 }, history: page(['7', '9']) })).toBe(
      'history',
    );
  });

  it('answers 204 when nothing follows the client and nothing waits in the outbox', async () => {
    expect(await decideHistory({ afterSeq: 9, history: page([]) })).toBe('finished');
    // Events still to be published: JetStream has them shortly.
    expect(await decideHistory({ afterSeq: 9, history: page([], true) })).toBe('jetstream');
    // From the start, a job with no stored events: JetStream's, as before.
    expect(await decideHistory({ afterSeq: 0, history: page([]) })).toBe('jetstream');
  });

  it('decides on JetStream alone when the history cannot be read, as before', async () => {
    expect(await decideHistory({ afterSeq: 3, first: { seq: 4 } })).toBe('jetstream');
    expect(await decideHistory({ afterSeq: 3 })).toBe('finished');
    expect(await decideHistory({ afterSeq: 0 })).toBe('jetstream');
  });

  it("events stored without a sequence: JetStream while its first sequence is at or below the client's next", async () => {
    const first = (seq: number) => async () => seq;
    expect(
      await decideHistory({
        afterSeq: 0,
        first: { seq: 5 },
        history: page(['pg-1']),
        streamFirstSeq: first(1),
      }),
    ).toBe('jetstream');
    expect(
      await decideHistory({
        afterSeq: 0,
        first: { seq: 50 },
        history: page(['pg-1']),
        streamFirstSeq: first(40),
      }),
    ).toBe('history');
    expect(await decideHistory({ afterSeq: 8, history: page(['pg-1']), streamFirstSeq: first(3) })).toBe(
      'finished',
    );
    expect(await decideHistory({ afterSeq: 8, history: page(['pg-1']), streamFirstSeq: first(30) })).toBe(
      'history',
    );
    const broken = async () => {
      throw new Error('no stream');
    };
    expect(
      await decideHistory({
        afterSeq: 0,
        first: { seq: 5 },
        history: page(['pg-1']),
        streamFirstSeq: broken,
      }),
    ).toBe('history');
  });
});

describe('Last-Event-ID', () => {
  it('is a sequence or a row id; absent or empty is the start', () => {
    expect(lastEventPosition(undefined)).toEqual({ seq: 0 });
    expect(lastEventPosition('')).toEqual({ seq: 0 });
    expect(lastEventPosition('42')).toEqual({ seq: 42 });
    expect(lastEventPosition('pg-0017')).toEqual({ row: '17' });
    for (const bad of ['pg-', 'pg-1x', '-1', '1.5', 'x', '1234567890123456'])
      expect(() => lastEventPosition(bad)).toThrow(DomainError);
    expect(parseJobEventId('pg-123456789012345678')).toEqual({ row: '123456789012345678' });
  });
});
