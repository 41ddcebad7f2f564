import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, ensureDatabase } from '@docflow/database';
import { startNatsServer, type StartedService } from './embedded-services';

export interface TestEnvironment {
  /** A database of its own, created for this environment and dropped by `close()`. */
  databaseUrl: string;
  /** A nats-server of its own: no other process answers on its subjects. */
  natsUrl: string;
  nats: StartedService;
  directory: string;
  close(): Promise<void>;
}

/**
 * Real PostgreSQL and NATS, isolated per test suite: a fresh database on the machine's PostgreSQL
 * (TEST_DATABASE_URL names the server) and a nats-server on a free port. Suites run in parallel and
 * next to a developer's `npm start` without seeing each other's messages or rows.
 */
export async function createTestEnvironment(name = 'test'): Promise<TestEnvironment> {
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  server.pathname = `/docflow_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = server.toString();
  await ensureDatabase(databaseUrl);
  const directory = mkdtempSync(join(tmpdir(), `docflow-${name}-`));
  let nats: StartedService;
  try {
    // Port 0: the server binds a port of the system's choosing and says which (no race with other runs).
    nats = await startNatsServer(join(directory, 'nats'), '127.0.0.1', 0);
  } catch (error) {
    await dropDatabase(databaseUrl);
    throw error;
  }
  return {
    databaseUrl,
    natsUrl: nats.url,
    nats,
    directory,
    async close() {
      await nats.stop();
      await dropDatabase(databaseUrl);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
