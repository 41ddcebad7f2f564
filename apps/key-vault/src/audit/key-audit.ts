import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { KeyVaultAuditSubjects, type KeyAuditRecordedEvent, type KeyOwner } from '@docflow/contracts';
import { Clock } from '../common/clock';
import { OutboxRelay } from '../outbox/outbox.relay';

export type KeyAuditEntry = Omit<KeyAuditRecordedEvent, 'eventId' | 'at'>;

/**
 * Whose logs an event of this key goes to: a user's key, its owner's (`actorId` when someone else acted); a team's
 * key, the member who acted and the team's (`teamId`: its owners read it).
 */
export function auditParties(
  owner: KeyOwner,
  actorUserId: string,
): Pick<KeyAuditEntry, 'userId' | 'teamId' | 'actorId'> {
  if (owner.ownerType === 'team') return { userId: actorUserId, teamId: owner.ownerId };
  return owner.ownerId === actorUserId
    ? { userId: owner.ownerId }
    : { userId: owner.ownerId, actorId: actorUserId };
}

/**
 * Records key events in identity's audit log, durably: each goes into the vault's outbox in the transaction of the
 * operation it records (it commits or rolls back with it), and the relay publishes it to KEY_VAULT_AUDIT
 * (`key-vault.audit.recorded`) until JetStream has it; identity records it from there, once per event id. Identity
 * being down delays the record, never loses it. No secret ever goes into an event: ids, names and providers only.
 */
@Injectable()
export class KeyAudit {
  constructor(
    private readonly outbox: OutboxRelay,
    private readonly clock: Clock,
  ) {}

  /** Adds the event in the caller's transaction; call {@link published} after the commit. */
  async recordIn(manager: EntityManager, entry: KeyAuditEntry): Promise<string> {
    const event: KeyAuditRecordedEvent = {
      eventId: randomUUID(),
      ...entry,
      at: this.clock.now().toISOString(),
    };
    await this.outbox.add(manager, KeyVaultAuditSubjects.recorded, event);
    return event.eventId;
  }

  /** Publishes what the last commit added now rather than at the next poll. */
  published(): void {
    this.outbox.nudge();
  }
}
