import { Controller, HttpCode, Param, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  DomainError,
  JobsSubjects,
  type RecordEventResult,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { ErrorModel } from '../http/api-models';
import { uuidParam } from '../http/validation';

@ApiTags('private: job callbacks')
@Controller()
export class JobCallbacksController {
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
  @ApiResponse({ status: 401, type: ErrorModel, description: 'Missing, stale or wrong signature' })
  record(
    @Param('job_id', uuidParam('job_id')) jobId: string,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<RecordEventResult> {
    const body = request.rawBody?.toString('utf8');
    if (!body) throw DomainError.validation('body', 'is required');
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    return this.services.send(JobsSubjects.eventRecord, {
      jobId,
      body,
      timestamp: header(CALLBACK_TIMESTAMP_HEADER),
      signature: header(CALLBACK_SIGNATURE_HEADER),
    });
  }
}
