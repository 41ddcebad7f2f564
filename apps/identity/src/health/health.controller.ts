import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { IdentitySubjects, type HealthReport } from '@docflow/contracts';
import { SigningKeys } from '../keys/signing-keys';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: SigningKeys,
  ) {}

  /** Database and signing keys. Redis is not a check: without it rate limits count in memory. */
  @MessagePattern(IdentitySubjects.healthCheck)
  async check(): Promise<HealthReport> {
    const [database, signingKeys] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1')),
      probe(() => this.keys.init()),
    ]);
    const ok = database.status === 'ok' && signingKeys.status === 'ok';
    return { service: 'identity', status: ok ? 'ok' : 'degraded', checks: { database, signingKeys } };
  }
}

async function probe(check: () => Promise<unknown>): Promise<{ status: 'ok' | 'fail'; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out after 1000 ms')), 1_000);
      }),
    ]);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'fail', detail: (error as Error).message || (error as Error).name };
  } finally {
    clearTimeout(timer);
  }
}
