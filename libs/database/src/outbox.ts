import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Column, DataSource, Entity, Index, IsNull, PrimaryColumn, type EntityManager } from 'typeorm';
import type { NatsConnection } from 'nats';

/**
 * An event to publish on JetStream, written in the same transaction as the change it reports, so it is
 * published at least once whatever fails after the commit (the relay retries until JetStream acknowledges).
 * The same table (`outbox`) in the schema of each service that has one (identity, key-vault).
 */
@Entity({ name: 'outbox' })
@Index('IDX_outbox_pending', ['createdAt'], { where: 'published_at IS NULL' })
export class OutboxEventEntity {
  /** The event id; also the JetStream message id (duplicates within the stream's window are dropped). */
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError!: string | null;
}

export interface OutboxRelayOptions {
  /** The time rows are stamped with (tests move it). */
  now(): Date;
  /** The NATS connection when it is up; `undefined` while it is not (the pass waits for the next nudge). */
  connection(): NatsConnection | undefined;
  /** Creates the stream the subjects go to when it is missing (`ensureStream(nc, STREAMS.x)` of @docflow/messaging). */
  ensureStream(nc: NatsConnection): Promise<void>;
  /** Logger context. */
  name?: string;
  /** How often what a failure left is retried. */
  pollMs?: number;
  /**
   * How long a published row is kept (default 7 days, as long as the streams keep their messages) before a
   * later pass deletes it: the table holds what is pending and a recent history, not every event ever.
   */
  retainPublishedMs?: number;
}

const RETAIN_PUBLISHED_MS = 7 * 24 * 3600_000;
/** Pruning runs at most this often, and deletes at most PRUNE_BATCH rows a statement. */
const PRUNE_EVERY_MS = 3600_000;
const PRUNE_BATCH = 5_000;

const BATCH = 100;

/**
 * Publishes a service's outbox to JetStream: rows written in the same transaction as the change they report are
 * published, in order, until JetStream acknowledges each (at least once: the event id is the JetStream message
 * id, so a repeat within the stream's duplicate window is dropped, and consumers de-duplicate on it beyond).
 * Nudged after every commit that adds an event, and polled every second for what a failure left. Replicas share
 * the table: each takes the rows no other one holds (`FOR UPDATE SKIP LOCKED`).
 *
 * A service subclasses it as an injectable provider with its stream (identity: IDENTITY_EVENTS, key-vault:
 * KEY_VAULT_AUDIT) and calls `start()` / `stop()` from its lifecycle hooks.
 */
export class TransactionalOutbox {
  private readonly logger: Logger;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private streamReady = false;
  private prunedAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxRelayOptions,
  ) {
    this.logger = new Logger(options.name ?? 'OutboxRelay');
  }

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.options.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** An event row for `subject`, to insert in the caller's transaction; the id is `payload.eventId` when given. */
  async add(manager: EntityManager, subject: string, payload: { eventId?: string }): Promise<void> {
    await manager.getRepository(OutboxEventEntity).insert({
      id: payload.eventId ?? randomUUID(),
      subject,
      payload,
      createdAt: this.options.now(),
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

  /**
   * Deletes published rows older than `retainPublishedMs`, in batches (pending rows are never touched). Runs
   * from the relay's passes at most once an hour; returns how many rows went.
   */
  async prune(): Promise<number> {
    const cutoff = new Date(
      this.options.now().getTime() - (this.options.retainPublishedMs ?? RETAIN_PUBLISHED_MS),
    );
    const table = this.dataSource.getMetadata(OutboxEventEntity).tablePath;
    let total = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE published_at IS NOT NULL AND published_at < $1 LIMIT ${PRUNE_BATCH})`,
        [cutoff],
      )) as [unknown, number];
      total += count;
      if (count < PRUNE_BATCH) return total;
    }
  }

  /** Resolves when nothing is pending (tests). */
  async flushed(): Promise<boolean> {
    await this.running;
    return (await this.dataSource.getRepository(OutboxEventEntity).countBy({ publishedAt: IsNull() })) === 0;
  }

  private async drain(): Promise<void> {
    const nc = this.options.connection();
    if (!nc) return;
    if (!this.streamReady) {
      await this.options.ensureStream(nc);
      this.streamReady = true;
    }
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
              { publishedAt: this.options.now(), attempts: row.attempts + 1 },
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
      if (published < BATCH) break;
    }
    if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      const pruned = await this.prune();
      if (pruned > 0) this.logger.log({ msg: 'published outbox rows pruned', rows: pruned });
    }
  }
}
