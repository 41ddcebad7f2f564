import {
  DomainError,
  JOB_STATUSES,
  JOB_STRATEGIES,
  parseInstant,
  type JobStatus,
  type JobStrategy,
  type ListJobsRequest,
} from '@docflow/contracts';

/** What a job list is narrowed to (every filter given must hold); see `ListJobsRequest`. */
export interface JobListFilters {
  /** Any of these. */
  statuses?: JobStatus[];
  crew?: string;
  strategy?: JobStrategy;
  /** `created_at >= createdAfter`. */
  createdAfter?: Date;
  /** `created_at < createdBefore`. */
  createdBefore?: Date;
  /** Among the job's input documents. */
  docId?: string;
}

const CREW = /^[a-z][a-z0-9-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const INSTANT_MESSAGE = 'must be an ISO 8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z';

/**
 * The filters of a list request, checked (the gateway checks them too; this service answers NATS callers of its
 * own): each bad value is a VALIDATION_FAILED naming its field, and so is a `createdAfter` later than
 * `createdBefore`. Absent or empty filters are left out.
 */
export function jobListFilters(
  request: Pick<ListJobsRequest, 'status' | 'crew' | 'strategy' | 'createdAfter' | 'createdBefore' | 'docId'>,
): JobListFilters {
  const filters: JobListFilters = {};
  if (request.status !== undefined && request.status !== null) {
    const statuses = Array.isArray(request.status) ? request.status : [request.status];
    if (statuses.length === 0 || !statuses.every((s) => (JOB_STATUSES as readonly unknown[]).includes(s)))
      throw DomainError.validation('status', `each must be one of ${JOB_STATUSES.join(', ')}`);
    filters.statuses = [...new Set(statuses)];
  }
  if (request.crew !== undefined && request.crew !== null) {
    if (typeof request.crew !== 'string' || !CREW.test(request.crew))
      throw DomainError.validation('crew', 'must be a crew name');
    filters.crew = request.crew;
  }
  if (request.strategy !== undefined && request.strategy !== null) {
    if (!(JOB_STRATEGIES as readonly unknown[]).includes(request.strategy))
      throw DomainError.validation('strategy', `must be one of ${JOB_STRATEGIES.join(', ')}`);
    filters.strategy = request.strategy;
  }
  for (const field of ['createdAfter', 'createdBefore'] as const) {
    const value = request[field];
    if (value === undefined || value === null) continue;
    const instant = parseInstant(value);
    if (!instant) throw DomainError.validation(field, INSTANT_MESSAGE);
    filters[field] = instant;
  }
  if (filters.createdAfter && filters.createdBefore && filters.createdAfter > filters.createdBefore)
    throw DomainError.validation('createdAfter', 'must not be later than createdBefore');
  if (request.docId !== undefined && request.docId !== null) {
    if (typeof request.docId !== 'string' || !UUID.test(request.docId))
      throw DomainError.validation('docId', 'must be a document id (UUID)');
    filters.docId = request.docId.toLowerCase();
  }
  return filters;
}
