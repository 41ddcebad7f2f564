import { Injectable, Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import {
  DomainError,
  ErrorCode,
  JOB_CALLBACKS_CONSUMER,
  JOB_CALLBACKS_STREAM,
  type BufferedCallback,
} from '@docflow/contracts';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { ApplyJobEventUseCase } from '../jobs/apply-job-event.usecase';

/** Refusals that a retry cannot change: the callback is dropped (and logged), as its direct answer would say. */
const FINAL_REFUSALS = new Set<ErrorCode>([
  ErrorCode.VALIDATION_FAILED,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.NOT_FOUND,
  ErrorCode.FORBIDDEN,
  ErrorCode.CONFLICT,
]);

/**
 * Applies the callbacks the gateway buffered in JetStream while this service could not be reached, through a
 * durable consumer: at least once (duplicate event ids are dropped when applied), acknowledged only after the
 * event was applied, retried later when a dependency (PostgreSQL, users-docs) fails.
 */
@Injectable()
export class CallbackInbox {
  private readonly logger = new Logger(CallbackInbox.name);
  private messages?: ConsumerMessages;
  private stopped = false;

  constructor(
    private readonly nats: NatsRpcClient,
    private readonly events: ApplyJobEventUseCase,
  ) {}

  /** Consumes until `stop()`; reconnects by itself. */
  async run(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.consume();
        attempt = 0;
      } catch (error) {
        if (attempt % 20 === 0)
          this.logger.warn({
            msg: 'buffered callbacks: consumer not ready',
            error: (error as Error).message,
          });
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async consume(): Promise<void> {
    const nc = this.nats.natsConnection;
    if (!nc || !this.nats.isConnected()) throw new Error('NATS is not connected');
    await ensureStream(nc, STREAMS.jobCallbacks);
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.consumers.info(JOB_CALLBACKS_STREAM, JOB_CALLBACKS_CONSUMER);
    } catch {
      await jsm.consumers.add(JOB_CALLBACKS_STREAM, {
        durable_name: JOB_CALLBACKS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1_000_000_000,
      });
    }
    const consumer = await nc.jetstream().consumers.get(JOB_CALLBACKS_STREAM, JOB_CALLBACKS_CONSUMER);
    this.messages = await consumer.consume({ max_messages: 32 });
    if (this.stopped) await this.messages.close();
    for await (const message of this.messages) await this.handle(message);
  }

  async handle(message: JsMsg): Promise<void> {
    let callback: BufferedCallback;
    try {
      callback = message.json<BufferedCallback>();
    } catch {
      this.logger.warn({ msg: 'buffered callback dropped: not JSON', seq: message.seq });
      message.term();
      return;
    }
    try {
      const { receivedAt, ...request } = callback;
      await this.events.record(request, { receivedAt });
      message.ack();
    } catch (error) {
      if (error instanceof DomainError && FINAL_REFUSALS.has(error.code)) {
        this.logger.warn({
          msg: 'buffered callback refused',
          jobId: callback.jobId,
          code: error.code,
          error: error.message,
        });
        message.term();
        return;
      }
      this.logger.warn({
        msg: 'buffered callback not applied yet; retrying',
        jobId: callback.jobId,
        error: (error as Error).message,
      });
      message.nak(2_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
  }
}
