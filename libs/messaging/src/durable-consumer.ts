import { Logger } from '@nestjs/common';
import { consumerOpts, type JetStreamPullSubscription, type JsMsg, type StreamConfig } from 'nats';
import { DomainError, ErrorCode } from '@docflow/contracts';
import { runWithRequestContext } from '@docflow/observability';
import type { NatsRpcClient } from './nats-rpc.client';
import { ensureStream } from './streams';

/** What a handler made of an event: done (acknowledged), or not yet (delivered again after a growing delay). */
export type ConsumeOutcome = { kind: 'done' } | { kind: 'retry'; reason: string };

export interface DurableConsumerOptions<T> {
  /** The stream the events are in (created when missing, like every other user of it does). */
  stream: Partial<StreamConfig> & { name: string; subjects: string[] };
  /** The durable consumer's name: replicas of one service share it, each service has its own. */
  durable: string;
  /** One subject or one wildcard (`identity.*.deleted`): NATS 2.9 takes a single filter per consumer. */
  filterSubject: string;
  /** How long a delivered event may stay unacknowledged before JetStream delivers it again. */
  ackWaitMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** The event, checked; `undefined` when the message is not one (it is terminated, never retried). */
  parse(subject: string, data: Uint8Array): T | undefined;
  handle(event: T, subject: string): Promise<ConsumeOutcome>;
  /** The request id the handler's logs carry. */
  requestId(event: T): string;
  /** Identifies the event in logs (ids only, never secrets). */
  describe(event: T): Record<string, unknown>;
}

const BATCH = 10;

/** Codes that say "not now" rather than "never": the event is delivered again later. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.STORAGE_UNAVAILABLE,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INTERNAL,
]);
const PULL_EXPIRES_MS = 5_000;

/**
 * A durable JetStream pull consumer: at least once, in order of arrival, shared by the replicas of a service.
 * An event is acknowledged after its handler has committed; a handler that could not finish (or asked to retry)
 * gets the event again with a growing delay, and one still running tells JetStream so (`working`) every third of
 * the ack wait; a `DomainError` other than unavailable, storage unavailable, rate limited or internal is a refusal
 * that retrying would not change, so the event is terminated and logged. While the service is down the events wait
 * in the stream. Binding retries until NATS and JetStream answer, so no start-up order is needed.
 */
export class DurableConsumer<T> {
  private readonly logger: Logger;
  private subscription?: JetStreamPullSubscription;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly nats: NatsRpcClient,
    private readonly options: DurableConsumerOptions<T>,
    loggerContext = `DurableConsumer(${options.durable})`,
  ) {
    this.logger = new Logger(loggerContext);
  }

  /** True once the consumer is bound and pulling. */
  isActive(): boolean {
    return !!this.subscription && !this.subscription.isClosed();
  }

  start(): void {
    this.running = this.bindForever();
  }

  private async bindForever(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        if (this.nats.natsConnection && this.nats.isConnected()) {
          await this.bind();
          return;
        }
      } catch (error) {
        if (attempt % 20 === 0)
          this.logger.warn({ msg: 'JetStream not ready yet', error: (error as Error).message });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async bind(): Promise<void> {
    const nc = this.nats.natsConnection!;
    const { stream, durable, filterSubject, ackWaitMs } = this.options;
    await ensureStream(nc, stream);
    const opts = consumerOpts();
    opts.durable(durable);
    opts.filterSubject(filterSubject);
    opts.deliverAll();
    opts.ackExplicit();
    opts.manualAck();
    opts.ackWait(ackWaitMs);
    opts.maxAckPending(100);
    const subscription = await nc.jetstream().pullSubscribe(filterSubject, opts);
    if (this.stopped) {
      subscription.unsubscribe();
      return;
    }
    this.subscription = subscription;
    const pull = () => {
      if (!subscription.isClosed()) subscription.pull({ batch: BATCH, expires: PULL_EXPIRES_MS });
    };
    pull();
    // One pull is always waiting: a new event is delivered at once; a full batch asks for the next at once.
    this.timer = setInterval(pull, PULL_EXPIRES_MS);
    this.logger.log({ msg: 'consuming events', consumer: durable, subject: filterSubject });
    void (async () => {
      let received = 0;
      for await (const msg of subscription) {
        await this.handle(msg);
        if (++received % BATCH === 0) pull();
      }
    })();
  }

  private retryDelay(msg: JsMsg): number {
    const attempt = Math.max(msg.info.redeliveryCount, 1);
    return Math.min(this.options.retryBaseMs * 2 ** (attempt - 1), this.options.retryMaxMs);
  }

  /** Handles one delivered message (public for tests that hand messages in directly). */
  async handle(msg: JsMsg): Promise<void> {
    const event = this.options.parse(msg.subject, msg.data);
    if (!event) {
      this.logger.error({
        msg: 'not an event of this consumer; dropped',
        subject: msg.subject,
        seq: msg.seq,
      });
      msg.term();
      return;
    }
    const about = this.options.describe(event);
    // A handler that takes long (an erasure cancelling many jobs) tells JetStream it is still at it, so the
    // event is not delivered to another replica meanwhile.
    const working = setInterval(() => msg.working(), Math.max(1_000, Math.floor(this.options.ackWaitMs / 3)));
    await runWithRequestContext({ requestId: this.options.requestId(event).slice(0, 128) }, async () => {
      try {
        const outcome = await this.options.handle(event, msg.subject);
        if (outcome.kind === 'done') {
          await msg.ackAck().catch(() => msg.ack());
          return;
        }
        const delayMs = this.retryDelay(msg);
        this.logger.warn({
          msg: 'event not handled yet; will retry',
          ...about,
          delayMs,
          reason: outcome.reason,
        });
        msg.nak(delayMs);
      } catch (error) {
        const permanent = error instanceof DomainError && !TRANSIENT.has(error.code);
        if (permanent) {
          this.logger.error({
            msg: 'event refused; dropped',
            ...about,
            code: error.code,
            error: error.message,
          });
          msg.term();
          return;
        }
        const delayMs = this.retryDelay(msg);
        this.logger.error({
          msg: 'event failed; will retry',
          ...about,
          delayMs,
          error: (error as Error).message,
        });
        msg.nak(delayMs);
      } finally {
        clearInterval(working);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    if (this.subscription && !this.subscription.isClosed())
      await this.subscription.drain().catch(() => undefined);
  }
}
