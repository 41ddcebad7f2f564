import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { JobsSubjects, type HealthReport } from '@docflow/contracts';
import { TeamDeletedConsumer } from '../deletions/team-deleted.consumer';
import { UserDeletedConsumer } from '../deletions/user-deleted.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deletions: UserDeletedConsumer,
    private readonly teamDeletions: TeamDeletedConsumer,
  ) {}

  @MessagePattern(JobsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    let database: { status: 'ok' | 'fail'; detail?: string } = { status: 'ok' };
    try {
      await this.dataSource.query('SELECT 1');
    } catch (error) {
      database = { status: 'fail', detail: (error as Error).message };
    }
    // A deleted user's or team's jobs go from identity's events: not consuming them is not ready.
    const events =
      this.deletions.isActive() && this.teamDeletions.isActive()
        ? ({ status: 'ok' } as const)
        : ({ status: 'fail', detail: 'not consuming identity deletion events yet' } as const);
    const ok = database.status === 'ok' && events.status === 'ok';
    return { service: 'jobs', status: ok ? 'ok' : 'degraded', checks: { database, events } };
  }
}
