import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { KeyVaultSubjects, type HealthReport } from '@docflow/contracts';
import { KeyProvider } from '../crypto/key-provider';

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyProvider: KeyProvider,
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
    const ok = database.status === 'ok' && masterKey.status === 'ok';
    return { service: 'key-vault', status: ok ? 'ok' : 'degraded', checks: { database, masterKey } };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
