/**
 * The identity service's request/reply subjects and payloads: accounts, sessions (access + refresh
 * tokens), personal access tokens, teams and the audit log. Events on JetStream are in identity-events.ts.
 */
import { AuditSubjects } from './audit';
import type { Page, PageQuery } from './pagination';

export const IdentitySubjects = {
  healthCheck: 'identity.health.check',
  signup: 'identity.auth.signup',
  login: 'identity.auth.login',
  refresh: 'identity.auth.refresh',
  logout: 'identity.auth.logout',
  /** The public keys that verify access tokens (a JWK Set). */
  jwksGet: 'identity.jwks.get',
  /** Is this session (refresh family) still active? The gateway caches the answer a few seconds. */
  sessionCheck: 'identity.session.check',
  userGet: 'identity.user.get',
  /** A platform admin creates an account (with or without a password). */
  userCreate: 'identity.user.create',
  /** Deletes the account everywhere (users-docs data first, then identity). */
  userDelete: 'identity.user.delete',
  tokenCreate: 'identity.token.create',
  tokenList: 'identity.token.list',
  tokenRevoke: 'identity.token.revoke',
  /** Verifies a personal access token presented as `Authorization: Bearer dfp_...`. */
  tokenVerify: 'identity.token.verify',
  teamCreate: 'identity.team.create',
  teamList: 'identity.team.list',
  /** Deletes a team (its owner): members go, and `identity.team.deleted` tells key-vault to drop its keys. */
  teamDelete: 'identity.team.delete',
  memberList: 'identity.member.list',
  memberAdd: 'identity.member.add',
  memberUpdate: 'identity.member.update',
  memberRemove: 'identity.member.remove',
  /** A user's role in a team, for other services enforcing team permissions (404 when not a member). */
  membershipGet: 'identity.membership.get',
  /** The audit log; defined with its contracts (audit.ts). */
  auditList: AuditSubjects.list,
  auditTeamList: AuditSubjects.teamList,
} as const;

export type IdentitySubject = (typeof IdentitySubjects)[keyof typeof IdentitySubjects];

/** Prefix of every personal access token, so scanners and the gateway recognise one. */
export const PERSONAL_ACCESS_TOKEN_PREFIX = 'dfp_';

/** Personal access tokens a user may hold that are not revoked (expired ones count until revoked). */
export const MAX_ACTIVE_PERSONAL_ACCESS_TOKENS = 100;

/** Where the request came from, for rate limits and the audit log. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface AccountUser {
  id: string;
  name: string;
  email: string;
  /** YYYY-MM-DD, when given at signup. */
  birth?: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface SignupRequest extends ClientInfo {
  name: string;
  email: string;
  password: string;
  birth?: string;
}

export interface LoginRequest extends ClientInfo {
  /** An email address (the `user` field of the HTTP body is the same thing). */
  email: string;
  password: string;
}

export interface RefreshRequest extends ClientInfo {
  refreshToken: string;
}

export interface LogoutRequest extends ClientInfo {
  /** Logs out the session of this access token... */
  userId: string;
  sessionId?: string;
  /** ...or of this refresh token. */
  refreshToken?: string;
}

export interface LogoutResult {
  loggedOut: true;
  /**
   * The session that was ended, when it is the caller's: the gateway that served the logout drops it from its
   * session-check cache at once (it knows the session of an access token, but not the one of a refresh token).
   */
  sessionId?: string;
}

export interface AuthResult {
  /** The access token: a JWT signed with the active key, valid `expiresIn` seconds. */
  jwt: string;
  /** Opaque; rotates on every refresh. */
  refreshToken: string;
  expiresIn: number;
  user: AccountUser;
}

export interface SessionCheckRequest {
  userId: string;
  sessionId: string;
}

export interface SessionCheckResult {
  active: boolean;
  /** The account's current admin flag (a revoked grant takes effect within the gateway's cache time). */
  isAdmin: boolean;
}

export interface JsonWebKeySet {
  keys: Array<Record<string, unknown> & { kid: string; kty: string }>;
}

/** Claims of an access token, besides the registered ones (`sub` = user id, `jti`, `iat`, `exp`, `iss`, `aud`). */
export interface AccessTokenClaims {
  /** The session (refresh-token family) the token belongs to. */
  sid: string;
  /** Platform administrator. */
  adm?: boolean;
}

export interface CreateAccountRequest extends ClientInfo {
  actorId: string;
  name: string;
  email: string;
  password?: string;
}

export interface UserIdRequest {
  userId: string;
}

export interface DeleteUserRequest extends UserIdRequest {
  /**
   * Who deletes: the user themself is refused (`CONFLICT`) while they are the only owner of a team with other
   * members; a platform admin deleting someone else makes the next member owner instead.
   */
  actorId: string;
}

// ---- personal access tokens ----

export interface PersonalAccessToken {
  id: string;
  name: string;
  scopes: string[];
  /** The first characters of the token (`dfp_XXXXXX`), to recognise it in a list. */
  prefix: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface CreatedPersonalAccessToken extends PersonalAccessToken {
  /** The secret, shown this once; only its SHA-256 is stored. */
  token: string;
}

export interface CreateTokenRequest extends ClientInfo {
  userId: string;
  name: string;
  scopes: string[];
  expiresAt?: string;
}

export interface ListTokensRequest extends PageQuery {
  userId: string;
}

export type PersonalAccessTokenPage = Page<PersonalAccessToken>;

export interface RevokeTokenRequest extends ClientInfo {
  userId: string;
  tokenId: string;
}

export interface VerifyTokenRequest {
  token: string;
}

export interface VerifiedToken {
  userId: string;
  tokenId: string;
  scopes: string[];
  isAdmin: boolean;
  expiresAt?: string;
}

// ---- teams ----

export const TEAM_ROLES = ['owner', 'editor', 'reader', 'consumer'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export interface Team {
  id: string;
  name: string;
  /** The caller's role in it. */
  role: TeamRole;
  createdAt: string;
}

export interface TeamMember {
  userId: string;
  name: string;
  email: string;
  role: TeamRole;
  addedAt: string;
}

export interface CreateTeamRequest {
  actorId: string;
  name: string;
}

export interface ListTeamsRequest extends PageQuery {
  actorId: string;
}

export type TeamPage = Page<Team>;

export interface TeamRef {
  actorId: string;
  teamId: string;
}

export interface AddMemberRequest extends TeamRef {
  /** The member to add, by id or by email. */
  userId?: string;
  email?: string;
  role: TeamRole;
}

export interface UpdateMemberRequest extends TeamRef {
  userId: string;
  role: TeamRole;
}

export interface RemoveMemberRequest extends TeamRef {
  userId: string;
}

export interface Membership {
  teamId: string;
  userId: string;
  role: TeamRole;
}
