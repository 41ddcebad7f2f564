/**
 * The security audit log, owned by identity: the one definition of its subjects, event types and payloads.
 * Identity records its own events; other services (the key vault) send theirs to `identity.audit.record`, which
 * checks them against these types. A user reads the events that concern them at `GET /api/v1/auth/audit`.
 * Recording never fails the operation it records, and no secret ever goes into an event.
 */
import type { ClientInfo } from './identity';
import type { Page, PageQuery } from './pagination';

export const AuditSubjects = {
  /** Request/reply: {@link AuditRecordRequest} → `{ id }` (`VALIDATION_FAILED` naming the field). Internal only. */
  record: 'identity.audit.record',
  /** {@link ListAuditRequest} → {@link AuditEventPage}: the gateway's `GET /auth/audit`. */
  list: 'identity.audit.list',
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

export interface AuditRecordRequest extends ClientInfo {
  /** The user the event concerns (who may read it). */
  userId: string;
  type: AuditEventType;
  /** The account that did it, when not the user themself (an admin, a team member). */
  actorId?: string;
  /** What it concerns: a token id, a key id, a team id. Never a secret. */
  targetId?: string;
  /** Short, non-secret facts (provider, job id, reason). At most 2 KB as JSON. */
  details?: Record<string, string | number | boolean>;
}

export interface AuditEvent {
  id: string;
  type: AuditEventType;
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

export type AuditEventPage = Page<AuditEvent>;
