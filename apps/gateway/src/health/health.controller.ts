import { Controller, Get, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  IdentitySubjects,
  JobsSubjects,
  KeyVaultSubjects,
  UserDetailsSubjects,
  UsersDocsSubjects,
  type HealthReport,
} from '@docflow/contracts';
import { Public } from '../auth/public.decorator';
import { HealthCheckModel, LivenessModel, ReadinessModel } from '../http/api-models';
import { ServiceClient } from '@docflow/messaging';

type Check = { status: 'ok' | 'fail'; detail?: string };

/** The services the gateway needs, and the subject each answers health checks on. */
const DOWNSTREAM: Record<string, string> = {
  'users-docs': UsersDocsSubjects.healthCheck,
  jobs: JobsSubjects.healthCheck,
  'key-vault': KeyVaultSubjects.healthCheck,
  'user-details': UserDetailsSubjects.healthCheck,
  identity: IdentitySubjects.healthCheck,
};

@ApiTags('health')
@ApiExtraModels(HealthCheckModel)
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly services: ServiceClient) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiResponse({ status: 200, type: LivenessModel })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'NATS is connected and every downstream service answers (503 otherwise)' })
  @ApiResponse({ status: 200, type: ReadinessModel, description: '`status: ok`: every check passed' })
  @ApiResponse({
    status: 503,
    type: ReadinessModel,
    description:
      '`status: unavailable`: NATS is not connected, or a service failed or did not answer within 1.5 s',
  })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: 'ok' | 'unavailable'; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = {
      nats: this.services.isConnected() ? { status: 'ok' } : { status: 'fail', detail: 'not connected' },
    };
    await Promise.all(
      Object.entries(DOWNSTREAM).map(async ([service, subject]) => {
        try {
          const report = await this.services.send<HealthReport>(subject, {}, { timeoutMs: 1_500 });
          const failed = Object.entries(report.checks)
            .filter(([, c]) => c.status !== 'ok')
            .map(([name]) => name);
          checks[service] = failed.length
            ? { status: 'fail', detail: `failing: ${failed.join(', ')}` }
            : { status: 'ok' };
        } catch (error) {
          checks[service] = { status: 'fail', detail: (error as Error).message };
        }
      }),
    );
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}
