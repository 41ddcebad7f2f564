import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import {
  KeyAuditEvents,
  KeyVaultAuditConsumers,
  KeyVaultAuditSubjects,
  type KeyAuditRecordedEvent,
} from '@docflow/contracts';
import { DurableConsumer, NatsRpcClient, STREAMS } from '@docflow/messaging';
import { AuditLog } from './audit-log';

/** What the key vault may record: checked here, since it comes from another service. */
const keyAuditEventSchema = z
  .object({
    eventId: z.uuid(),
    type: z.enum(Object.values(KeyAuditEvents) as [string, ...string[]]),
    userId: z.uuid().optional(),
    teamId: z.uuid().optional(),
    actorId: z.uuid().optional(),
    targetId: z.string().min(1).max(100).optional(),
    details: z.record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()])).optional(),
    at: z.iso.datetime({ offset: true }),
  })
  .strict()
  .refine((e) => e.userId || e.teamId, { message: 'names no user and no team' })
  .refine((e) => !e.details || JSON.stringify(e.details).length <= 2048, {
    path: ['details'],
    message: 'at most 2 KB',
  });

const logger = new Logger('KeyAuditConsumer');

/** The event, checked; `undefined` (terminated, never retried) when it is not one. */
export function parseKeyAuditEvent(subject: string, data: Uint8Array): KeyAuditRecordedEvent | undefined {
  if (subject !== KeyVaultAuditSubjects.recorded) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  const parsed = keyAuditEventSchema.safeParse(value);
  if (!parsed.success) {
    logger.error({
      msg: 'not a key audit event',
      issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    });
    return undefined;
  }
  return parsed.data as KeyAuditRecordedEvent;
}

/**
 * Records the key vault's events in the audit log, from the durable JetStream pull consumer `identity-key-audit`
 * on `key-vault.audit.recorded` (stream KEY_VAULT_AUDIT; see {@link DurableConsumer}): at least once, acknowledged
 * once the row is committed, retried with a growing delay when the database fails. Idempotent: the row's id is the
 * event id (`ON CONFLICT DO NOTHING`), so a redelivery or a second publication records nothing more. While
 * identity is down the events wait in the stream.
 */
@Injectable()
export class KeyAuditConsumer extends DurableConsumer<KeyAuditRecordedEvent> {
  constructor(nats: NatsRpcClient, audit: AuditLog) {
    super(
      nats,
      {
        stream: STREAMS.keyVaultAudit,
        durable: KeyVaultAuditConsumers.identity,
        filterSubject: KeyVaultAuditSubjects.recorded,
        ackWaitMs: 30_000,
        retryBaseMs: 1_000,
        retryMaxMs: 60_000,
        parse: parseKeyAuditEvent,
        handle: async (event) => {
          await audit.recordPublished(event);
          return { kind: 'done' };
        },
        requestId: (event) => `event-${event.eventId}`,
        describe: (event) => ({ eventId: event.eventId, type: event.type, targetId: event.targetId }),
      },
      KeyAuditConsumer.name,
    );
  }
}
