import { Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  GRANT_MAX_TTL_SECONDS,
  KeyAuditEvents,
  type CreateGrantRequest,
  type Grant,
  type ResolveKeyForJobRequest,
  type ResolvedKey,
  type RevokeGrantsReply,
  type RevokeGrantsRequest,
} from '@docflow/contracts';
import { AuditPublisher } from '../audit/audit.publisher';
import { Clock } from '../common/clock';
import { EnvelopeCipher, apiKeyContext } from '../crypto/envelope';
import { ApiKeysRepository } from '../keys/api-keys.repository';
import { requireOwner, requireUuid } from '../keys/api-key.validation';
import { OwnerDataKeys } from '../keys/owner-data-keys';
import { GrantEntity } from './grant.entity';
import { GrantsRepository } from './grants.repository';

/**
 * Grants are how a key's plaintext leaves the vault: the jobs service grants a job one key of the job's owner,
 * the job's step resolves it while the grant is live, and the grant is revoked when the job ends.
 */
@Injectable()
export class GrantsService {
  private readonly logger = new Logger(GrantsService.name);

  constructor(
    private readonly grants: GrantsRepository,
    private readonly keys: ApiKeysRepository,
    private readonly dataKeys: OwnerDataKeys,
    private readonly cipher: EnvelopeCipher,
    private readonly audit: AuditPublisher,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateGrantRequest): Promise<Grant> {
    const owner = requireOwner(request);
    const jobId = requireUuid('jobId', request.jobId);
    const keyId = requireUuid('keyId', request.keyId);
    const now = this.clock.now();
    const expiresAt = new Date(typeof request.expiresAt === 'string' ? request.expiresAt : NaN);
    if (Number.isNaN(expiresAt.getTime()))
      throw DomainError.validation('expiresAt', 'must be an ISO 8601 time');
    if (expiresAt <= now) throw DomainError.validation('expiresAt', 'must be in the future');
    if (expiresAt.getTime() - now.getTime() > GRANT_MAX_TTL_SECONDS * 1000) {
      throw DomainError.validation('expiresAt', `must be at most ${GRANT_MAX_TTL_SECONDS} seconds away`);
    }
    // Another owner's key answers exactly as a missing one.
    const key = await this.keys.existsForOwner(owner, keyId);
    if (!key) throw DomainError.notFound('api key');
    const grant = await this.grants.upsert(
      Object.assign(new GrantEntity(), { jobId, keyId, expiresAt, revokedAt: null, createdAt: now }),
    );
    if (!grant) throw new DomainError(ErrorCode.CONFLICT, 'the grant of this job was revoked');
    this.logger.log({ msg: 'grant created', jobId, keyId, expiresAt: grant.expiresAt.toISOString() });
    return { jobId, keyId, provider: key.provider, expiresAt: grant.expiresAt.toISOString() };
  }

  async resolve(request: ResolveKeyForJobRequest): Promise<ResolvedKey> {
    const jobId = requireUuid('jobId', request.jobId);
    const keyId = requireUuid('keyId', request.keyId);
    const key = await this.grants.findKeyForLiveGrant(jobId, keyId, this.clock.now());
    // No grant, an expired one, a revoked one or a deleted key: the same answer.
    if (!key || !key.dataKey) throw DomainError.notFound('grant');
    const owner = { ownerType: key.ownerType, ownerId: key.ownerId };
    const dataKey = await this.dataKeys.open(key.dataKey);
    let plaintext: string;
    try {
      plaintext = this.cipher.open(
        dataKey.key,
        { iv: key.iv, ciphertext: key.ciphertext, tag: key.authTag },
        apiKeyContext(owner, key.id, key.dataKeyId),
      );
    } catch (error) {
      this.logger.error({ msg: 'a stored key does not decrypt', keyId, error: (error as Error).name });
      throw new DomainError(ErrorCode.INTERNAL, 'Internal error');
    } finally {
      dataKey.release();
    }
    this.logger.log({ msg: 'api key released to a job', keyId, jobId, ...owner });
    this.audit.record({
      type: KeyAuditEvents.used,
      ...(owner.ownerType === 'user' ? { subjectUserId: owner.ownerId } : {}),
      details: { keyId, jobId, provider: key.provider, ...owner },
    });
    return { keyId, provider: key.provider, key: plaintext };
  }

  async revoke(request: RevokeGrantsRequest): Promise<RevokeGrantsReply> {
    const jobId = requireUuid('jobId', request.jobId);
    const revoked = await this.grants.revokeJob(jobId, this.clock.now());
    if (revoked) this.logger.log({ msg: 'grants revoked', jobId, revoked });
    return { revoked };
  }
}
