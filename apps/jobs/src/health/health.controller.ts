import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { JobsSubjects, type HealthReport } from '@docflow/contracts';

@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  @MessagePattern(JobsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    try {
      await this.dataSource.query('SELECT 1');
      return { service: 'jobs', status: 'ok', checks: { database: { status: 'ok' } } };
    } catch (error) {
      return {
        service: 'jobs',
        status: 'degraded',
        checks: { database: { status: 'fail', detail: (error as Error).message } },
      };
    }
  }
}
