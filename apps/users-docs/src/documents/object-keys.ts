/** Object keys: `users/{user_id}/docs/{doc_id}/{sanitized-name}`. */

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

export function userObjectsPrefix(userId: string): string {
  return `users/${userId}/`;
}

export function documentObjectKey(userId: string, docId: string, name: string): string {
  return `users/${userId}/docs/${docId}/${sanitizeName(name)}`;
}

const KEY_PATTERN =
  /^users\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/docs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/[^/\p{Cc}]+$/iu;

/** The user and document ids in a document object key, or `undefined` for any other key. */
export function parseDocumentObjectKey(key: string): { userId: string; docId: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { userId: match[1]!.toLowerCase(), docId: match[2]!.toLowerCase() } : undefined;
}
