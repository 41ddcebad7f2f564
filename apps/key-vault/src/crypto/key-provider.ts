import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A data key wrapped by a master key, and the id of that master key. */
export interface WrappedKey {
  masterKeyId: string;
  /** Opaque to everyone but the provider that made it. */
  wrapped: Buffer;
}

/**
 * Wraps and unwraps data keys with master keys that never leave it. The local implementation holds the master
 * keys from configuration; a KMS implementation (AWS KMS `Encrypt`/`Decrypt` with the context as
 * `EncryptionContext`, GCP KMS with it as additional authenticated data, Vault transit with it as `context`)
 * replaces it without touching anything else.
 *
 * `context` is bound to the wrapped key: unwrapping with any other context fails. The vault passes the owner,
 * so a wrapped data key copied to another owner's row cannot be unwrapped.
 */
export abstract class KeyProvider {
  /** The master key new data keys are wrapped with. */
  abstract readonly activeKeyId: string;
  abstract wrap(dataKey: Buffer, context: Buffer): Promise<WrappedKey>;
  abstract unwrap(key: WrappedKey, context: Buffer): Promise<Buffer>;
  /** True when this provider holds the master key `masterKeyId`. */
  abstract canUnwrap(masterKeyId: string): boolean;
}

/** The provider could not unwrap: unknown master key, tampered bytes or a context that does not match. */
export class UnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwrapError';
  }
}

export interface MasterKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = Buffer.from([1]);

/**
 * Master keys from configuration (a Kubernetes Secret in a cluster). Wrapping is AES-256-GCM:
 * `0x01 | iv (12) | ciphertext | tag (16)`, with the master key id and the caller's context as additional
 * authenticated data, so neither can be swapped.
 */
export class LocalKeyProvider extends KeyProvider {
  readonly activeKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** `active` wraps; `others` (a key being retired during a rotation) only unwrap. */
  constructor(active: MasterKey, others: MasterKey[] = []) {
    super();
    for (const { id, key } of [active, ...others]) {
      if (key.length !== 32) throw new Error(`master key ${id} must be 32 bytes`);
      if (this.keys.has(id)) throw new Error(`master key id ${id} is configured twice`);
      this.keys.set(id, Buffer.from(key));
    }
    this.activeKeyId = active.id;
  }

  canUnwrap(masterKeyId: string): boolean {
    return this.keys.has(masterKeyId);
  }

  async wrap(dataKey: Buffer, context: Buffer): Promise<WrappedKey> {
    const masterKey = this.keys.get(this.activeKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.activeKeyId, context));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return {
      masterKeyId: this.activeKeyId,
      wrapped: Buffer.concat([FORMAT, iv, body, cipher.getAuthTag()]),
    };
  }

  async unwrap({ masterKeyId, wrapped }: WrappedKey, context: Buffer): Promise<Buffer> {
    const masterKey = this.keys.get(masterKeyId);
    if (!masterKey) throw new UnwrapError(`master key ${masterKeyId} is not configured`);
    if (wrapped.length < 1 + IV_BYTES + TAG_BYTES + 1 || wrapped[0] !== FORMAT[0]) {
      throw new UnwrapError('wrapped data key has an unknown format');
    }
    const iv = wrapped.subarray(1, 1 + IV_BYTES);
    const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
    const body = wrapped.subarray(1 + IV_BYTES, wrapped.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(masterKeyId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new UnwrapError(`data key does not authenticate under master key ${masterKeyId}`);
    }
  }
}

function aad(masterKeyId: string, context: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`docflow/key-vault/wrap/v1\0${masterKeyId}\0`, 'utf8'), context]);
}
