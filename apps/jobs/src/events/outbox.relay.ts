import { Injectable, Logger } from '@nestjs/common';
import { JobsRepository } from '../jobs/jobs.repository';
import { EventsPublisher } from './events.publisher';

/**
 * The transactional outbox's relay. An event is stored with `pending = true` in the transaction that applies
 * it; right after the commit `flush(jobId)` hands the job's pending events to JetStream in the order they were
 * stored. If NATS is down or the service dies first, the events stay pending and `sweep()` (at start-up and
 * every few seconds) publishes them later. JetStream drops a repeated message id, so a crash between publish
 * and mark costs nothing.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  /** Per job: the drain running now, and whether another must follow it (events committed meanwhile). */
  private readonly draining = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly publisher: EventsPublisher,
  ) {}

  /**
   * Publishes the job's pending events. Calls that arrive while a drain runs are folded into one more drain
   * after it, so a burst of callbacks costs a few drains, not one each. Resolves when the events committed
   * before the call were handed to JetStream (or left pending after a failure, which is logged).
   */
  flush(jobId: string): Promise<void> {
    const running = this.draining.get(jobId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.drain(jobId);
        } while (state.again);
      } finally {
        this.draining.delete(jobId);
      }
    })();
    this.draining.set(jobId, state);
    return state.done;
  }

  private async drain(jobId: string): Promise<void> {
    for (;;) {
      const result = await this.jobs
        .drainOutbox(jobId, (event) => this.publisher.publishJson(event))
        .catch((error: unknown) => ({ published: 0, remaining: 1, failure: error as Error }));
      if (result.failure) {
        this.logger.warn({
          msg: 'job events left in the outbox; they are published later',
          jobId,
          pending: result.remaining,
          error: result.failure.message,
        });
        return;
      }
      if (result.published < 500) return;
    }
  }

  /** Publishes what earlier attempts (or another replica that died) left pending. */
  async sweep(limit = 200): Promise<number> {
    const jobIds = await this.jobs.jobsWithPendingEvents(limit);
    for (const jobId of jobIds) await this.flush(jobId);
    return jobIds.length;
  }
}
