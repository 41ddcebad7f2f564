import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiResponse,
  ApiTags,
  type ApiHeaderOptions,
  type ApiResponseOptions,
} from '@nestjs/swagger';
import { RequireScopes } from '../auth/scopes.decorator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DomainError,
  JOB_EVENT_ID_PATTERN,
  JobsSubjects,
  parseJobEventId,
  type Job,
  type JobEventPosition,
  type JobInputPage,
  type JobPage,
  type JobRef,
  type ListJobsRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import {
  ErrorModel,
  JobInputPageModel,
  JobModel,
  JobPageModel,
  QUOTA_429_JOBS,
  RETRY_AFTER_HEADER,
} from '../http/api-models';
import { uuidParam } from '../http/validation';
import {
  CreateJobDto,
  LIST_JOBS_DESCRIPTION,
  ListJobInputsQueryDto,
  ListJobsQueryDto,
  listJobsFilters,
} from './create-job.dto';
import { JobEventsStream } from './job-events.stream';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** An `Idempotency-Key` header is 1 to 255 visible ASCII characters (400 naming it otherwise). */
export function checkIdempotencyKey(key: string | undefined): void {
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw DomainError.validation('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
  }
}

/**
 * A `Last-Event-ID` header is an event id a stream sent: a sequence (`0`: from the start) or, for an event the
 * stored history served without one, `pg-<row>`. Absent: from the start.
 */
export function lastEventPosition(lastEventId: string | undefined): JobEventPosition {
  if (lastEventId === undefined || lastEventId === '') return { seq: 0 };
  const position = parseJobEventId(lastEventId);
  if (!position) throw DomainError.validation('Last-Event-ID', 'must be an event id this stream sent');
  return position;
}

/** How the job events routes (a user's, a team's) describe `Last-Event-ID`, the stream and the final 204. */
export const EVENTS_LAST_EVENT_ID = {
  name: 'Last-Event-ID',
  required: false,
  description:
    'The `id:` of the last event received (EventSource sends it when it reconnects): the stream resumes right ' +
    'after it. A stream sequence (digits), or `pg-<digits>` for an event of a finished job served from the ' +
    'stored history without one; absent: from the first event',
  schema: { type: 'string', pattern: JOB_EVENT_ID_PATTERN },
} satisfies ApiHeaderOptions;

export const EVENTS_STREAM_RESPONSE = {
  status: 200,
  description:
    "A `text/event-stream`: first `retry: 3000`, then one frame per event, `id: <sequence>` (the event's " +
    'JetStream sequence; `pg-<row>` for an event of a finished job that JetStream no longer holds and whose ' +
    'sequence was never recorded), `event: <type>`, ' +
    '`data: <JSON>` (the event: `jobId`, `type`, `at`, and per type `inputId`, `docIds`, `stage`, `progress`, ' +
    '`status`, `output`, `usage`, `error`, `message`). `heartbeat` frames repeat the last id. The stream ends after ' +
    '`job_completed`, `job_failed` or `job_cancelled`.',
  content: {
    'text/event-stream': {
      schema: { type: 'string' },
      example:
        'retry: 3000\n\nid: 1\nevent: job_started\ndata: {"jobId":"…","type":"job_started","at":"…"}\n\n' +
        'id: 2\nevent: stage_started\ndata: {"jobId":"…","type":"stage_started","inputId":"…","stage":"extract","at":"…"}\n\n',
    },
  },
} satisfies ApiResponseOptions;

export const EVENTS_FINISHED_RESPONSE = {
  status: 204,
  description:
    'The job has finished and nothing follows `Last-Event-ID`: the final event was sent before. Per the SSE ' +
    'specification this tells EventSource to stop reconnecting',
} satisfies ApiResponseOptions;

@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 404, type: ErrorModel, description: 'Unknown user, job or document' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('users/:user_id/jobs')
export class JobsController {
  constructor(
    private readonly services: ServiceClient,
    private readonly stream: JobEventsStream,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScopes('jobs:write')
  @ApiOperation({ summary: 'Start a job over uploaded documents' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'The same key with the same request gives the same job (202); with other parameters (docIds, crew, ' +
      'strategy, options) it is refused with 422',
  })
  @ApiResponse({ status: 202, type: JobModel, description: 'The job, queued or submitted' })
  @ApiResponse({
    status: 403,
    type: ErrorModel,
    description:
      '`options.apiKeyId` is a key of a team where your role may not use its keys; or `QUOTA_EXCEEDED` with a ' +
      '`maxJobsPerDay` of 0 (waiting does not help)',
  })
  @ApiResponse({ status: 429, type: ErrorModel, description: QUOTA_429_JOBS, headers: RETRY_AFTER_HEADER })
  @ApiResponse({
    status: 422,
    type: ErrorModel,
    description: '`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used for a job with other parameters',
  })
  create(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: CreateJobDto,
    @Headers('Idempotency-Key') idempotencyKey?: string,
  ): Promise<Job> {
    checkIdempotencyKey(idempotencyKey);
    return this.services.send(
      JobsSubjects.jobCreate,
      {
        userId,
        docIds: body.docIds,
        crew: body.crew,
        flowId: body.flowId,
        strategy: body.strategy,
        options: body.options,
        idempotencyKey,
      },
      { timeoutMs: 15_000 },
    );
  }

  @Get()
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: "List the user's jobs, newest first", description: LIST_JOBS_DESCRIPTION })
  @ApiResponse({ status: 200, type: JobPageModel })
  list(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Query() query: ListJobsQueryDto,
  ): Promise<JobPage> {
    return this.services.send(JobsSubjects.jobList, {
      userId,
      ...listJobsFilters(query),
    } satisfies ListJobsRequest);
  }

  @Get(':job_id')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'A job: status, per-document state, progress, outputs, timings, token usage' })
  @ApiResponse({ status: 200, type: JobModel })
  get(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
  ): Promise<Job> {
    return this.services.send(JobsSubjects.jobGet, { userId, jobId });
  }

  @Get(':job_id/inputs')
  @RequireScopes('jobs:read')
  @ApiOperation({
    summary: "A job's inputs, paged",
    description:
      'Every input with its documents, state and output, in the order of their steps (`limit`, `cursor`, ' +
      '`status`). A job view lists the first 1,000 documents; this lists them all.',
  })
  @ApiResponse({ status: 200, type: JobInputPageModel })
  inputs(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Query() query: ListJobInputsQueryDto,
  ): Promise<JobInputPage> {
    return this.services.send(JobsSubjects.jobInputs, {
      userId,
      jobId,
      limit: query.limit,
      cursor: query.cursor,
      status: query.status,
    });
  }

  @Delete(':job_id')
  @RequireScopes('jobs:write')
  @ApiOperation({ summary: 'Cancel: the steps are stopped and the job ends `cancelled`' })
  @ApiResponse({ status: 200, type: JobModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The job has already finished' })
  cancel(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
  ): Promise<Job> {
    return this.services.send(JobsSubjects.jobCancel, { userId, jobId }, { timeoutMs: 15_000 });
  }

  @Get(':job_id/events')
  @RequireScopes('jobs:read')
  @ApiOperation({
    summary: "The job's events as Server-Sent Events",
    description:
      'History first, then live: job_started, stage_started, stage_progress, stage_completed, doc_completed, doc_failed, ' +
      'heartbeat (every 15 s), job_completed, job_failed, job_cancelled. Every event has an id; reconnect with ' +
      "`Last-Event-ID` to miss nothing. Any gateway replica serves any job. A finished job's events that the " +
      'event stream no longer holds (it keeps 7 days) are served from the stored history, with the same ids.',
  })
  @ApiHeader(EVENTS_LAST_EVENT_ID)
  @ApiResponse(EVENTS_STREAM_RESPONSE)
  @ApiResponse(EVENTS_FINISHED_RESPONSE)
  async events(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Headers('Last-Event-ID') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = lastEventPosition(lastEventId);
    const ref: JobRef = { userId, jobId };
    const job = await this.services.send<Job>(JobsSubjects.jobGet, ref);
    await this.stream.serve(job, ref, after, request, reply);
  }
}
