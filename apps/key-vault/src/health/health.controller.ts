import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { KeyVaultSubjects, type HealthReport } from '@docflow/contracts';
import { KeyProvider } from '../crypto/key-provider';
import { IdentityDeletionsConsumer } from '../deletions/identity-deletions.consumer';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyProvider: KeyProvider,
    private readonly deletions: IdentityDeletionsConsumer,
  ) {}

  @MessagePattern(KeyVaultSubjects.healthCheck)
  async check(): Promise<HealthReport> {
    let database: { status: 'ok' | 'fail'; detail?: string } = { status: 'ok' };
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), 1_000);
    } catch (error) {
      database = { status: 'fail', detail: (error as Error).message || (error as Error).name };
    }
    const masterKey = this.keyProvider.canUnwrap(this.keyProvider.activeKeyId)
      ? ({ status: 'ok' } as const)
      : ({ status: 'fail', detail: 'the active master key is not available' } as const);
    // A deleted user's or team's keys are erased from identity's events: not consuming them is not ready.
    const events = this.deletions.isActive()
      ? ({ status: 'ok' } as const)
      : ({ status: 'fail', detail: 'not consuming identity deletion events yet' } as const);
    const ok = database.status === 'ok' && masterKey.status === 'ok' && events.status === 'ok';
    return {
      service: 'key-vault',
      status: ok ? 'ok' : 'degraded',
      checks: { database, masterKey, events },
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
