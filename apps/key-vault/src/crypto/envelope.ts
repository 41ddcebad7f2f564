import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyOwner } from '@docflow/contracts';
import { KeyProvider, type WrappedKey } from './key-provider';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/** One AES-256-GCM ciphertext, stored as three columns. */
export interface SealedSecret {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** A secret failed to decrypt: tampered bytes, a different key or different associated data. */
export class DecryptError extends Error {
  constructor() {
    super('secret does not authenticate');
    this.name = 'DecryptError';
  }
}

/** What the wrapped data key of an owner is bound to. */
export function dataKeyContext(owner: KeyOwner): Buffer {
  return Buffer.from(`docflow/key-vault/data-key/v1\0${owner.ownerType}\0${owner.ownerId}`, 'utf8');
}

/** What one stored API key's ciphertext is bound to: its owner, its own id and the data key that sealed it. */
export function apiKeyContext(owner: KeyOwner, keyId: string, dataKeyId: string): Buffer {
  return Buffer.from(
    `docflow/key-vault/api-key/v1\0${owner.ownerType}\0${owner.ownerId}\0${keyId}\0${dataKeyId}`,
    'utf8',
  );
}

/**
 * Envelope encryption: every owner (a user or a team) has its own random data key, stored only wrapped by the
 * master key through the {@link KeyProvider}; each secret is sealed with AES-256-GCM under its owner's data key,
 * with a fresh 96-bit random IV and associated data that names the owner and the secret's id. A ciphertext moved
 * to another row, another owner or another data key no longer decrypts.
 */
export class EnvelopeCipher {
  constructor(private readonly provider: KeyProvider) {}

  get activeMasterKeyId(): string {
    return this.provider.activeKeyId;
  }

  /** A fresh data key for `owner`, and its wrapped form to store. The caller zeroes `dataKey` when done. */
  async newDataKey(owner: KeyOwner): Promise<{ dataKey: Buffer; wrapped: WrappedKey }> {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    return { dataKey, wrapped: await this.provider.wrap(dataKey, dataKeyContext(owner)) };
  }

  unwrapDataKey(owner: KeyOwner, wrapped: WrappedKey): Promise<Buffer> {
    return this.provider.unwrap(wrapped, dataKeyContext(owner));
  }

  /** Re-wraps a data key under the active master key (rotation). The data key itself does not change. */
  async rewrapDataKey(owner: KeyOwner, wrapped: WrappedKey): Promise<WrappedKey> {
    const dataKey = await this.unwrapDataKey(owner, wrapped);
    try {
      return await this.provider.wrap(dataKey, dataKeyContext(owner));
    } finally {
      dataKey.fill(0);
    }
  }

  seal(dataKey: Buffer, plaintext: string, context: Buffer): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(context);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { iv, ciphertext, tag: cipher.getAuthTag() };
  }

  open(dataKey: Buffer, sealed: SealedSecret, context: Buffer): string {
    if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw new DecryptError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(context);
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptError();
    }
  }
}
