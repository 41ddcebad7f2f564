import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  KeyAuditEvents,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  type ApiKeyPage,
  type ApiKeySummary,
  type CreateApiKeyRequest,
  type DeleteApiKeyRequest,
  type ListApiKeysRequest,
} from '@docflow/contracts';
import type { EntityManager } from 'typeorm';
import { decodeCursor, isUniqueViolation, toPage } from '@docflow/database';
import { KeyAudit, auditParties } from '../audit/key-audit';
import { Clock } from '../common/clock';
import { EnvelopeCipher, apiKeyContext } from '../crypto/envelope';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';
import {
  requireKeyText,
  requireName,
  requireOwner,
  requireProvider,
  requireUuid,
} from './api-key.validation';
import { OwnerDataKeys } from './owner-data-keys';

export function toSummary(entity: ApiKeyEntity): ApiKeySummary {
  return {
    id: entity.id,
    name: entity.name,
    provider: entity.provider,
    last4: entity.last4,
    ...(entity.ownerType === 'team' ? { teamId: entity.ownerId } : {}),
    createdAt: entity.createdAt.toISOString(),
  };
}

/** The owner was deleted: answered as an unknown one. */
const ownerGone = () => DomainError.notFound('owner');

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly dataKeys: OwnerDataKeys,
    private readonly cipher: EnvelopeCipher,
    private readonly audit: KeyAudit,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateApiKeyRequest): Promise<ApiKeySummary> {
    const owner = requireOwner(request);
    const actorUserId = requireUuid('actorUserId', request.actorUserId);
    const name = requireName(request.name);
    const provider = requireProvider(request.provider);
    const key = requireKeyText(request.key);

    // An owner identity deleted a moment ago (a session still cached by a gateway) stores nothing.
    if (await this.keys.isDeletedOwner(owner)) throw ownerGone();
    const id = randomUUID();
    const dataKey = await this.dataKeys.openOrCreate(owner);
    let entity: ApiKeyEntity;
    try {
      const sealed = this.cipher.seal(dataKey.key, key, apiKeyContext(owner, id, dataKey.id));
      entity = Object.assign(new ApiKeyEntity(), {
        id,
        ...owner,
        dataKeyId: dataKey.id,
        name,
        provider,
        last4: key.slice(-4),
        iv: sealed.iv,
        ciphertext: sealed.ciphertext,
        authTag: sealed.tag,
        createdBy: actorUserId,
        createdAt: this.clock.now(),
      });
    } finally {
      dataKey.release();
    }
    // The key and its audit event commit together (the event is published from the outbox after).
    const recorded = (manager: EntityManager) =>
      this.audit.recordIn(manager, {
        type: KeyAuditEvents.created,
        ...auditParties(owner, actorUserId),
        targetId: id,
        details: { name, provider, ...owner },
      });
    try {
      if (!(await this.keys.insertUnlessDeleted(entity, recorded))) throw ownerGone();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.CONFLICT, 'name: a key with this name already exists', [
          { field: 'name', message: 'is already used by another key' },
        ]);
      }
      throw error;
    }
    this.audit.published();
    this.logger.log({ msg: 'api key stored', keyId: id, provider, ...owner });
    return toSummary(entity);
  }

  async list(request: ListApiKeysRequest): Promise<ApiKeyPage> {
    const owner = requireOwner(request);
    const limit = Math.min(Math.max(request.limit ?? PAGE_LIMIT_DEFAULT, 1), PAGE_LIMIT_MAX);
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.keys.listForOwner(owner, limit + 1, after);
    return toPage(rows, limit, toSummary);
  }

  async delete(request: DeleteApiKeyRequest): Promise<void> {
    const owner = requireOwner(request);
    const actorUserId = requireUuid('actorUserId', request.actorUserId);
    const keyId = requireUuid('keyId', request.keyId);
    const deleted = await this.keys.deleteForOwner(owner, keyId, (manager, key) =>
      this.audit.recordIn(manager, {
        type: KeyAuditEvents.deleted,
        ...auditParties(owner, actorUserId),
        targetId: keyId,
        details: { name: key.name, provider: key.provider, ...owner },
      }),
    );
    if (!deleted) throw DomainError.notFound('api key');
    this.audit.published();
    this.logger.log({ msg: 'api key deleted', keyId, ...owner });
  }
}
