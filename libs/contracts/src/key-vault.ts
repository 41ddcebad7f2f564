import type { Page, PageQuery } from './pagination';

/**
 * The provider key vault (apps/key-vault). Public operations arrive from the gateway with the caller's owner
 * already decided; the three grant subjects are internal: the only way a key's plaintext leaves the vault.
 */
export const KeyVaultSubjects = {
  healthCheck: 'key-vault.health.check',
  keyCreate: 'key-vault.key.create',
  keyList: 'key-vault.key.list',
  keyDelete: 'key-vault.key.delete',
  /** Internal (jobs service): allow one job to read one key of the job's owner until `expiresAt`. */
  grantCreate: 'key-vault.grant.create',
  /** Internal (a job step, through the jobs service or directly): the plaintext, while a live grant exists. */
  keyResolveForJob: 'key-vault.key.resolve-for-job',
  /** Internal (jobs service): the job has ended; every grant of the job stops working at once. */
  grantRevoke: 'key-vault.grant.revoke',
} as const;

/** Providers a key may be stored for. A new provider is added here (and nowhere else). */
export const API_KEY_PROVIDERS = [
  'openai',
  'anthropic',
  'azure-openai',
  'openai-compatible',
  'mistral',
  'google',
  'cohere',
  'groq',
] as const;
export type ApiKeyProvider = (typeof API_KEY_PROVIDERS)[number];

/** Bounds of a stored key's text: printable ASCII without spaces. */
export const API_KEY_MIN_LENGTH = 16;
export const API_KEY_MAX_LENGTH = 512;
export const API_KEY_NAME_MAX_LENGTH = 100;

/** Longest a grant may live: a job that runs longer asks for a new one. */
export const GRANT_MAX_TTL_SECONDS = 7 * 24 * 3600;

export const KEY_OWNER_TYPES = ['user', 'team'] as const;
export type KeyOwnerType = (typeof KEY_OWNER_TYPES)[number];

/** Who a key belongs to: a user, or a team (team membership is checked by the gateway before it calls). */
export interface KeyOwner {
  ownerType: KeyOwnerType;
  ownerId: string;
}

/** A stored key as the API shows it: never the secret, only its last four characters. */
export interface ApiKeySummary {
  id: string;
  name: string;
  provider: ApiKeyProvider;
  last4: string;
  /** Present for team-owned keys. */
  teamId?: string;
  createdAt: string;
}

export type ApiKeyPage = Page<ApiKeySummary>;

export interface CreateApiKeyRequest extends KeyOwner {
  /** The user who stores it (recorded in the audit log). */
  actorUserId: string;
  name: string;
  provider: ApiKeyProvider;
  key: string;
}

export interface ListApiKeysRequest extends KeyOwner, PageQuery {}

export interface DeleteApiKeyRequest extends KeyOwner {
  actorUserId: string;
  keyId: string;
}

/**
 * The owner is the job's owner. The key is theirs, or (for a user) a key of a team in which their role allows
 * `apikey.use` (key-vault asks identity for the role): another team's answers `NOT_FOUND`, a role that may not
 * use it `FORBIDDEN`.
 */
export interface CreateGrantRequest extends KeyOwner {
  jobId: string;
  keyId: string;
  /** ISO 8601; in the future, at most GRANT_MAX_TTL_SECONDS away. */
  expiresAt: string;
}

export interface Grant {
  jobId: string;
  keyId: string;
  provider: ApiKeyProvider;
  expiresAt: string;
}

export interface ResolveKeyForJobRequest {
  jobId: string;
  keyId: string;
}

/** The only reply that carries a key's plaintext. Never log it, never put it in a workflow parameter. */
export interface ResolvedKey {
  keyId: string;
  provider: ApiKeyProvider;
  key: string;
}

export interface RevokeGrantsRequest {
  jobId: string;
}

export interface RevokeGrantsReply {
  revoked: number;
}
