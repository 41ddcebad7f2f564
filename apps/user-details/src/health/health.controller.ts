import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { UserDetailsSubjects, type HealthReport } from '@docflow/contracts';
import { UserRegisteredConsumer } from '../setup/user-registered.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly consumer: UserRegisteredConsumer,
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
    const events = this.consumer.isActive()
      ? ({ status: 'ok' } as const)
      : ({ status: 'fail', detail: 'not consuming identity events yet' } as const);
    const ok = database.status === 'ok' && events.status === 'ok';
    return { service: 'user-details', status: ok ? 'ok' : 'degraded', checks: { database, events } };
  }
}
