import { createHash } from 'node:crypto';
import { Controller, HttpCode, Logger, Param, Post, Req, Res, type RawBodyRequest } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NatsConnection } from 'nats';
import {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
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
import { ErrorModel } from '../http/api-models';
import { uuidParam } from '../http/validation';

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
  @ApiResponse({ status: 200, description: '`{ accepted: true, duplicate }`' })
  @ApiResponse({
    status: 202,
    description:
      '`{ accepted: true, buffered: true }`: the jobs service is unavailable; the callback is kept in JetStream ' +
      'and applied (signature checked) when it is back',
  })
  @ApiResponse({ status: 401, type: ErrorModel, description: 'Missing, stale or wrong signature' })
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
  @ApiResponse({ status: 200, description: '`{ keyId, provider, key }`' })
  @ApiResponse({ status: 401, type: ErrorModel, description: 'Missing, stale or wrong signature' })
  @ApiResponse({ status: 404, type: ErrorModel, description: 'Not the key of this job' })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The job has ended' })
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
