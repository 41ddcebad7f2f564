import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  KeyVaultSubjects,
  verifyCallback,
  type ResolveKeyForJobRequest,
  type ResolvedKey,
  type StepProviderKeyRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { isTerminal } from './job-state';
import { JobsRepository } from './jobs.repository';

/**
 * A step asks for its job's provider key. The request is signed with the job's secret like a callback; the key
 * must be the one the job was started with; the vault answers only while the job's grant lives (it is revoked
 * when the job ends). The key crosses NATS (vault → here → gateway) and the private API to the step, and is
 * never logged, stored or put in a workflow parameter.
 */
@Injectable()
export class StepKeysUseCase {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly services: ServiceClient,
  ) {}

  async providerKey(request: StepProviderKeyRequest): Promise<ResolvedKey> {
    const job = await this.jobs.findJob(request.jobId);
    if (!job) throw DomainError.notFound('job');
    const check = verifyCallback(job.callbackSecret, request.timestamp, request.signature, request.body);
    if (!check.ok)
      throw new DomainError(ErrorCode.UNAUTHENTICATED, `request refused: signature ${check.reason}`);
    let keyId: unknown;
    try {
      keyId = (JSON.parse(request.body) as { keyId?: unknown }).keyId;
    } catch {
      throw DomainError.validation('body', 'is not JSON');
    }
    if (typeof keyId !== 'string') throw DomainError.validation('keyId', 'is required');
    if (!job.apiKeyId || keyId.toLowerCase() !== job.apiKeyId)
      throw DomainError.notFound('provider key of this job');
    if (isTerminal(job.status)) throw new DomainError(ErrorCode.CONFLICT, `the job is already ${job.status}`);
    return this.services.send<ResolvedKey>(KeyVaultSubjects.keyResolveForJob, {
      jobId: job.id,
      keyId: job.apiKeyId,
    } satisfies ResolveKeyForJobRequest);
  }
}
