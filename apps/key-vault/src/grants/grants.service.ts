import { Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  GRANT_MAX_TTL_SECONDS,
  KeyAuditEvents,
  type CreateGrantRequest,
  type KeyOwner,
  type Grant,
  type ResolveKeyForJobRequest,
  type ResolvedKey,
  type RevokeGrantsReply,
  type RevokeGrantsRequest,
} from '@docflow/contracts';
import { decide } from '@docflow/authz';
import { KeyAudit } from '../audit/key-audit';
import { Clock } from '../common/clock';
import { EnvelopeCipher, apiKeyContext } from '../crypto/envelope';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { ApiKeysRepository } from '../keys/api-keys.repository';
import { requireOwner, requireUuid } from '../keys/api-key.validation';
import { OwnerDataKeys } from '../keys/owner-data-keys';
import { GrantEntity } from './grant.entity';
import { GrantsRepository } from './grants.repository';
import { TeamMemberships } from './team-memberships';

/**
 * Grants are how a key's plaintext leaves the vault: the jobs service grants a job one key of the job's owner (or
 * of a team whose role lets the owner use its keys),
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
    private readonly audit: KeyAudit,
    private readonly memberships: TeamMemberships,
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
    const key = (await this.keys.existsForOwner(owner, keyId)) ?? (await this.teamKeyFor(owner, keyId));
    if (!key) throw DomainError.notFound('api key');
    const grant = await this.grants.upsert(
      Object.assign(new GrantEntity(), {
        jobId,
        keyId,
        expiresAt,
        revokedAt: null,
        requestedBy: owner.ownerType === 'user' ? owner.ownerId : null,
        createdAt: now,
      }),
    );
    if (!grant) throw new DomainError(ErrorCode.CONFLICT, 'the grant of this job was revoked');
    this.logger.log({ msg: 'grant created', jobId, keyId, expiresAt: grant.expiresAt.toISOString() });
    return { jobId, keyId, provider: key.provider, expiresAt: grant.expiresAt.toISOString() };
  }

  /**
   * A team's key for a user's job: only when the user's role in that team allows `apikey.use` (the one policy,
   * `decide()` of @docflow/authz). Not a member: null (answered as a missing key); a member whose role does not
   * allow it: FORBIDDEN.
   */
  private async teamKeyFor(owner: KeyOwner, keyId: string): Promise<ApiKeyEntity | null> {
    if (owner.ownerType !== 'user') return null;
    const key = await this.keys.findTeamKey(keyId);
    if (!key) return null;
    const role = await this.memberships.roleOf(key.ownerId, owner.ownerId);
    const decision = decide(
      { userId: owner.ownerId },
      { type: 'team', teamId: key.ownerId },
      'apikey.use',
      role,
    );
    if (decision === 'not_found') return null;
    if (decision === 'forbidden')
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        `Your role (${role}) in the key's team may not use its keys`,
        [{ field: 'keyId', message: `your role (${role}) in the key's team may not use its keys` }],
      );
    return key;
  }

  async resolve(request: ResolveKeyForJobRequest): Promise<ResolvedKey> {
    const jobId = requireUuid('jobId', request.jobId);
    const keyId = requireUuid('keyId', request.keyId);
    const key = await this.grants.findKeyForLiveGrant(jobId, keyId, this.clock.now());
    // No grant, an expired one, a revoked one or a deleted key: the same answer.
    if (!key || !key.dataKey) throw DomainError.notFound('grant');
    const owner = { ownerType: key.ownerType, ownerId: key.ownerId };
    // A team's key in a member's job: only while that member may still use the team's keys (removed from the
    // team or made reader since the grant: the grant is revoked and answers as a missing one). A grant the team
    // asked for itself has no member to check.
    const requestedBy = owner.ownerType === 'team' ? await this.grants.requestedBy(jobId, keyId) : null;
    if (requestedBy) {
      const role = await this.memberships.roleOf(owner.ownerId, requestedBy);
      const decision = decide(
        { userId: requestedBy },
        { type: 'team', teamId: owner.ownerId },
        'apikey.use',
        role,
      );
      if (decision !== 'allow') {
        await this.grants.revokeJob(jobId, this.clock.now());
        this.logger.warn({ msg: 'team key refused: the member may no longer use it', keyId, jobId, role });
        throw DomainError.notFound('grant');
      }
    }
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
    // The use is recorded before the key leaves: a user's key in that user's log; a team's key in the log of the
    // member whose job used it (none when the team asked itself) and in the team's. Not recorded (the database
    // failed, the grant was revoked meanwhile): not released.
    const reader = owner.ownerType === 'user' ? owner.ownerId : requestedBy;
    const released = await this.grants.recordRelease(jobId, keyId, this.clock.now(), (manager) =>
      this.audit.recordIn(manager, {
        type: KeyAuditEvents.used,
        ...(reader ? { userId: reader } : {}),
        ...(owner.ownerType === 'team' ? { teamId: owner.ownerId } : {}),
        targetId: keyId,
        details: { jobId, provider: key.provider, ...owner },
      }),
    );
    if (!released) throw DomainError.notFound('grant');
    this.audit.published();
    this.logger.log({ msg: 'api key released to a job', keyId, jobId, ...owner });
    return { keyId, provider: key.provider, key: plaintext };
  }

  async revoke(request: RevokeGrantsRequest): Promise<RevokeGrantsReply> {
    const jobId = requireUuid('jobId', request.jobId);
    const revoked = await this.grants.revokeJob(jobId, this.clock.now());
    if (revoked) this.logger.log({ msg: 'grants revoked', jobId, revoked });
    return { revoked };
  }
}
