import type { JobEvent } from '@docflow/contracts';
import type { Logger } from '@docflow/observability';

/** Callbacks of one step in flight at once, across its inputs. */
export const CALLBACK_CONCURRENCY = 8;

export interface CallbackQueueOptions {
  /** Delivers one event (with its own retries); `false` when it gave up on it. */
  send: (event: JobEvent) => Promise<boolean>;
  /** Callbacks in flight at once, across lanes. */
  concurrency?: number;
  logger?: Logger;
}

export interface CallbackQueueStats {
  /** Events pushed. */
  queued: number;
  /** Answered with a 2xx. */
  delivered: number;
  /** Given up on after the client's retries (logged by the client). */
  undelivered: number;
  /** `stage_progress` events dropped unsent because a newer one, or the stage's end, was queued behind them. */
  superseded: number;
}

interface Lane {
  key: string;
  events: JobEvent[];
  /** In the ready list or being sent: exactly one of the two. */
  scheduled: boolean;
  /** `idle(key)` callers, resolved when the lane runs empty. */
  idle: (() => void)[];
}

/**
 * Delivers a step's callbacks without making the step wait for each answer. Events are pushed into one lane
 * per key (an input): a lane sends its events one after the other, each only after the previous one was
 * answered or given up on, so the events of an input reach the receiver in the order they happened. Lanes run
 * side by side, at most `concurrency` callbacks in flight, served round-robin.
 *
 * A `stage_progress` still waiting in its lane is dropped when a newer `stage_progress` or the
 * `stage_completed` of the same stage is pushed right behind it: an input's progress only moves forward, so the
 * receiver ends in the same state with fewer callbacks. Nothing else is ever dropped or reordered.
 *
 * `idle(key)` resolves once a lane's events so far were delivered or given up on, `flush()` once every lane's
 * were; the step awaits the latter before it reports its result and exits, so no event is lost with the process.
 */
export class CallbackQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly ready: Lane[] = [];
  private readonly concurrency: number;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private readonly counts: CallbackQueueStats = { queued: 0, delivered: 0, undelivered: 0, superseded: 0 };

  constructor(private readonly options: CallbackQueueOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? CALLBACK_CONCURRENCY);
  }

  get stats(): CallbackQueueStats {
    return { ...this.counts };
  }

  /** Events pushed and not yet delivered or given up on (in flight included). */
  get pending(): number {
    return this.counts.queued - this.counts.delivered - this.counts.undelivered - this.counts.superseded;
  }

  push(key: string, event: JobEvent): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, events: [], scheduled: false, idle: [] };
      this.lanes.set(key, lane);
    }
    if (event.type === 'stage_progress' || event.type === 'stage_completed') {
      for (let last = lane.events.at(-1); last; last = lane.events.at(-1)) {
        if (last.type !== 'stage_progress' || last.stage !== event.stage) break;
        lane.events.pop();
        this.counts.superseded++;
      }
    }
    lane.events.push(event);
    this.counts.queued++;
    if (!lane.scheduled) {
      lane.scheduled = true;
      this.ready.push(lane);
    }
    this.pump();
  }

  /** Resolves once every event pushed so far under `key` was delivered or given up on. */
  async idle(key: string): Promise<void> {
    const lane = this.lanes.get(key);
    if (lane) await new Promise<void>((resolve) => lane.idle.push(resolve));
  }

  /** Resolves once every event pushed so far was delivered or given up on. */
  async flush(): Promise<CallbackQueueStats> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.stats;
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.ready.length > 0) {
      const lane = this.ready.shift()!;
      const event = lane.events.shift()!;
      this.inFlight++;
      void this.deliver(lane, event);
    }
  }

  private async deliver(lane: Lane, event: JobEvent): Promise<void> {
    let delivered = false;
    try {
      delivered = await this.options.send(event);
    } catch (error) {
      this.options.logger?.warn({
        msg: 'job callback not delivered',
        eventId: event.id,
        type: event.type,
        error: (error as Error)?.message ?? String(error),
      });
    }
    if (delivered) this.counts.delivered++;
    else this.counts.undelivered++;
    this.inFlight--;
    if (lane.events.length > 0) this.ready.push(lane);
    else {
      lane.scheduled = false;
      this.lanes.delete(lane.key);
      for (const resolve of lane.idle.splice(0)) resolve();
    }
    this.pump();
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
