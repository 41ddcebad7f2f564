import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DomainError,
  JOB_EVENT_PAGE_LIMIT_DEFAULT,
  JOB_EVENT_PAGE_LIMIT_MAX,
  jobEventRowId,
  parseJobEventId,
  type JobEventPage,
  type JobStreamEvent,
  type ListJobEventsRequest,
} from '@docflow/contracts';
import { JOBS_SCHEMA } from '../config';
import { JobsRepository } from '../jobs/jobs.repository';
import { ownerOf } from '../jobs/jobs.service';

const S = JOBS_SCHEMA;
/** A page stops before this many bytes of payload, far below NATS's 1 MB. */
const PAGE_BYTES = 512 * 1024;
const FINAL_TYPES = ['job_completed', 'job_failed', 'job_cancelled'];

/**
 * A job's stored events (`jobs.job_events`) as its SSE stream sends them, for the gateway when JetStream no longer
 * holds them (JOB_EVENTS keeps 7 days; a purge or a new NATS server loses them sooner).
 *
 * Listed: the events that were published, in the order they were stored, which is the order the outbox
 * published them, up to and including the job's first final event (`job_completed`, `job_failed`,
 * `job_cancelled`). Not listed: events stored after it (late callbacks kept for the record, never published) and
 * events still in the outbox (`pending`: the page says so; JetStream has them shortly).
 *
 * Ids: an event's JetStream sequence (`stream_seq`, recorded when JetStream acknowledged the publish), so they
 * are the ids the live stream sent; an event published before the sequence was recorded has `pg-<row>`.
 * Positions (`after`): `pg-<row>` stands after that row; a sequence N after the last event whose recorded
 * sequence is ≤ N, or before every event when none is (an event without a recorded sequence is then sent again
 * rather than lost).
 */
@Injectable()
export class JobEventHistory {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: JobsRepository,
  ) {}

  async list(request: ListJobEventsRequest): Promise<JobEventPage> {
    const job = await this.jobs.findJob(request.jobId.toLowerCase(), ownerOf(request));
    if (!job) throw DomainError.notFound('job');
    const position = request.after === undefined ? { seq: 0 } : parseJobEventId(request.after);
    if (!position) throw DomainError.validation('after', 'must be an event id of this stream');
    const limit = request.limit ?? JOB_EVENT_PAGE_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > JOB_EVENT_PAGE_LIMIT_MAX)
      throw DomainError.validation('limit', `must be a whole number from 1 to ${JOB_EVENT_PAGE_LIMIT_MAX}`);
    return this.page(job.id, position, limit);
  }

  private async page(
    jobId: string,
    position: { seq: number } | { row: string },
    limit: number,
  ): Promise<JobEventPage> {
    const [bounds] = (await this.dataSource.query(
      `SELECT
         (SELECT min(seq) FROM "${S}"."job_events" WHERE job_id = $1 AND type = ANY($2::varchar[])) AS final_row,
         (SELECT min(seq) FROM "${S}"."job_events" WHERE job_id = $1 AND pending) AS pending_row,
         ${
           'row' in position
             ? '$3::bigint'
             : `COALESCE((SELECT max(seq) FROM "${S}"."job_events" WHERE job_id = $1 AND stream_seq <= $3::bigint), 0)`
         } AS after_row`,
      [jobId, FINAL_TYPES, 'row' in position ? position.row : String(position.seq)],
    )) as { final_row: string | null; pending_row: string | null; after_row: string }[];
    const { final_row: finalRow, pending_row: pendingRow, after_row: afterRow } = bounds!;
    const rows = (await this.dataSource.query(
      `SELECT seq, stream_seq, type, payload::text AS payload FROM "${S}"."job_events"
        WHERE job_id = $1 AND seq > $2::bigint
          AND ($3::bigint IS NULL OR seq <= $3::bigint) AND ($4::bigint IS NULL OR seq < $4::bigint)
        ORDER BY seq LIMIT $5`,
      [jobId, afterRow, finalRow, pendingRow, limit + 1],
    )) as { seq: string; stream_seq: string | null; type: string; payload: string }[];
    const items: JobEventPage['items'] = [];
    let bytes = 0;
    let last: string | undefined;
    for (const row of rows.slice(0, limit)) {
      bytes += row.payload.length;
      if (items.length > 0 && bytes > PAGE_BYTES) break;
      items.push({
        id: row.stream_seq ?? jobEventRowId(row.seq),
        type: row.type,
        data: JSON.parse(row.payload) as JobStreamEvent,
      });
      last = row.seq;
    }
    const more = rows.length > items.length;
    const pending = pendingRow !== null && (finalRow === null || BigInt(pendingRow) <= BigInt(finalRow));
    return {
      items,
      ...(more && last ? { nextCursor: jobEventRowId(last) } : {}),
      pending,
    };
  }
}
