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
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  JobsSubjects,
  type AuthPrincipal,
  type CreateJobRequest,
  type Job,
  type JobInputPage,
  type JobPage,
  type JobRef,
  type ListJobInputsRequest,
  type ListJobsRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal } from '../auth/principal';
import { RequireScopes } from '../auth/scopes.decorator';
import { TeamAccess } from '../auth/team-access';
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
import {
  EVENTS_FINISHED_RESPONSE,
  EVENTS_LAST_EVENT_ID,
  EVENTS_STREAM_RESPONSE,
  checkIdempotencyKey,
  lastEventPosition,
} from './jobs.controller';

/**
 * A team's jobs: over the team's documents, their outputs the team's documents, any member with the role for it
 * acting on them (not only the one who started them). `job.read` (owner, editor, reader) to see them,
 * `job.create` (owner, editor) to start and cancel them; not a member: 404, a role that does not allow it: 403
 * (`TeamAccess`, the matrix of docs/authorization.md). The same scopes as the user's job routes.
 */
@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({
  status: 403,
  type: ErrorModel,
  description:
    'A personal access token without the scope the route names, or a team role that does not allow it ' +
    '(`job.read`: owner, editor, reader; `job.create`: owner, editor)',
})
@ApiResponse({
  status: 404,
  type: ErrorModel,
  description: 'Unknown team or not a member, or no such job or document of the team',
})
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('teams/:team_id/jobs')
export class TeamJobsController {
  constructor(
    private readonly services: ServiceClient,
    private readonly stream: JobEventsStream,
    private readonly teams: TeamAccess,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScopes('jobs:write')
  @ApiOperation({
    summary: "Start a job of the team over the team's uploaded documents",
    description:
      "The documents must be the team's; the outputs become documents of the team. `options.apiKeyId` may name a " +
      'key of the team (or your own) that your role may use.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      "The team's: the same key with the same request gives the same job (202), whoever of the members sends it; " +
      'with other parameters (docIds, crew, strategy, options) it is refused with 422',
  })
  @ApiResponse({ status: 202, type: JobModel, description: 'The job, queued or submitted' })
  @ApiResponse({
    status: 403,
    type: ErrorModel,
    description:
      'Your role in the team does not allow it (`job.create`: owner, editor); or `QUOTA_EXCEEDED` with a ' +
      '`maxJobsPerDay` of 0 (the quota of the member who starts it: a team job counts as theirs)',
  })
  @ApiResponse({
    status: 422,
    type: ErrorModel,
    description: '`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used for a job with other parameters',
  })
  @ApiResponse({
    status: 429,
    type: ErrorModel,
    description: `${QUOTA_429_JOBS} (the quota of the member who starts it: a team job counts as theirs)`,
    headers: RETRY_AFTER_HEADER,
  })
  async create(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Body() body: CreateJobDto,
    @Headers('Idempotency-Key') idempotencyKey?: string,
  ): Promise<Job> {
    checkIdempotencyKey(idempotencyKey);
    const owner = await this.teams.authorize(principal, teamId, 'job.create');
    return this.services.send(
      JobsSubjects.jobCreate,
      {
        ...owner,
        docIds: body.docIds,
        crew: body.crew,
        flowId: body.flowId,
        strategy: body.strategy,
        options: body.options,
        idempotencyKey,
      } satisfies CreateJobRequest,
      { timeoutMs: 15_000 },
    );
  }

  @Get()
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: "List the team's jobs, newest first", description: LIST_JOBS_DESCRIPTION })
  @ApiResponse({ status: 200, type: JobPageModel })
  async list(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Query() query: ListJobsQueryDto,
  ): Promise<JobPage> {
    const owner = await this.teams.authorize(principal, teamId, 'job.read');
    return this.services.send(JobsSubjects.jobList, {
      ...owner,
      ...listJobsFilters(query),
    } satisfies ListJobsRequest);
  }

  @Get(':job_id')
  @RequireScopes('jobs:read')
  @ApiOperation({
    summary: "A team's job: status, per-document state, progress, outputs, timings, token usage",
  })
  @ApiResponse({ status: 200, type: JobModel })
  async get(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
  ): Promise<Job> {
    const owner = await this.teams.authorize(principal, teamId, 'job.read');
    return this.services.send(JobsSubjects.jobGet, { ...owner, jobId } satisfies JobRef);
  }

  @Get(':job_id/inputs')
  @RequireScopes('jobs:read')
  @ApiOperation({
    summary: "A team's job's inputs, paged",
    description: 'Every input with its documents, state and output, in the order of their steps.',
  })
  @ApiResponse({ status: 200, type: JobInputPageModel })
  async inputs(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Query() query: ListJobInputsQueryDto,
  ): Promise<JobInputPage> {
    const owner = await this.teams.authorize(principal, teamId, 'job.read');
    return this.services.send(JobsSubjects.jobInputs, {
      ...owner,
      jobId,
      limit: query.limit,
      cursor: query.cursor,
      status: query.status,
    } satisfies ListJobInputsRequest);
  }

  @Delete(':job_id')
  @RequireScopes('jobs:write')
  @ApiOperation({ summary: "Cancel a team's job: the steps are stopped and the job ends `cancelled`" })
  @ApiResponse({ status: 200, type: JobModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The job has already finished' })
  async cancel(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
  ): Promise<Job> {
    const owner = await this.teams.authorize(principal, teamId, 'job.create');
    return this.services.send(JobsSubjects.jobCancel, { ...owner, jobId } satisfies JobRef, {
      timeoutMs: 15_000,
    });
  }

  @Get(':job_id/events')
  @RequireScopes('jobs:read')
  @ApiOperation({
    summary: "A team's job's events as Server-Sent Events",
    description:
      'As for a job of your own: history first, then live; reconnect with `Last-Event-ID` to miss nothing.',
  })
  @ApiHeader(EVENTS_LAST_EVENT_ID)
  @ApiResponse(EVENTS_STREAM_RESPONSE)
  @ApiResponse(EVENTS_FINISHED_RESPONSE)
  async events(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('team_id', uuidParam('team_id')) teamId: string,
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Headers('Last-Event-ID') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = lastEventPosition(lastEventId);
    const owner = await this.teams.authorize(principal, teamId, 'job.read');
    const ref: JobRef = { ...owner, jobId };
    const job = await this.services.send<Job>(JobsSubjects.jobGet, ref);
    await this.stream.serve(job, ref, after, request, reply);
  }
}
