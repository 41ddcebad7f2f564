import { isBuiltinCrewName, loadBuiltinCrew } from '@docflow/agents';
import {
  DOCUMENT_KINDS,
  DomainError,
  JOB_STRATEGIES,
  SCHEDULE_CATCH_UP,
  type CreateScheduleRequest,
  type JobStrategy,
  type ScheduleCatchUp,
  type ScheduleDocuments,
  type ScheduleJobOptions,
} from '@docflow/contracts';
import { objectBatchSize } from '../jobs/object-batch-size';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTENT_TYPE_FILTER = /^[a-z0-9!#$&^_.+-]{1,127}\/([a-z0-9!#$&^_.+-]{1,127}|\*)$/i;

/** What every run of a schedule asks the jobs service for. */
export interface JobSpec {
  crew: string;
  strategy: JobStrategy;
  options: ScheduleJobOptions;
}

/**
 * The job a schedule will start, checked now rather than at its first run: the same rules as
 * `POST /jobs` (a known crew, its required parameters, no flows yet, `options.batchSize` only for `object`).
 */
export function checkJobSpec(
  request: Pick<CreateScheduleRequest, 'crew' | 'flowId' | 'strategy' | 'options'>,
): JobSpec {
  if (request.flowId) throw DomainError.validation('flowId', 'flows are not available yet; name a crew');
  const crew = request.crew ?? 'summarize';
  if (!isBuiltinCrewName(crew)) throw DomainError.validation('crew', `unknown crew "${crew}"`);
  const strategy = request.strategy ?? 'individual';
  if (!JOB_STRATEGIES.includes(strategy)) {
    throw DomainError.validation('strategy', `must be one of ${JOB_STRATEGIES.join(', ')}`);
  }
  const params = request.options?.params ?? {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string' || value.length > 100_000) {
      throw DomainError.validation(
        `options.params.${name}`,
        'must be a string of at most 100,000 characters',
      );
    }
  }
  for (const [name, definition] of Object.entries(loadBuiltinCrew(crew).params)) {
    const required = definition.required ?? definition.default === undefined;
    if (required && definition.default === undefined && params[name] === undefined) {
      throw DomainError.validation(`options.params.${name}`, `is required by the ${crew} crew`);
    }
  }
  const apiKeyId = request.options?.apiKeyId;
  if (apiKeyId !== undefined && (typeof apiKeyId !== 'string' || !UUID.test(apiKeyId))) {
    throw DomainError.validation('options.apiKeyId', 'must be a key id (UUID)');
  }
  const batchSize = request.options?.batchSize;
  objectBatchSize(strategy, batchSize);
  return {
    crew,
    strategy,
    options: {
      ...(request.options?.params ? { params } : {}),
      ...(request.options?.model ? { model: request.options.model } : {}),
      ...(apiKeyId ? { apiKeyId: apiKeyId.toLowerCase() } : {}),
      ...(batchSize !== undefined && batchSize !== null ? { batchSize } : {}),
    },
  };
}

/** Exactly one of `docIds` and `filter`; ids lower-cased and unique; a filter's kind `upload` unless given. */
export function checkDocuments(
  documents: CreateScheduleRequest['documents'] | undefined,
  maxDocs: number,
): ScheduleDocuments {
  const hasIds = documents?.docIds !== undefined;
  const hasFilter = documents?.filter !== undefined;
  if (!documents || hasIds === hasFilter) {
    throw DomainError.validation('documents', 'give either docIds or filter');
  }
  if (hasIds) {
    const ids = documents.docIds!;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.some((id) => typeof id !== 'string' || !UUID.test(id))
    ) {
      throw DomainError.validation('documents.docIds', 'must be a non-empty list of document ids');
    }
    const docIds = [...new Set(ids.map((id) => id.toLowerCase()))];
    if (docIds.length > maxDocs) {
      throw DomainError.validation('documents.docIds', `at most ${maxDocs} documents per job`);
    }
    return { docIds };
  }
  const filter = documents.filter!;
  if (typeof filter !== 'object' || filter === null) {
    throw DomainError.validation('documents.filter', 'must be an object');
  }
  const kind = filter.kind ?? 'upload';
  if (!DOCUMENT_KINDS.includes(kind)) {
    throw DomainError.validation('documents.filter.kind', `must be one of ${DOCUMENT_KINDS.join(', ')}`);
  }
  if (filter.contentType !== undefined && !CONTENT_TYPE_FILTER.test(filter.contentType)) {
    throw DomainError.validation(
      'documents.filter.contentType',
      'must be a content type such as text/plain or text/*',
    );
  }
  if (filter.uploadedSinceLastRun !== undefined && typeof filter.uploadedSinceLastRun !== 'boolean') {
    throw DomainError.validation('documents.filter.uploadedSinceLastRun', 'must be a boolean');
  }
  return {
    filter: {
      kind,
      ...(filter.contentType ? { contentType: filter.contentType.toLowerCase() } : {}),
      ...(filter.uploadedSinceLastRun ? { uploadedSinceLastRun: true } : {}),
    },
  };
}

export function checkCatchUp(value: unknown): ScheduleCatchUp {
  const catchUp = (value ?? 'latest') as ScheduleCatchUp;
  if (!SCHEDULE_CATCH_UP.includes(catchUp)) {
    throw DomainError.validation('catchUp', `must be one of ${SCHEDULE_CATCH_UP.join(', ')}`);
  }
  return catchUp;
}

export function checkName(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200) {
    throw DomainError.validation('name', 'must be 1 to 200 characters');
  }
  return value.trim();
}
