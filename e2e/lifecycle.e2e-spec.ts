import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAnswers } from '@docflow/database';
import {
  freePort,
  portAnswers,
  startNatsServer,
  waitFor,
  type StartedService,
} from '@docflow/local-platform';
import { ROOT, json, startPlatform, type RunningPlatform } from './platform';

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
    // Every service reconnects on its own schedule; ready means all of them have.
    await waitFor(async () => (await json(`${platform.health}/ready`)).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: 'every service to reconnect',
    });
  });
});

describe('when NATS hangs without closing its connections', () => {
  let platform: RunningPlatform;
  let natsPid: number | undefined;

  beforeAll(async () => {
    platform = await startPlatform('frozen');
  });

  afterAll(async () => {
    if (natsPid) process.kill(natsPid, 'SIGCONT');
    await platform?.stop();
  });

  it('still answers 503 within 2 s, and serves again once NATS wakes up', async () => {
    expect((await json(`${platform.api}/users?limit=1`)).status).toBe(200);
    [natsPid] = childPids(platform.launcher.pid!, 'nats-server');
    process.kill(natsPid!, 'SIGSTOP');
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await json<{ error: { code: string } }>(`${platform.api}/users?limit=1`);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    process.kill(natsPid!, 'SIGCONT');
    natsPid = undefined;
    await waitFor(async () => (await json(`${platform.api}/users?limit=1`)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
      description: 'the platform to serve again',
    });
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

describe('Ctrl-C while npm start is still starting', () => {
  it('stops what it had started so far and leaves nothing behind', async () => {
    const ports = {
      http: await freePort(),
      private: await freePort(),
      s3: await freePort(),
      nats: await freePort(),
    };
    const home = mkdtempSync(join(tmpdir(), 'docflow-early-'));
    const launcher = spawn(process.execPath, [join(ROOT, 'tools/local/start.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NATS_URL: `nats://127.0.0.1:${ports.nats}`,
        HTTP_PORT: String(ports.http),
        PRIVATE_HTTP_PORT: String(ports.private),
        S3_PORT: String(ports.s3),
        DOCFLOW_HOME: home,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    createInterface({ input: launcher.stdout! }).on('line', (l) => output.push(l));
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
    try {
      // Interrupt as soon as it has started something of its own (the S3 server comes up before the services).
      await waitFor(() => output.some((l) => l.startsWith('migrate')), { timeoutMs: 20_000, intervalMs: 5 });
      const children = childPids(launcher.pid!, '.');
      launcher.kill('SIGINT');
      expect(await exited).toBe(130);
      await waitFor(() => children.every((pid) => !alive(pid)), {
        description: 'every child process to end',
      });
      for (const port of Object.values(ports)) expect(await portAnswers('127.0.0.1', port, 300)).toBe(false);
    } finally {
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
