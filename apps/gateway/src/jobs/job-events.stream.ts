import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { consumerOpts, type JetStreamSubscription, type JsMsg, type NatsConnection } from 'nats';
import {
  DomainError,
  ErrorCode,
  REQUEST_ID_HEADER,
  TERMINAL_JOB_STATUSES,
  jobEventsSubject,
  type Job,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

const TERMINAL_EVENTS = new Set(['job_completed', 'job_failed', 'job_cancelled']);

/**
 * Serves a job's events as Server-Sent Events straight from JetStream: the stream's sequence is the SSE id,
 * so `Last-Event-ID` resumes exactly after the last event a client saw, a late subscriber gets the history
 * first, and any gateway replica serves any job. The stream ends after the job's final event.
 */
@Injectable()
export class JobEventsStream {
  private readonly logger = new Logger(JobEventsStream.name);

  constructor(
    private readonly services: ServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async serve(job: Job, afterSeq: number, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const nc = (this.services as { natsConnection?: NatsConnection }).natsConnection;
    if (!nc || !this.services.isConnected()) {
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The event stream is unavailable; try again shortly',
      );
    }
    let messages: JetStreamSubscription;
    let pending: JsMsg | undefined;
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
    const finished = TERMINAL_JOB_STATUSES.includes(job.status);
    if (finished && afterSeq > 0) {
      // EventSource reconnects after a stream ends; for a finished job with nothing after the client's last
      // event, 204 tells it to stop (per the SSE specification) instead of a reconnect loop.
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([
        iterator.next().then((r) => (r.done ? undefined : r.value)),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000))),
      ]);
      clearTimeout(timer);
      if (!next) {
        messages.unsubscribe();
        void reply.status(204).send();
        return;
      }
      pending = next;
    }

    void reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      [REQUEST_ID_HEADER]: String(request.id),
    });
    raw.write('retry: 3000\n\n');
    let lastId = afterSeq;
    const send = (id: number, type: string, data: unknown) =>
      raw.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    const heartbeat = setInterval(
      () => send(lastId, 'heartbeat', { jobId: job.id, at: new Date().toISOString() }),
      this.config.SSE_HEARTBEAT_MS,
    );
    // A finished job whose final event is no longer in the stream (older than its retention) still ends.
    let idle: NodeJS.Timeout | undefined;
    const finishedAlready = finished;
    const armIdle = () => {
      if (!finishedAlready) return;
      clearTimeout(idle);
      idle = setTimeout(() => messages.unsubscribe(), 2_000);
    };
    raw.on('close', () => messages.unsubscribe());
    armIdle();
    try {
      if (pending) {
        const data = pending.json<{ type: string }>();
        lastId = pending.seq;
        send(pending.seq, data.type, data);
        if (TERMINAL_EVENTS.has(data.type)) return;
      }
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
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
}
