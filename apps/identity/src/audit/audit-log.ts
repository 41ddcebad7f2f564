import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  PAGE_LIMIT_DEFAULT,
  type AuditEvent,
  type AuditEventPage,
  type AuditRecordRequest,
  type KeyAuditRecordedEvent,
  type ListAuditRequest,
  type ListTeamAuditRequest,
} from '@docflow/contracts';
import { decodeCursor, toPage } from '@docflow/database';
import { Clock } from '../common/clock';
import { AuditEventEntity } from './audit-event.entity';
import { AuditRepository } from './audit.repository';

export interface AuditEntry extends Omit<AuditRecordRequest, 'userId'> {
  /** Null: an event naming no account (a failed login for an unknown address). */
  userId: string | null;
}

export function toAuditEvent(entity: AuditEventEntity): AuditEvent {
  return {
    id: entity.id,
    type: entity.type,
    ...(entity.teamId ? { teamId: entity.teamId } : {}),
    ...(entity.actorId ? { actorId: entity.actorId } : {}),
    ...(entity.targetId ? { targetId: entity.targetId } : {}),
    ...(entity.ip ? { ip: entity.ip } : {}),
    ...(entity.userAgent ? { userAgent: entity.userAgent } : {}),
    ...(entity.details ? { details: entity.details } : {}),
    at: entity.createdAt.toISOString(),
  };
}

/** The security audit log. Recording never fails the operation it records (outside a transaction). */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
  ) {}

  entity(entry: AuditEntry): AuditEventEntity {
    return Object.assign(new AuditEventEntity(), {
      id: randomUUID(),
      userId: entry.userId,
      teamId: entry.teamId ?? null,
      type: entry.type,
      actorId: entry.actorId ?? null,
      targetId: entry.targetId ?? null,
      ip: entry.ip?.slice(0, 64) ?? null,
      userAgent: entry.userAgent?.slice(0, 256) ?? null,
      details: entry.details ?? null,
      createdAt: this.clock.now(),
    });
  }

  /** Inside a transaction: it commits or rolls back with the change it records. */
  async recordIn(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await this.repository.insert(this.entity(entry), manager);
  }

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.repository.insert(this.entity(entry));
    } catch (error) {
      this.logger.error({
        msg: 'could not write an audit event',
        type: entry.type,
        error: (error as Error).message,
      });
    }
  }

  /**
   * Records an event another service published (the key vault's, from KEY_VAULT_AUDIT): its event id is the row's
   * id and its time the row's, so a repeat (redelivered, or published twice) records nothing more. Throws when the
   * database fails (the consumer retries).
   */
  async recordPublished(event: KeyAuditRecordedEvent): Promise<'recorded' | 'duplicate'> {
    const entity = Object.assign(new AuditEventEntity(), {
      id: event.eventId,
      userId: event.userId ?? null,
      teamId: event.teamId ?? null,
      type: event.type,
      actorId: event.actorId ?? null,
      targetId: event.targetId ?? null,
      ip: null,
      userAgent: null,
      details: event.details ?? null,
      createdAt: new Date(event.at),
    });
    return (await this.repository.insertUnlessExists(entity)) ? 'recorded' : 'duplicate';
  }

  async list(request: ListAuditRequest): Promise<AuditEventPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.repository.list({ userId: request.userId }, limit + 1, after);
    return toPage(rows, limit, toAuditEvent);
  }

  /** A team's events (whoever acted), newest first: for its owners, as the gateway decided. */
  async listForTeam(request: ListTeamAuditRequest): Promise<AuditEventPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.repository.list({ teamId: request.teamId }, limit + 1, after);
    return toPage(rows, limit, (row) => ({
      ...(row.userId ? { userId: row.userId } : {}),
      ...toAuditEvent(row),
    }));
  }
}
