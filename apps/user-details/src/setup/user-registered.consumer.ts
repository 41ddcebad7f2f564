import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  consumerOpts,
  RetentionPolicy,
  StorageType,
  type JetStreamPullSubscription,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import {
  DomainError,
  ErrorCode,
  IDENTITY_EVENTS_STREAM,
  IdentityEventSubjects,
  USER_DETAILS_CONSUMER,
  type UserRegisteredEvent,
} from '@docflow/contracts';
import { NatsRpcClient } from '@docflow/messaging';
import { runWithRequestContext } from '@docflow/observability';
import { USER_DETAILS_CONFIG, type UserDetailsConfig } from '../config';
import { SetupNewUserUseCase } from './setup-new-user.usecase';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BATCH = 10;
const PULL_EXPIRES_MS = 5_000;

/** The event, checked; undefined when it is not one (such a message is terminated, never retried). */
export function parseUserRegistered(data: Uint8Array): UserRegisteredEvent | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<UserRegisteredEvent>;
    const ok =
      typeof value.eventId === 'string' &&
      value.eventId.length > 0 &&
      typeof value.userId === 'string' &&
      UUID.test(value.userId) &&
      typeof value.email === 'string' &&
      value.email.includes('@') &&
      typeof value.name === 'string' &&
      typeof value.registeredAt === 'string';
    return ok ? (value as UserRegisteredEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the new-user setup for every `identity.user.registered` event, from the durable JetStream pull consumer
 * `user-details` on the stream IDENTITY_EVENTS: at least once, in order of arrival, shared by the replicas.
 * The event is acked after the setup has committed; a setup that could not finish is nak'ed with a growing
 * delay and comes back; while the service is down the events wait in the stream.
 */
@Injectable()
export class UserRegisteredConsumer {
  private readonly logger = new Logger(UserRegisteredConsumer.name);
  private subscription?: JetStreamPullSubscription;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly nats: NatsRpcClient,
    private readonly setup: SetupNewUserUseCase,
    @Inject(USER_DETAILS_CONFIG) private readonly config: UserDetailsConfig,
  ) {}

  /** True once the consumer is bound and pulling. */
  isActive(): boolean {
    return !!this.subscription && !this.subscription.isClosed();
  }

  /** Binds the consumer as soon as NATS and JetStream answer, retrying until `stop()`. */
  start(): void {
    this.running = this.bindForever();
  }

  private async bindForever(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const nc = this.nats.natsConnection;
      try {
        if (nc && this.nats.isConnected()) {
          await this.bind(nc);
          return;
        }
      } catch (error) {
        if (attempt % 20 === 0)
          this.logger.warn({ msg: 'JetStream not ready yet', error: (error as Error).message });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async bind(nc: NatsConnection): Promise<void> {
    await this.ensureStream(nc);
    const opts = consumerOpts();
    opts.durable(USER_DETAILS_CONSUMER);
    opts.filterSubject(IdentityEventSubjects.userRegistered);
    opts.deliverAll();
    opts.ackExplicit();
    opts.manualAck();
    opts.ackWait(this.config.SETUP_ACK_WAIT_MS);
    opts.maxAckPending(100);
    const subscription = await nc.jetstream().pullSubscribe(IdentityEventSubjects.userRegistered, opts);
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
    this.logger.log({ msg: 'consuming identity events', consumer: USER_DETAILS_CONSUMER });
    void (async () => {
      let received = 0;
      for await (const msg of subscription) {
        await this.handle(msg);
        if (++received % BATCH === 0) pull();
      }
    })();
  }

  /** Creates the stream when identity has not yet (whoever comes first creates it; both create the same). */
  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(IDENTITY_EVENTS_STREAM);
    } catch {
      await jsm.streams.add({
        name: IDENTITY_EVENTS_STREAM,
        subjects: [IdentityEventSubjects.userRegistered],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: 30 * 24 * 3600 * 1_000_000_000,
        duplicate_window: 120 * 1_000_000_000,
      });
    }
  }

  private retryDelay(msg: JsMsg): number {
    const attempt = Math.max(msg.info.redeliveryCount, 1);
    return Math.min(this.config.SETUP_RETRY_BASE_MS * 2 ** (attempt - 1), this.config.SETUP_RETRY_MAX_MS);
  }

  async handle(msg: JsMsg): Promise<void> {
    const event = parseUserRegistered(msg.data);
    if (!event) {
      this.logger.error({ msg: 'not a user-registered event; dropped', seq: msg.seq });
      msg.term();
      return;
    }
    await runWithRequestContext({ requestId: `event-${event.eventId}`.slice(0, 128) }, async () => {
      try {
        const outcome = await this.setup.execute(event);
        if (outcome.kind === 'done') {
          await msg.ackAck().catch(() => msg.ack());
          return;
        }
        const delay = this.retryDelay(msg);
        this.logger.warn({
          msg: 'setup waits for identity; will retry',
          userId: event.userId,
          delayMs: delay,
          reason: outcome.reason,
        });
        msg.nak(delay);
      } catch (error) {
        const permanent =
          error instanceof DomainError &&
          error.code !== ErrorCode.SERVICE_UNAVAILABLE &&
          error.code !== ErrorCode.INTERNAL;
        if (permanent) {
          // Identity refused the request itself: retrying changes nothing. The row stays `pending_team`.
          this.logger.error({
            msg: 'setup refused; left pending',
            userId: event.userId,
            code: error.code,
            error: error.message,
          });
          msg.term();
          return;
        }
        const delay = this.retryDelay(msg);
        this.logger.error({
          msg: 'setup failed; will retry',
          userId: event.userId,
          delayMs: delay,
          error: (error as Error).message,
        });
        msg.nak(delay);
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
