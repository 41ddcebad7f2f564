import { createHash } from 'node:crypto';
import {
  Controller,
  HttpCode,
  Logger,
  Param,
  Post,
  Req,
  Res,
  applyDecorators,
  type RawBodyRequest,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NatsConnection } from 'nats';
import {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  CALLBACK_WINDOW_SECONDS,
  DomainError,
  ErrorCode,
  JobsSubjects,
  jobCallbacksSubject,
  type BufferedCallback,
  type RecordEventRequest,
  type RecordEventResult,
  type ResolvedKey,
} from '@docflow/contracts';
import { STREAMS, ServiceClient, ensureStream } from '@docflow/messaging';
import { ErrorModel, JobEventModel, RecordEventResultModel, ResolvedKeyModel } from '../http/api-models';
import { uuidParam } from '../http/validation';

/** What the OpenAPI description says of every request a step signs with its job's secret. */
const SignedByTheStep = () =>
  applyDecorators(
    ApiHeader({
      name: CALLBACK_TIMESTAMP_HEADER,
      required: true,
      description: `When the step signed the request, in unix seconds; refused more than ${CALLBACK_WINDOW_SECONDS} s away from now`,
      schema: { type: 'string', pattern: '^\\d{1,12}$' },
    }),
    ApiHeader({
      name: CALLBACK_SIGNATURE_HEADER,
      required: true,
      description:
        '`v1=<hex HMAC-SHA256(job secret, "<timestamp>.<body>")>` over the exact bytes of the body',
      schema: { type: 'string', pattern: '^v1=[0-9a-f]{64}$' },
    }),
    ApiResponse({
      status: 401,
      type: ErrorModel,
      description: `\`UNAUTHENTICATED\`: a signature header missing, a timestamp more than ${CALLBACK_WINDOW_SECONDS} s away, or a wrong signature`,
    }),
    ApiResponse({ status: 413, type: ErrorModel, description: 'The body is over 1 MiB' }),
  );

@ApiTags('private: job callbacks')
@Controller()
export class JobCallbacksController {
  private readonly logger = new Logger(JobCallbacksController.name);
  private streamReady?: Promise<void>;

  constructor(private readonly services: ServiceClient) {}

  /** The body is passed on byte for byte: the HMAC covers exactly what the step sent. */
  @Post('webhooks/jobs/:job_id/events')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A workflow step reports an event',
    description:
      'Signed with the per-job secret: `x-docflow-timestamp` (unix seconds, within 5 minutes) and ' +
      '`x-docflow-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. Repeated event ids are ignored.',
  })
  @SignedByTheStep()
  @ApiBody({
    type: JobEventModel,
    description: 'The event, as JSON; the signature covers these exact bytes',
  })
  @ApiResponse({
    status: 200,
    type: RecordEventResultModel,
    description: 'Applied (`duplicate: false`), or an id seen before (`duplicate: true`)',
  })
  @ApiResponse({
    status: 202,
    type: RecordEventResultModel,
    description:
      '`{ accepted: true, duplicate: false, buffered: true }`: the jobs service (or a service it needs for the ' +
      'event) is unavailable; the callback is kept in JetStream and applied (signature checked) when it is back',
  })
  @ApiResponse({
    status: 400,
    type: ErrorModel,
    description:
      '`VALIDATION_FAILED`: `job_id` not a UUID; no body, a body that is not JSON or not an event (`details` names ' +
      'each field); `jobId` not the job of the URL; an `id` that does not start with the job id; a type a step ' +
      'may not report; a step event without `inputId`, or with an input or output key not of this job',
  })
  @ApiResponse({ status: 404, type: ErrorModel, description: '`NOT_FOUND`: no such job' })
  @ApiResponse({
    status: 503,
    type: ErrorModel,
    description:
      '`SERVICE_UNAVAILABLE`: the jobs service (or a service it needs for the event) is unavailable and the ' +
      'callback could not be kept in JetStream either: send it again',
  })
  async record(
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordEventResult> {
    const body = request.rawBody?.toString('utf8');
    if (!body) throw DomainError.validation('body', 'is required');
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const callback = {
      jobId,
      body,
      timestamp: header(CALLBACK_TIMESTAMP_HEADER),
      signature: header(CALLBACK_SIGNATURE_HEADER),
    };
    try {
      return await this.services.send<RecordEventResult>(JobsSubjects.eventRecord, callback);
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== ErrorCode.SERVICE_UNAVAILABLE) throw error;
      // The jobs service is down or restarting: keep the callback in JetStream for it (202) rather than make
      // the step wait or lose the event. Its signature is checked when the jobs service applies it.
      if (!(await this.buffer(callback))) throw error;
      reply.status(202);
      return { accepted: true, duplicate: false, buffered: true };
    }
  }

  /** The body is passed on byte for byte, as for events: the HMAC covers exactly what the step sent. */
  @Post('jobs/:job_id/provider-key')
  @HttpCode(200)
  @ApiOperation({
    summary: "A workflow step asks for its job's provider key",
    description:
      'Signed like an event with the per-job secret; the body is `{"keyId": "<id>"}`, the key the job was started ' +
      'with. Answered from the vault while the job runs (its grant is revoked when it ends).',
  })
  @SignedByTheStep()
  @ApiBody({
    description: 'The key the job was started with; the signature covers these exact bytes',
    schema: {
      type: 'object',
      required: ['keyId'],
      properties: { keyId: { type: 'string', format: 'uuid' } },
    },
  })
  @ApiResponse({ status: 200, type: ResolvedKeyModel })
  @ApiResponse({
    status: 400,
    type: ErrorModel,
    description: '`VALIDATION_FAILED`: `job_id` not a UUID; no body, a body that is not JSON, or no `keyId`',
  })
  @ApiResponse({
    status: 404,
    type: ErrorModel,
    description:
      "`NOT_FOUND`: no such job, not the key of this job, or no live grant for it (the key was deleted, or the job's " +
      'member may no longer use a team key)',
  })
  @ApiResponse({ status: 409, type: ErrorModel, description: '`CONFLICT`: the job has ended' })
  @ApiResponse({
    status: 503,
    type: ErrorModel,
    description: '`SERVICE_UNAVAILABLE`: the jobs service or the key vault is unavailable',
  })
  providerKey(
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<ResolvedKey> {
    const body = request.rawBody?.toString('utf8');
    if (!body) throw DomainError.validation('body', 'is required');
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    return this.services.send<ResolvedKey>(JobsSubjects.stepProviderKey, {
      jobId,
      body,
      timestamp: header(CALLBACK_TIMESTAMP_HEADER),
      signature: header(CALLBACK_SIGNATURE_HEADER),
    });
  }

  private async buffer(callback: RecordEventRequest): Promise<boolean> {
    const nc = (this.services as { natsConnection?: NatsConnection }).natsConnection;
    if (!nc || !this.services.isConnected()) return false;
    try {
      await (this.streamReady ??= ensureStream(nc, STREAMS.jobCallbacks).catch((error: unknown) => {
        this.streamReady = undefined;
        throw error;
      }));
      const message: BufferedCallback = { ...callback, receivedAt: Math.floor(Date.now() / 1000) };
      await nc.jetstream().publish(jobCallbacksSubject(callback.jobId), JSON.stringify(message), {
        // A step retrying the same event (new timestamp, same body) is stored once.
        msgID: createHash('sha256').update(callback.jobId).update('\n').update(callback.body).digest('hex'),
      });
      this.logger.warn({ msg: 'jobs service unavailable: callback buffered', jobId: callback.jobId });
      return true;
    } catch (error) {
      this.logger.error({
        msg: 'could not buffer a callback',
        jobId: callback.jobId,
        error: (error as Error).message,
      });
      return false;
    }
  }
}
