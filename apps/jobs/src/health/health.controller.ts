import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { JobsSubjects, type HealthReport } from '@docflow/contracts';
import { UserDeletedConsumer } from '../deletions/user-deleted.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deletions: UserDeletedConsumer,
  ) {}

  @MessagePattern(JobsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    let database: { status: 'ok' | 'fail'; detail?: string } = { status: 'ok' };
    try {
      await this.dataSource.query('SELECT 1');
    } catch (error) {
      database = { status: 'fail', detail: (error as Error).message };
    }
    // A deleted user's jobs and schedules go from identity's events: not consuming them is not ready.
    const events = this.deletions.isActive()
      ? ({ status: 'ok' } as const)
      : ({ status: 'fail', detail: 'not consuming identity deletion events yet' } as const);
    const ok = database.status === 'ok' && events.status === 'ok';
    return { service: 'jobs', status: ok ? 'ok' : 'degraded', checks: { database, events } };
  }
}
