/**
 * Durable identity events on JetStream, shared by identity (publisher) and the services that react to them
 * (user-details: new-user setup; key-vault, user-details, jobs and users-docs: deletions). Consumers are durable and
 * at-least-once, so handlers must be idempotent.
 */
export const IDENTITY_EVENTS_STREAM = 'IDENTITY_EVENTS';

export const IdentityEventSubjects = {
  /** A user signed up (or was created by a platform admin). Payload: {@link UserRegisteredEvent}. */
  userRegistered: 'identity.user.registered',
  /**
   * An account was deleted (its documents already are). Payload: {@link UserDeletedEvent}. Every service holding
   * data of the user removes it: key-vault its keys, user-details its details, jobs its jobs and schedules.
   */
  userDeleted: 'identity.user.deleted',
  /**
   * A team was deleted (by its owner, or with the account of its only member). Payload: {@link TeamDeletedEvent}.
   * key-vault drops the team's keys, users-docs its documents and their objects.
   */
  teamDeleted: 'identity.team.deleted',
} as const;

/** The filter that takes both deletion events (one filter per consumer on NATS 2.9). */
export const IDENTITY_DELETIONS_FILTER = 'identity.*.deleted';

/**
 * The subjects the JetStream stream IDENTITY_EVENTS captures, exactly: the events above. Never a wildcard such as
 * `identity.user.>`: the stream would then also capture identity's request/reply subjects (`identity.user.get`,
 * ...) and answer them with publish acknowledgements. The stream's one definition is `STREAMS.identityEvents` in
 * @docflow/messaging; whoever comes first (identity's outbox relay, or user-details' consumer) creates it.
 */
export const IDENTITY_EVENTS_STREAM_SUBJECTS: readonly string[] = Object.values(IdentityEventSubjects);

export interface UserRegisteredEvent {
  /** Unique per event; consumers de-duplicate on it as well as on `userId`. */
  eventId: string;
  userId: string;
  email: string;
  name: string;
  /** ISO 8601. */
  registeredAt: string;
}

export interface UserDeletedEvent {
  eventId: string;
  userId: string;
  /** ISO 8601. */
  deletedAt: string;
}

export interface TeamDeletedEvent {
  eventId: string;
  teamId: string;
  /** ISO 8601. */
  deletedAt: string;
}

/**
 * The durable consumers of the deletion events on IDENTITY_EVENTS, one per service (its replicas share it). Each
 * removes what its service holds of the deleted user or team, idempotently: a redelivered or repeated event, or
 * one for a user/team the service never knew, changes nothing more and is acknowledged.
 */
export const IdentityDeletionConsumers = {
  /** Filter {@link IDENTITY_DELETIONS_FILTER}: the user's or team's provider keys, data key and grants. */
  keyVault: 'key-vault',
  /** Filter `identity.user.deleted`: the user's details row. */
  userDetails: 'user-details-deletions',
  /** Filter `identity.user.deleted`: the user's jobs (stopped first), their events, grants and schedules. */
  jobs: 'jobs-deletions',
  /** Filter `identity.team.deleted`: the team's jobs (stopped first), their events and grants. */
  jobsTeams: 'jobs-team-deletions',
  /**
   * Filter `identity.team.deleted`: the team's documents and their objects (`teams/{team_id}/`). A user's own
   * documents go synchronously with the account (`users-docs.user.delete`), before the user event.
   */
  usersDocsTeams: 'users-docs-team-deletions',
} as const;

export type IdentityDeletion =
  | { kind: 'user'; id: string; event: UserDeletedEvent }
  | { kind: 'team'; id: string; event: TeamDeletedEvent };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A deletion event, checked, from its subject and payload; `id` is the user's or team's id in lower case.
 * `undefined` when the message is not one (a consumer terminates such a message rather than retrying it).
 */
export function parseIdentityDeletion(subject: string, data: Uint8Array): IdentityDeletion | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const common =
    typeof value.eventId === 'string' &&
    value.eventId.length > 0 &&
    value.eventId.length <= 200 &&
    typeof value.deletedAt === 'string';
  if (!common) return undefined;
  if (subject === IdentityEventSubjects.userDeleted) {
    const userId = value.userId;
    if (typeof userId !== 'string' || !UUID_PATTERN.test(userId)) return undefined;
    return { kind: 'user', id: userId.toLowerCase(), event: value as unknown as UserDeletedEvent };
  }
  if (subject === IdentityEventSubjects.teamDeleted) {
    const teamId = value.teamId;
    if (typeof teamId !== 'string' || !UUID_PATTERN.test(teamId)) return undefined;
    return { kind: 'team', id: teamId.toLowerCase(), event: value as unknown as TeamDeletedEvent };
  }
  return undefined;
}

/**
 * Who is calling, as the gateway's authentication guard puts it on the request (`request.principal`).
 * `user`: a person with a verified access token; `token`: a personal access token (limited to `scopes`);
 * `anonymous`: only reaches routes marked `@Public()`.
 */
export interface AuthPrincipal {
  kind: 'anonymous' | 'user' | 'token';
  userId?: string;
  /** Platform administrator: may reach any user's `/users/{user_id}` routes and `POST/GET /users`. */
  isAdmin?: boolean;
  /** Present for personal access tokens only. */
  scopes?: string[];
  /** Access-token id (`jti`) or personal-access-token id, for revocation checks and audit. */
  tokenId?: string;
}
