import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { UsersDocsSubjects, type HealthReport } from '@docflow/contracts';
import { ObjectStorage } from '@docflow/storage';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
  ) {}

  @MessagePattern(UsersDocsSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    const [database, storage] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1')),
      probe(() => this.storage.ping()),
    ]);
    const ok = database.status === 'ok' && storage.status === 'ok';
    return { service: 'users-docs', status: ok ? 'ok' : 'degraded', checks: { database, storage } };
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
