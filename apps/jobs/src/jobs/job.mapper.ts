import { JOB_VIEW_DOCUMENTS, type Job, type JobDocument, type JobInput } from '@docflow/contracts';
import type { JobDocumentEntity } from './job-document.entity';
import { countedProgress } from './job-state';
import type { JobEntity } from './job.entity';

/**
 * The job as the API shows it. `entity.documents` holds the first inputs only (see the repository), and at most
 * `maxDocuments` documents are listed; the counts and `truncated` say whether there are more.
 */
export function toJob(entity: JobEntity, maxDocuments = JOB_VIEW_DOCUMENTS): Job {
  const inputs = entity.documents ?? [];
  const documents: JobDocument[] = [];
  for (const input of inputs) {
    for (const docId of input.docIds) {
      if (documents.length >= maxDocuments) break;
      documents.push({
        docId,
        inputId: input.inputId,
        status: input.status,
        ...(input.stage ? { stage: input.stage } : {}),
        progress: input.status === 'completed' ? 100 : input.progress,
        ...(input.outputDocId ? { outputDocId: input.outputDocId } : {}),
        ...(input.error ? { error: input.error } : {}),
      });
    }
  }
  const outputDocIds = inputs
    .map((i) => i.outputDocId)
    .filter((id): id is string => !!id)
    .slice(0, maxDocuments);
  const documentCount = entity.docIds.length;
  return {
    id: entity.id,
    userId: entity.userId,
    ...(entity.teamId ? { teamId: entity.teamId } : {}),
    status: entity.status,
    crew: entity.crew,
    strategy: entity.strategy,
    params: entity.params,
    docIds: entity.docIds.slice(0, maxDocuments),
    documents,
    progress:
      entity.status === 'completed' || entity.status === 'completed_with_errors'
        ? 100
        : countedProgress(entity),
    outputDocIds,
    documentCount,
    inputCount: entity.inputsTotal,
    truncated: documentCount > documents.length || inputs.length < entity.inputsTotal,
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

export function toJobInput(input: JobDocumentEntity): JobInput {
  return {
    inputId: input.inputId,
    name: input.name,
    chunk: input.chunk,
    docIds: input.docIds,
    status: input.status,
    ...(input.stage ? { stage: input.stage } : {}),
    progress: input.status === 'completed' ? 100 : input.progress,
    ...(input.outputDocId ? { outputDocId: input.outputDocId } : {}),
    ...(input.error ? { error: input.error } : {}),
  };
}
