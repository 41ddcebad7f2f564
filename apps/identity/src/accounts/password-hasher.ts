import { Inject, Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';

/**
 * argon2id (RFC 9106) with the OWASP Password Storage parameters by default: m = 19 MiB, t = 2, p = 1. The
 * parameters travel inside each PHC string, so raising them later still verifies old hashes (and
 * `needsRehash` tells when to re-hash at the next login).
 */
@Injectable()
export class PasswordHasher {
  private readonly options;
  /** Verified against when the account does not exist, so a login takes as long either way. */
  private dummy?: Promise<string>;

  constructor(
    @Inject(IDENTITY_CONFIG)
    config: Pick<IdentityConfig, 'ARGON2_MEMORY_KIB' | 'ARGON2_TIME_COST' | 'ARGON2_PARALLELISM'>,
  ) {
    this.options = {
      algorithm: Algorithm.Argon2id,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    };
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string | null | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      this.dummy ??= this.hash('docflow-timing-equaliser');
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  needsRehash(passwordHash: string): boolean {
    const match = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
    if (!match || !passwordHash.startsWith('$argon2id$')) return true;
    return (
      Number(match[1]) < this.options.memoryCost ||
      Number(match[2]) < this.options.timeCost ||
      Number(match[3]) < this.options.parallelism
    );
  }
}
