// Starts the platform the way the README does (`node tools/local/start.js`, what `npm start` runs after
// building) in isolation: its own database, its own nats-server (started by the launcher because nothing
// answers at the NATS_URL we give it), free ports, and a temporary DOCFLOW_HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { dropDatabase } from '@docflow/database';
import { freePort, waitFor } from '@docflow/local-platform';

export interface RunningPlatform {
  api: string;
  privateApi: string;
  health: string;
  s3Endpoint: string;
  natsPort: number;
  databaseUrl: string;
  webhookToken: string;
  ports: { http: number; private: number; s3: number; nats: number };
  output: string[];
  launcher: ChildProcess;
  /** Sends SIGINT (Ctrl-C) and waits for the launcher to exit; returns its exit code. */
  interrupt(): Promise<number | null>;
  stop(): Promise<void>;
}

export const ROOT = resolve(__dirname, '..');

export async function startPlatform(
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningPlatform> {
  const ports = {
    http: await freePort(),
    private: await freePort(),
    s3: await freePort(),
    nats: await freePort(),
  };
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  server.pathname = `/docflow_e2e_${name}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = server.toString();
  const home = mkdtempSync(join(tmpdir(), `docflow-e2e-${name}-`));
  const webhookToken = randomBytes(24).toString('hex');
  const launcher = spawn(process.execPath, [join(ROOT, 'tools/local/start.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NATS_URL: `nats://127.0.0.1:${ports.nats}`,
      HTTP_PORT: String(ports.http),
      PRIVATE_HTTP_PORT: String(ports.private),
      S3_PORT: String(ports.s3),
      DOCFLOW_HOME: home,
      STORAGE_WEBHOOK_TOKEN: webhookToken,
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [launcher.stdout!, launcher.stderr!])
    createInterface({ input: stream }).on('line', (l) => output.push(l));
  const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const health = `http://127.0.0.1:${ports.http}/health`;
  await waitFor(
    async () => {
      if (exitCode !== undefined)
        throw new Error(`the launcher exited with ${exitCode}:\n${output.join('\n')}`);
      return output.some((l) => l.startsWith('docflow is running'));
    },
    { timeoutMs: 45_000, intervalMs: 100, description: 'the platform to start' },
  );

  const interrupt = async () => {
    if (exitCode !== undefined) return exitCode;
    launcher.kill('SIGINT');
    return exited;
  };
  return {
    api: `http://127.0.0.1:${ports.http}/api/v1`,
    privateApi: `http://127.0.0.1:${ports.private}/api/private`,
    health,
    s3Endpoint: `http://127.0.0.1:${ports.s3}`,
    natsPort: ports.nats,
    databaseUrl,
    webhookToken,
    ports,
    output,
    launcher,
    interrupt,
    async stop() {
      await interrupt();
      await dropDatabase(databaseUrl).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function json<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body: body as T, headers: response.headers };
}
