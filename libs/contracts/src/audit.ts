/**
 * The security audit log, owned by identity: the one definition of its subjects, event types and payloads.
 * Identity records its own events; the key vault publishes its own durably (its transactional outbox → the
 * JetStream stream KEY_VAULT_AUDIT, subject `key-vault.audit.recorded`), and identity's durable consumer records
 * each once, by its event id. A user reads the events that concern them at `GET /api/v1/auth/audit`; a team's
 * owners read the events of the team (`teamId`) at `GET /api/v1/teams/{team_id}/audit`. No secret ever goes into
 * an event.
 */
import type { ClientInfo } from './identity';
import type { Page, PageQuery } from './pagination';

export const AuditSubjects = {
  /** {@link ListAuditRequest} → {@link AuditEventPage}: the gateway's `GET /auth/audit`. */
  list: 'identity.audit.list',
  /**
   * {@link ListTeamAuditRequest} → {@link AuditEventPage}: the gateway's `GET /teams/{team_id}/audit`, asked once
   * the gateway decided the caller may (`team.audit.read`: owners).
   */
  teamList: 'identity.audit.team-list',
} as const;

/**
 * The key vault's audit events on JetStream: stream KEY_VAULT_AUDIT (its one definition is `STREAMS.keyVaultAudit`
 * in @docflow/messaging), one exact subject (never a wildcard that would capture the vault's request subjects).
 * Published from the vault's outbox with the event id as `Nats-Msg-Id`; identity's durable consumer
 * ({@link KeyVaultAuditConsumers}) records each once (the audit row's id is the event id).
 */
export const KEY_VAULT_AUDIT_STREAM = 'KEY_VAULT_AUDIT';
export const KeyVaultAuditSubjects = {
  /** Payload: {@link KeyAuditRecordedEvent}. */
  recorded: 'key-vault.audit.recorded',
} as const;
export const KEY_VAULT_AUDIT_STREAM_SUBJECTS: readonly string[] = Object.values(KeyVaultAuditSubjects);
export const KeyVaultAuditConsumers = {
  /** identity: records the events in its audit log. */
  identity: 'identity-key-audit',
} as const;

/** The key vault's events: a provider key stored, released to a job (a grant resolved), deleted. */
export const KeyAuditEvents = {
  created: 'key.created',
  used: 'key.used',
  deleted: 'key.deleted',
} as const;

export const AUDIT_EVENT_TYPES = [
  'signup',
  'login.succeeded',
  'login.failed',
  'login.rate_limited',
  'logout',
  'refresh.reused',
  'token.created',
  'token.revoked',
  'team.created',
  'team.deleted',
  'team.member.added',
  'team.member.updated',
  'team.member.removed',
  'admin.user.created',
  'admin.granted',
  KeyAuditEvents.created,
  KeyAuditEvents.used,
  KeyAuditEvents.deleted,
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** An event as identity records it (its own events; the key vault's arrive as {@link KeyAuditRecordedEvent}). */
export interface AuditRecordRequest extends ClientInfo {
  /** The user the event concerns (who may read it). */
  userId: string;
  /** The team the event concerns, when one does: its owners read it too (`GET /teams/{team_id}/audit`). */
  teamId?: string;
  type: AuditEventType;
  /** The account that did it, when not the user themself (an admin, a team member). */
  actorId?: string;
  /** What it concerns: a token id, a key id, a team id. Never a secret. */
  targetId?: string;
  /** Short, non-secret facts (provider, job id, reason). At most 2 KB as JSON. */
  details?: Record<string, string | number | boolean>;
}

/**
 * A key event as the vault publishes it (`key-vault.audit.recorded`). `userId`: whose log (a user's key: its
 * owner; a team's key: the member who acted); `teamId`: a team's key. At least one of the two. `at`: when the
 * operation happened (ISO 8601), which is the time the log shows, whenever identity records it.
 */
export interface KeyAuditRecordedEvent {
  /** A UUID: the JetStream message id and the id of the audit row (a repeat records nothing more). */
  eventId: string;
  type: (typeof KeyAuditEvents)[keyof typeof KeyAuditEvents];
  userId?: string;
  teamId?: string;
  actorId?: string;
  targetId?: string;
  details?: Record<string, string | number | boolean>;
  at: string;
}

export interface AuditEvent {
  id: string;
  type: AuditEventType;
  /** In a team's log only: the member the event concerns (who acted, or who was added, changed, removed). */
  userId?: string;
  /** The team the event concerns (its key, its members). */
  teamId?: string;
  /** Who did it, when not the user the event concerns (an owner who added a member, an admin). */
  actorId?: string;
  targetId?: string;
  ip?: string;
  userAgent?: string;
  details?: Record<string, string | number | boolean>;
  at: string;
}

export interface ListAuditRequest extends PageQuery {
  userId: string;
}

export interface ListTeamAuditRequest extends PageQuery {
  teamId: string;
}

export type AuditEventPage = Page<AuditEvent>;
