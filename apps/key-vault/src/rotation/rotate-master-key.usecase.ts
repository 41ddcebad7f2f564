import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { EnvelopeCipher } from '../crypto/envelope';
import { KeyProvider } from '../crypto/key-provider';
import { DataKeysRepository } from '../keys/data-keys.repository';
import { MasterKeyRotationEntity } from './master-key-rotation.entity';
import { MasterKeyRotationsRepository } from './master-key-rotations.repository';

export interface RotationOptions {
  /** Data keys re-wrapped per transaction. */
  batchSize?: number;
  /** Called after each committed batch (progress output; tests stop a run here). */
  afterBatch?: (done: number) => void | Promise<void>;
}

export interface RotationResult {
  rotationId: string;
  toMasterKeyId: string;
  fromMasterKeyIds: string[];
  /** Re-wrapped by this rotation, over every run of it (a resumed run adds to it). */
  rewrapped: number;
  /** Data keys per master key id once done: only the active id remains. */
  dataKeysByMasterKey: Record<string, number>;
  resumed: boolean;
}

/** The rotation cannot start: a data key is wrapped by a master key that is not configured. */
export class RotationPreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationPreconditionError';
  }
}

/**
 * Re-wraps every data key that is not wrapped by the active master key, in batches: each batch locks its rows
 * (`FOR UPDATE SKIP LOCKED`), re-wraps them and records the progress in one transaction, so a batch is all
 * done or not done. A run that stops half-way (crash, Ctrl-C, a failed unwrap) leaves every data key readable
 * (old or new id, each recorded on its row), and running the command again resumes the same rotation.
 * Secrets themselves are not re-encrypted: they are sealed by the data keys, which do not change.
 */
@Injectable()
export class RotateMasterKeyUseCase {
  private readonly logger = new Logger(RotateMasterKeyUseCase.name);

  constructor(
    private readonly dataKeys: DataKeysRepository,
    private readonly rotations: MasterKeyRotationsRepository,
    private readonly provider: KeyProvider,
    private readonly cipher: EnvelopeCipher,
    private readonly clock: Clock,
  ) {}

  async execute(options: RotationOptions = {}): Promise<RotationResult> {
    const batchSize = options.batchSize ?? 100;
    const active = this.provider.activeKeyId;
    const before = await this.dataKeys.countByMasterKey();
    const from = Object.keys(before).filter((id) => id !== active);
    const missing = from.filter((id) => !this.provider.canUnwrap(id));
    if (missing.length) {
      throw new RotationPreconditionError(
        `data keys are wrapped by master key(s) ${missing.join(', ')}, which are not configured: ` +
          'set MASTER_KEY_PREVIOUS / MASTER_KEY_PREVIOUS_ID to the key being retired',
      );
    }

    let rotation = await this.rotations.findUnfinished(active);
    const resumed = rotation !== null;
    if (!rotation) {
      rotation = Object.assign(new MasterKeyRotationEntity(), {
        id: randomUUID(),
        toMasterKeyId: active,
        fromMasterKeyIds: from,
        rewrapped: 0,
        startedAt: this.clock.now(),
        finishedAt: null,
      });
      await this.rotations.insert(rotation);
    }
    this.logger.log({
      msg: resumed ? 'resuming master key rotation' : 'master key rotation started',
      rotationId: rotation.id,
      to: active,
      from,
      dataKeysByMasterKey: before,
    });

    const rotationId = rotation.id;
    let done = 0;
    for (;;) {
      const count = await this.dataKeys.transaction(async (manager) => {
        const rows = await this.dataKeys.lockNotWrappedBy(manager, active, batchSize);
        for (const row of rows) {
          const owner = { ownerType: row.ownerType, ownerId: row.ownerId };
          let rewrapped;
          try {
            rewrapped = await this.cipher.rewrapDataKey(owner, {
              masterKeyId: row.masterKeyId,
              wrapped: row.wrappedKey,
            });
          } catch (error) {
            throw new Error(`data key ${row.id} could not be re-wrapped: ${(error as Error).message}`);
          }
          await this.dataKeys.rewrap(
            manager,
            row.id,
            row.masterKeyId,
            { masterKeyId: rewrapped.masterKeyId, wrappedKey: rewrapped.wrapped },
            this.clock.now(),
          );
        }
        if (rows.length) await this.rotations.addRewrapped(manager, rotationId, rows.length);
        return rows.length;
      });
      if (count === 0) break;
      done += count;
      await options.afterBatch?.(done);
    }

    const after = await this.dataKeys.countByMasterKey();
    const remaining = Object.entries(after).filter(([id]) => id !== active);
    if (remaining.length) {
      // Rows another run holds, or new data keys from a service still configured with the old key as active.
      throw new RotationPreconditionError(
        `data keys remain on ${remaining.map(([id, n]) => `${id} (${n})`).join(', ')}: make sure every ` +
          `key-vault replica runs with MASTER_KEY_ID=${active}, then run the rotation again to finish it`,
      );
    }
    const finished = await this.rotations.finish(rotationId, this.clock.now());
    this.logger.log({
      msg: 'master key rotation finished',
      rotationId,
      rewrapped: finished.rewrapped,
      dataKeysByMasterKey: after,
    });
    return {
      rotationId,
      toMasterKeyId: active,
      fromMasterKeyIds: finished.fromMasterKeyIds,
      rewrapped: finished.rewrapped,
      dataKeysByMasterKey: after,
      resumed,
    };
  }
}
