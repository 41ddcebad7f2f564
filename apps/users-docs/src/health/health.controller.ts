import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { UsersDocsSubjects, type HealthReport } from '@docflow/contracts';
import { ObjectStorage } from '@docflow/storage';
import { TeamDeletedConsumer } from '../teams/team-deleted.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly teamDeletions: TeamDeletedConsumer,
  ) {}

  @MessagePattern(UsersDocsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    const [database, storage] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1')),
      probe(() => this.storage.ping()),
    ]);
    // A deleted team's documents are erased from identity's events: not consuming them is not ready.
    const events = this.teamDeletions.isActive()
      ? ({ status: 'ok' } as const)
      : ({ status: 'fail', detail: 'not consuming identity.team.deleted yet' } as const);
    const ok = database.status === 'ok' && storage.status === 'ok' && events.status === 'ok';
    return {
      service: 'users-docs',
      status: ok ? 'ok' : 'degraded',
      checks: { database, storage, events },
    };
  }
}

async function probe(check: () => Promise<unknown>): Promise<{ status: 'ok' | 'fail'; detail?: string }> {
  try {
    await withTimeout(check(), 1_000);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'fail', detail: (error as Error).message || (error as Error).name };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
