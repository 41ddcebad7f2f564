/**
 * Object keys: a user's own documents under `users/{user_id}/docs/{doc_id}/{sanitized-name}`, a team's under
 * `teams/{team_id}/docs/{doc_id}/{sanitized-name}`, so that deleting an account (its `users/{id}/` prefix) never
 * touches a team's objects, and deleting a team removes `teams/{id}/` whole. A team's job outputs go under
 * `teams/{team_id}/jobs/{job_id}/outputs/`, a user's under `users/{user_id}/jobs/{job_id}/outputs/`.
 */

const MAX_NAME_LENGTH = 128;

/** A file name safe in a URL path and a shell: ASCII letters, digits, `.`, `_`, `-`. */
export function sanitizeName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let safe = ascii
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/_+$/, '');
  if (safe.length > MAX_NAME_LENGTH) {
    const dot = safe.lastIndexOf('.');
    const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : '';
    safe = safe.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
  }
  return safe || 'document';
}

export type ObjectOwnerType = 'user' | 'team';

export function userObjectsPrefix(userId: string): string {
  return `users/${userId}/`;
}

/** Everything a team keeps in storage (its documents and its jobs' outputs): removed when the team is deleted. */
export function teamObjectsPrefix(teamId: string): string {
  return `teams/${teamId}/`;
}

export function documentObjectKey(userId: string, docId: string, name: string): string {
  return `users/${userId}/docs/${docId}/${sanitizeName(name)}`;
}

export function teamDocumentObjectKey(teamId: string, docId: string, name: string): string {
  return `teams/${teamId}/docs/${docId}/${sanitizeName(name)}`;
}

/** Where a job's outputs must be for `registerOutput` to make them documents of the user, or of the team. */
export function jobOutputsPrefix(owner: { userId: string; teamId?: string }, jobId: string): string {
  return owner.teamId
    ? `teams/${owner.teamId}/jobs/${jobId}/outputs/`
    : `users/${owner.userId}/jobs/${jobId}/outputs/`;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY_PATTERN = new RegExp(`^(users|teams)\\/(${UUID})\\/docs\\/(${UUID})\\/[^/\\p{Cc}]+$`, 'iu');

/** The owner (a user or a team) and document id in a document object key, or `undefined` for any other key. */
export function parseDocumentObjectKey(
  key: string,
): { ownerType: ObjectOwnerType; ownerId: string; docId: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  return {
    ownerType: match[1] === 'teams' ? 'team' : 'user',
    ownerId: match[2]!.toLowerCase(),
    docId: match[3]!.toLowerCase(),
  };
}
