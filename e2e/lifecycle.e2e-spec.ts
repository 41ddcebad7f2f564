import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAnswers } from '@docflow/database';
import { portAnswers, startNatsServer, waitFor, type StartedService } from '@docflow/local-platform';
import { json, startPlatform, type RunningPlatform } from './platform';

function childPids(parent: number, pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', pattern], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('when NATS goes away', () => {
  let platform: RunningPlatform;
  let replacement: StartedService | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'docflow-nats-'));

  beforeAll(async () => {
    platform = await startPlatform('outage');
  });

  afterAll(async () => {
    await platform?.stop();
    await replacement?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 within 2 s while it is down and recovers by itself when it returns', async () => {
    expect((await json(`${platform.api}/users?limit=1`)).status).toBe(200);

    const [natsPid] = childPids(platform.launcher.pid!, 'nats-server');
    expect(natsPid).toEqual(expect.any(Number));
    process.kill(natsPid!, 'SIGKILL');
    await waitFor(async () => !(await portAnswers('127.0.0.1', platform.natsPort, 200)));

    // Whatever moment the request lands in, it gets a 503 with the error body, fast.
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await json<{ error: { code: string; requestId: string } }>(`${platform.api}/users?limit=1`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.body.error.requestId).toEqual(expect.any(String));
      expect(elapsed).toBeLessThan(2_000);
    }
    expect((await json(`${platform.health}/ready`)).status).toBe(503);
    expect((await json(`${platform.health}/live`)).status).toBe(200);

    replacement = await startNatsServer(join(dir, 'nats'), '127.0.0.1', platform.natsPort);
    await waitFor(async () => (await json(`${platform.api}/users?limit=1`)).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: 'the gateway and users-docs to reconnect',
    });
    expect((await json(`${platform.health}/ready`)).status).toBe(200);
  });
});

describe('Ctrl-C on npm start', () => {
  it('stops what it started and nothing else', async () => {
    const platform = await startPlatform('ctrlc');
    try {
      const launcherPid = platform.launcher.pid!;
      const children = childPids(launcherPid, '.');
      // users-docs, gateway and the nats-server it had to start itself
      expect(children.length).toBeGreaterThanOrEqual(3);

      expect(await platform.interrupt()).toBe(0);

      for (const port of Object.values(platform.ports))
        expect(await portAnswers('127.0.0.1', port, 300)).toBe(false);
      await waitFor(() => children.every((pid) => !alive(pid)), {
        description: 'every child process to end',
      });
      // The machine's own PostgreSQL, which it found running, is still there.
      expect(await postgresAnswers(platform.databaseUrl)).toBe(true);
      expect(platform.output.join('\n')).toMatch(/SIGINT: stopping nats, s3 and the services/);
    } finally {
      await platform.stop();
    }
  });
});
