import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { consumerOpts, type JetStreamSubscription, type JsMsg, type NatsConnection } from 'nats';
import {
  DomainError,
  ErrorCode,
  JOB_EVENTS_STREAM,
  JobsSubjects,
  REQUEST_ID_HEADER,
  TERMINAL_JOB_STATUSES,
  jobEventsSubject,
  type Job,
  type JobEventPage,
  type JobEventPosition,
  type JobRef,
  type ListJobEventsRequest,
  type StoredJobEvent,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

const TERMINAL_EVENTS = new Set(['job_completed', 'job_failed', 'job_cancelled']);
/** How long a finished job's stream waits for JetStream's first message before deciding it has none. */
const FIRST_MESSAGE_WAIT_MS = 1_000;

/** Where a finished job's stream comes from, given what JetStream and the jobs service hold after the client's id. */
export type HistoryDecision = 'jetstream' | 'history' | 'finished';

/**
 * For a finished job, with a client resuming after sequence `afterSeq` (0: from the start): `first` is the first
 * message JetStream delivered after it (none within the wait), `history` the jobs service's first page of stored
 * events after it (undefined when it could not be asked), `streamFirstSeq` the stream's first sequence (asked only
 * when the stored events carry no sequence to compare with).
 *
 * - JetStream holds the next event the client needs (the stored one's sequence): from JetStream, as ever.
 * - The jobs service lists events after the client's id that JetStream no longer holds (expired after 7 days,
 *   purged, lost): from the stored history, its ids being the same sequences.
 * - Nothing follows the client's id and nothing waits in the outbox: `finished` (204).
 */
export function decideHistory(input: {
  afterSeq: number;
  first?: { seq: number };
  history?: JobEventPage;
  streamFirstSeq?: () => Promise<number | undefined>;
}): Promise<HistoryDecision> | HistoryDecision {
  const { afterSeq, first, history } = input;
  if (!history) return first || afterSeq === 0 ? 'jetstream' : 'finished';
  const next = history.items[0];
  if (!next) {
    if (first || history.pending) return 'jetstream';
    return afterSeq > 0 ? 'finished' : 'jetstream';
  }
  if (/^\d+$/.test(next.id)) return first && String(first.seq) === next.id ? 'jetstream' : 'history';
  // Events published before their sequence was recorded: JetStream serves them while it holds everything the
  // client needs, that is while its first sequence is at or below the one after the client's.
  return (async () => {
    const firstSeq = await input.streamFirstSeq?.().catch(() => undefined);
    const complete = firstSeq !== undefined && firstSeq <= afterSeq + 1;
    if (first) return complete ? 'jetstream' : 'history';
    return complete && afterSeq > 0 ? 'finished' : 'history';
  })();
}

/**
 * Serves a job's events as Server-Sent Events straight from JetStream: the stream's sequence is the SSE id,
 * so `Last-Event-ID` resumes exactly after the last event a client saw, a late subscriber gets the history
 * first, and any gateway replica serves any job. The stream ends after the job's final event.
 *
 * A finished job whose events JetStream no longer holds (JOB_EVENTS keeps 7 days) is served from the events the
 * jobs service stored (`jobs.job.events`, paged), with the same ids (each event's recorded sequence), then its
 * final event; see {@link decideHistory}. A running job's stream is JetStream's alone.
 */
@Injectable()
export class JobEventsStream {
  private readonly logger = new Logger(JobEventsStream.name);

  constructor(
    private readonly services: ServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async serve(
    job: Job,
    ref: JobRef,
    after: JobEventPosition,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const finished = TERMINAL_JOB_STATUSES.includes(job.status);
    if ('row' in after) {
      // A row id is sent only from a finished job's stored history: it resumes there.
      if (!finished) throw DomainError.validation('Last-Event-ID', 'must be an event id this stream sent');
      const page = await this.historyPage(ref, `pg-${after.row}`, true);
      if (page!.items.length === 0 && !page!.pending) {
        void reply.status(204).send();
        return;
      }
      return this.serveHistory(job, ref, page!, request, reply, `pg-${after.row}`);
    }
    const afterSeq = after.seq;
    const nc = (this.services as { natsConnection?: NatsConnection }).natsConnection;
    if (!nc || !this.services.isConnected()) {
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The event stream is unavailable; try again shortly',
      );
    }
    let messages: JetStreamSubscription;
    try {
      // An ordered push consumer: it works with nats-server 2.9 (the pull-based ordered consumer sends
      // `filter_subjects`, which only 2.10 understands) and redelivers nothing twice, in order.
      const options = consumerOpts();
      options.orderedConsumer();
      if (afterSeq > 0) options.startSequence(afterSeq + 1);
      else options.deliverAll();
      messages = await nc.jetstream().subscribe(jobEventsSubject(job.id), options);
    } catch (error) {
      this.logger.warn({
        msg: 'cannot open the job event stream',
        jobId: job.id,
        error: (error as Error).message,
      });
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The event stream is unavailable; try again shortly',
      );
    }

    const iterator = messages[Symbol.asyncIterator]();
    /** The first message, when a finished job's stream waited for it (taken from the iterator, still to send). */
    let first: Promise<IteratorResult<JsMsg>> | undefined;
    if (finished) {
      first = iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const [next, history] = await Promise.all([
        Promise.race([
          first.then((r) => (r.done ? undefined : r.value)),
          new Promise<undefined>(
            (resolve) => (timer = setTimeout(() => resolve(undefined), FIRST_MESSAGE_WAIT_MS)),
          ),
        ]),
        this.historyPage(ref, String(afterSeq), false),
      ]);
      clearTimeout(timer);
      let decision: HistoryDecision;
      try {
        decision = await decideHistory({
          afterSeq,
          ...(next ? { first: { seq: next.seq } } : {}),
          ...(history ? { history } : {}),
          streamFirstSeq: async () =>
            (await (await nc.jetstreamManager()).streams.info(JOB_EVENTS_STREAM)).state.first_seq,
        });
      } catch (error) {
        messages.unsubscribe();
        throw error;
      }
      if (decision !== 'jetstream') {
        messages.unsubscribe();
        // EventSource reconnects after a stream ends; for a finished job with nothing after the client's last
        // event, 204 tells it to stop (per the SSE specification) instead of a reconnect loop.
        if (decision === 'finished') void reply.status(204).send();
        else {
          this.logger.log({ msg: 'serving job events from the stored history', jobId: job.id, afterSeq });
          await this.serveHistory(job, ref, history!, request, reply, String(afterSeq));
        }
        return;
      }
    }

    void reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, this.headers(request));
    raw.write('retry: 3000\n\n');
    let lastId = afterSeq;
    const send = (id: number, type: string, data: unknown) =>
      raw.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    const heartbeat = setInterval(
      () => send(lastId, 'heartbeat', { jobId: job.id, at: new Date().toISOString() }),
      this.config.SSE_HEARTBEAT_MS,
    );
    // A finished job whose final event is not in the stream (still in the outbox) ends; the client reconnects.
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (!finished) return;
      clearTimeout(idle);
      idle = setTimeout(() => messages.unsubscribe(), 2_000);
    };
    raw.on('close', () => messages.unsubscribe());
    armIdle();
    try {
      for (let r = await (first ?? iterator.next()); !r.done; r = await iterator.next()) {
        const message = r.value;
        const data = message.json<{ type: string }>();
        lastId = message.seq;
        send(message.seq, data.type, data);
        if (TERMINAL_EVENTS.has(data.type)) break;
        armIdle();
      }
    } catch (error) {
      this.logger.warn({ msg: 'job event stream ended', jobId: job.id, error: (error as Error).message });
    } finally {
      clearInterval(heartbeat);
      clearTimeout(idle);
      messages.unsubscribe();
      raw.end();
    }
  }

  private headers(request: FastifyRequest): Record<string, string> {
    return {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      [REQUEST_ID_HEADER]: String(request.id),
    };
  }

  /**
   * A page of the job's stored events after `after`. `required`: its errors are the answer (a row id, which only
   * the history serves); otherwise undefined when the jobs service cannot answer, and JetStream alone decides.
   */
  private async historyPage(
    ref: JobRef,
    after: string,
    required: boolean,
  ): Promise<JobEventPage | undefined> {
    try {
      const page = await this.services.send<JobEventPage>(
        JobsSubjects.jobEvents,
        {
          userId: ref.userId,
          ...(ref.teamId ? { teamId: ref.teamId } : {}),
          jobId: ref.jobId,
          after,
        } satisfies ListJobEventsRequest,
        { timeoutMs: 5_000 },
      );
      if (!Array.isArray(page?.items)) throw new Error('the jobs service answered no page of events');
      return page;
    } catch (error) {
      if (required) throw error;
      this.logger.warn({
        msg: "cannot read the job's stored events; serving JetStream's",
        jobId: ref.jobId,
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  /**
   * Serves the stored history from `page` on, page by page, up to the job's final event, then ends. A page that
   * cannot be read ends the stream early: the client reconnects after the last id it saw.
   */
  private async serveHistory(
    job: Job,
    ref: JobRef,
    page: JobEventPage,
    request: FastifyRequest,
    reply: FastifyReply,
    lastSent?: string,
  ): Promise<void> {
    void reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, this.headers(request));
    raw.write('retry: 3000\n\n');
    let closed = false;
    raw.on('close', () => (closed = true));
    let lastId = lastSent ?? '0';
    const send = (id: string, type: string, data: unknown) =>
      raw.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    const heartbeat = setInterval(
      () => send(lastId, 'heartbeat', { jobId: job.id, at: new Date().toISOString() }),
      this.config.SSE_HEARTBEAT_MS,
    );
    try {
      for (let current: JobEventPage | undefined = page; current && !closed;) {
        for (const event of current.items as StoredJobEvent[]) {
          lastId = event.id;
          send(event.id, event.type, event.data);
          if (TERMINAL_EVENTS.has(event.type)) return;
        }
        if (!current.nextCursor) return;
        // Backpressure: a slow client holds the next page back rather than the gateway's memory.
        if (raw.writableNeedDrain)
          await new Promise((resolve) => {
            raw.once('drain', resolve);
            raw.once('close', resolve);
          });
        current = await this.historyPage(ref, current.nextCursor, true);
      }
    } catch (error) {
      this.logger.warn({
        msg: 'job event history ended early',
        jobId: job.id,
        error: (error as Error).message,
      });
    } finally {
      clearInterval(heartbeat);
      raw.end();
    }
  }
}
