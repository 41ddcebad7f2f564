import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { UserDetailsSubjects, type HealthReport } from '@docflow/contracts';
import { UserDeletedConsumer } from '../deletions/user-deleted.consumer';
import { UserRegisteredConsumer } from '../setup/user-registered.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly consumer: UserRegisteredConsumer,
    private readonly deletions: UserDeletedConsumer,
  ) {}

  @MessagePattern(UserDetailsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    let database: { status: 'ok' | 'fail'; detail?: string } = { status: 'ok' };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out after 1000 ms')), 1_000);
        }),
      ]);
    } catch (error) {
      database = { status: 'fail', detail: (error as Error).message || (error as Error).name };
    } finally {
      clearTimeout(timer);
    }
    // Both consumers: the new-user setup, and the deletions (a deleted account's details go).
    const idle = [
      ...(this.consumer.isActive() ? [] : ['identity.user.registered']),
      ...(this.deletions.isActive() ? [] : ['identity.user.deleted']),
    ];
    const events =
      idle.length === 0
        ? ({ status: 'ok' } as const)
        : ({ status: 'fail', detail: `not consuming ${idle.join(', ')} yet` } as const);
    const ok = database.status === 'ok' && events.status === 'ok';
    return { service: 'user-details', status: ok ? 'ok' : 'degraded', checks: { database, events } };
  }
}
