import type { Job, JobDocument } from '@docflow/contracts';
import { jobProgress } from './job-state';
import type { JobEntity } from './job.entity';

export function toJob(entity: JobEntity): Job {
  const inputs = entity.documents ?? [];
  const documents: JobDocument[] = inputs.flatMap((input) =>
    input.docIds.map((docId) => ({
      docId,
      inputId: input.inputId,
      status: input.status,
      ...(input.stage ? { stage: input.stage } : {}),
      progress: input.status === 'completed' ? 100 : input.progress,
      ...(input.outputDocId ? { outputDocId: input.outputDocId } : {}),
      ...(input.error ? { error: input.error } : {}),
    })),
  );
  return {
    id: entity.id,
    userId: entity.userId,
    status: entity.status,
    crew: entity.crew,
    strategy: entity.strategy,
    params: entity.params,
    docIds: entity.docIds,
    documents,
    progress:
      entity.status === 'completed' || entity.status === 'completed_with_errors' ? 100 : jobProgress(inputs),
    outputDocIds: inputs.map((i) => i.outputDocId).filter((id): id is string => !!id),
    usage: entity.usage,
    engine: entity.engine,
    ...(entity.error ? { error: entity.error } : {}),
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
    ...(entity.submittedAt ? { submittedAt: entity.submittedAt.toISOString() } : {}),
    ...(entity.startedAt ? { startedAt: entity.startedAt.toISOString() } : {}),
    ...(entity.finishedAt ? { finishedAt: entity.finishedAt.toISOString() } : {}),
  };
}
