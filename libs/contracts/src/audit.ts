/**
 * Security events for the audit log, owned by identity. Any service publishes them fire-and-forget (plain NATS
 * publish, no reply): losing one must never fail the operation it records, and no secret goes into `details`.
 */
export const AuditSubjects = {
  record: 'identity.audit.record',
} as const;

export interface AuditRecord {
  /** `<area>.<event>`: `apikey.created`, `apikey.used`, `apikey.deleted`, `auth.login.succeeded`, ... */
  type: string;
  /** Who did it (absent for the system, e.g. a job step using a key). */
  actorUserId?: string;
  /** Whose resource it concerns, when that is a user. */
  subjectUserId?: string;
  details?: Record<string, unknown>;
  /** ISO 8601. */
  at: string;
}

/** The key vault's event types. */
export const KeyAuditEvents = {
  created: 'apikey.created',
  used: 'apikey.used',
  deleted: 'apikey.deleted',
} as const;
