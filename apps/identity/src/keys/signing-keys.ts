import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { webcrypto } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AccessTokenClaims, JsonWebKeySet } from '@docflow/contracts';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { loadJose } from './jose';

export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A private JWK as configured: `kid` and `alg` are required. */
export interface PrivateSigningJwk {
  kid: string;
  alg: SigningAlgorithm;
  kty: string;
  crv: string;
  x: string;
  y?: string;
  d: string;
}

interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: webcrypto.CryptoKey;
  publicJwk: JsonWebKeySet['keys'][number];
}

/** Generates a private signing JWK (for the dev key file and `admin.js generate-signing-key`). */
export async function generateSigningJwk(alg: SigningAlgorithm = 'EdDSA'): Promise<PrivateSigningJwk> {
  const jose = await loadJose();
  const { privateKey } = await jose.generateKeyPair(
    alg,
    alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true },
  );
  const jwk = await jose.exportJWK(privateKey);
  const kid = `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  return { ...(jwk as Omit<PrivateSigningJwk, 'kid' | 'alg'>), kid, alg };
}

function parseKeys(raw: string, source: string): PrivateSigningJwk[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${source}: not JSON (expected an array of private JWKs)`);
  }
  const keys = Array.isArray(value) ? value : [value];
  if (keys.length === 0) throw new Error(`${source}: no key`);
  const kids = new Set<string>();
  for (const [index, key] of keys.entries()) {
    const k = key as Partial<PrivateSigningJwk>;
    if (typeof k.kid !== 'string' || !k.kid) throw new Error(`${source}[${index}]: missing kid`);
    if (kids.has(k.kid)) throw new Error(`${source}[${index}]: duplicate kid ${k.kid}`);
    kids.add(k.kid);
    if (!SIGNING_ALGORITHMS.includes(k.alg as SigningAlgorithm))
      throw new Error(`${source}[${index}] (${k.kid}): alg must be EdDSA or ES256`);
    if (typeof k.d !== 'string')
      throw new Error(`${source}[${index}] (${k.kid}): not a private key (no "d")`);
  }
  return keys as PrivateSigningJwk[];
}

/**
 * The keys that sign access tokens. Every configured key is published in the JWKS, so after a rotation
 * (a new key added and made active) tokens signed with the old one stay valid until they expire; the old
 * key is removed from the configuration after one token lifetime.
 *
 * From `JWT_SIGNING_KEYS` (a Secret in a cluster). Without it, a development key is generated once and kept
 * in `JWT_DEV_KEY_FILE` (under `.docflow/`, which git ignores), so local tokens survive a restart.
 */
@Injectable()
export class SigningKeys {
  private readonly logger = new Logger(SigningKeys.name);
  private keys: LoadedKey[] = [];
  private active?: LoadedKey;
  private ready?: Promise<void>;

  constructor(@Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig) {}

  init(): Promise<void> {
    this.ready ??= this.load();
    return this.ready;
  }

  private async load(): Promise<void> {
    const jose = await loadJose();
    let jwks: PrivateSigningJwk[];
    if (this.config.JWT_SIGNING_KEYS) {
      jwks = parseKeys(this.config.JWT_SIGNING_KEYS, 'JWT_SIGNING_KEYS');
    } else {
      jwks = await this.devKeys();
    }
    this.keys = await Promise.all(
      jwks.map(async (jwk) => {
        const privateKey = (await jose.importJWK(jwk, jwk.alg)) as webcrypto.CryptoKey;
        const { d: _d, ...pub } = jwk;
        return {
          kid: jwk.kid,
          alg: jwk.alg,
          privateKey,
          publicJwk: { ...pub, use: 'sig' } as JsonWebKeySet['keys'][number],
        };
      }),
    );
    const activeKid = this.config.JWT_ACTIVE_KID ?? this.keys[this.keys.length - 1]!.kid;
    this.active = this.keys.find((k) => k.kid === activeKid);
    if (!this.active) throw new Error(`JWT_ACTIVE_KID: no configured key has kid ${activeKid}`);
    this.logger.log({ msg: 'signing keys loaded', activeKid, kids: this.keys.map((k) => k.kid) });
  }

  private async devKeys(): Promise<PrivateSigningJwk[]> {
    const file = this.config.JWT_DEV_KEY_FILE;
    if (existsSync(file)) return parseKeys(readFileSync(file, 'utf8'), file);
    const key = await generateSigningJwk('EdDSA');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // `wx`: two replicas starting at once on one machine must not overwrite each other's key.
    try {
      writeFileSync(file, `${JSON.stringify([key], null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      this.logger.warn({
        msg: 'JWT_SIGNING_KEYS is not set: generated a development signing key (set JWT_SIGNING_KEYS in production)',
        file,
        kid: key.kid,
      });
      return [key];
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') return parseKeys(readFileSync(file, 'utf8'), file);
      throw error;
    }
  }

  get activeKid(): string {
    if (!this.active) throw new Error('signing keys not loaded');
    return this.active.kid;
  }

  jwks(): JsonWebKeySet {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async sign(
    subject: string,
    claims: AccessTokenClaims,
    options: { tokenId: string; ttlSeconds: number; now: Date },
  ): Promise<string> {
    await this.init();
    const key = this.active!;
    const jose = await loadJose();
    const iat = Math.floor(options.now.getTime() / 1000);
    return new jose.SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setSubject(subject)
      .setJti(options.tokenId)
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + options.ttlSeconds)
      .sign(key.privateKey);
  }
}
