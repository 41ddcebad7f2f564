import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import type { NatsConnection } from 'nats';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { OutboxEventEntity } from './outbox-event.entity';

const BATCH = 100;
const POLL_MS = 1_000;

/**
 * Publishes the outbox to JetStream: rows written in the same transaction as the change they report are
 * published, in order, until JetStream acknowledges each (at least once: the event id is the JetStream
 * message id, so a repeat within the stream's duplicate window is dropped, and consumers de-duplicate on it
 * beyond). Nudged after every commit that adds an event, and polled every second for what a failure left.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private streamReady = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsRpcClient,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.nudge(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** An event row for `subject`, to insert in the caller's transaction. */
  async add(manager: EntityManager, subject: string, payload: { eventId?: string }): Promise<void> {
    await manager.getRepository(OutboxEventEntity).insert({
      id: payload.eventId ?? randomUUID(),
      subject,
      payload,
      createdAt: this.clock.now(),
      publishedAt: null,
      attempts: 0,
      lastError: null,
    });
  }

  /** Publishes what is pending now (coalesces calls that come while a pass runs). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'outbox pass failed', error: (error as Error).message }),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Resolves when nothing is pending (tests). */
  async flushed(): Promise<boolean> {
    await this.running;
    return (await this.dataSource.getRepository(OutboxEventEntity).countBy({ publishedAt: IsNull() })) === 0;
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    if (this.streamReady) return;
    await ensureStream(nc, STREAMS.identityEvents);
    this.streamReady = true;
  }

  private async drain(): Promise<void> {
    const nc = this.nats.natsConnection;
    if (!nc || !this.nats.isConnected()) return;
    await this.ensureStream(nc);
    const js = nc.jetstream();
    for (;;) {
      // One relay at a time per row: replicas skip rows another one holds.
      const published = await this.dataSource.transaction(async (manager) => {
        const rows = await manager
          .getRepository(OutboxEventEntity)
          .createQueryBuilder('o')
          .where('o.published_at IS NULL')
          .orderBy('o.created_at', 'ASC')
          .addOrderBy('o.id', 'ASC')
          .limit(BATCH)
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getMany();
        for (const row of rows) {
          try {
            await js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.id });
            await manager.update(
              OutboxEventEntity,
              { id: row.id },
              { publishedAt: this.clock.now(), attempts: row.attempts + 1 },
            );
          } catch (error) {
            // The stream may have been removed: make sure it exists again on the next pass.
            this.streamReady = false;
            await manager.update(
              OutboxEventEntity,
              { id: row.id },
              { attempts: row.attempts + 1, lastError: (error as Error).message.slice(0, 500) },
            );
            this.logger.warn({
              msg: 'could not publish an event; will retry',
              eventId: row.id,
              error: (error as Error).message,
            });
            return -1;
          }
        }
        return rows.length;
      });
      if (published < BATCH) return;
    }
  }
}
