import {
  API_KEY_MAX_LENGTH,
  API_KEY_MIN_LENGTH,
  API_KEY_NAME_MAX_LENGTH,
  API_KEY_PROVIDERS,
  DomainError,
  KEY_OWNER_TYPES,
  type ApiKeyProvider,
  type KeyOwner,
} from '@docflow/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Printable ASCII, no spaces: what every provider's keys are made of. */
const KEY_TEXT = /^[\x21-\x7e]+$/;

export function requireUuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw DomainError.validation(field, 'must be a UUID');
  return value.toLowerCase();
}

export function requireOwner(request: Partial<KeyOwner>): KeyOwner {
  if (!KEY_OWNER_TYPES.includes(request.ownerType as KeyOwner['ownerType'])) {
    throw DomainError.validation('ownerType', `must be one of ${KEY_OWNER_TYPES.join(', ')}`);
  }
  return { ownerType: request.ownerType!, ownerId: requireUuid('ownerId', request.ownerId) };
}

export function requireName(value: unknown): string {
  if (typeof value !== 'string') throw DomainError.validation('name', 'must be a string');
  const name = value.trim();
  if (!name) throw DomainError.validation('name', 'must not be blank');
  if (name.length > API_KEY_NAME_MAX_LENGTH)
    throw DomainError.validation('name', `must be at most ${API_KEY_NAME_MAX_LENGTH} characters`);
  if (/\p{Cc}/u.test(name)) throw DomainError.validation('name', 'must not contain control characters');
  return name;
}

export function requireProvider(value: unknown): ApiKeyProvider {
  if (!API_KEY_PROVIDERS.includes(value as ApiKeyProvider)) {
    throw DomainError.validation('provider', `must be one of ${API_KEY_PROVIDERS.join(', ')}`);
  }
  return value as ApiKeyProvider;
}

/** Checks the key's text. Messages never repeat the value. */
export function requireKeyText(value: unknown): string {
  if (typeof value !== 'string') throw DomainError.validation('key', 'must be a string');
  if (value.length < API_KEY_MIN_LENGTH || value.length > API_KEY_MAX_LENGTH) {
    throw DomainError.validation(
      'key',
      `must be ${API_KEY_MIN_LENGTH} to ${API_KEY_MAX_LENGTH} characters long`,
    );
  }
  if (!KEY_TEXT.test(value)) {
    throw DomainError.validation('key', 'must be printable ASCII characters without spaces');
  }
  return value;
}
