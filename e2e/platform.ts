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
  /** DOCFLOW_HOME of this run (identity's development signing key is under `identity/`). */
  home: string;
  webhookToken: string;
  /** The bootstrap platform admin's credentials and `Authorization` header (`json()` sends it by default). */
  admin: { email: string; password: string; userId: string; authorization: string };
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
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // Tests sign up and sign in many times from one address; the rate-limit tests set their own limits.
      RATE_LIMIT_PREFIX: `docflow-e2e-${randomBytes(6).toString('hex')}`,
      RATE_LIMIT_SIGNUP_IP: '100000/3600',
      RATE_LIMIT_SIGNUP_ACCOUNT: '100000/3600',
      RATE_LIMIT_LOGIN_IP: '100000/300',
      RATE_LIMIT_LOGIN_ACCOUNT: '100000/900',
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

  const admin = await waitFor(
    async () => {
      const res = await json<{ jwt: string; user: { id: string } }>(
        `http://127.0.0.1:${ports.http}/api/v1/auth/login`,
        { method: 'POST', body: ADMIN, anonymous: true },
      );
      return res.status === 200 ? res.body : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, description: 'the bootstrap admin to sign in' },
  );
  defaultAuthorization = `Bearer ${admin.jwt}`;

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
    home,
    webhookToken,
    admin: { ...ADMIN, userId: admin.user.id, authorization: defaultAuthorization },
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

export const ADMIN = { email: 'e2e-admin@example.com', password: 'e2e-admin-password' };

/**
 * The `Authorization` header `json()` sends when the call names none: the platform admin's, so the tests of
 * documents and jobs act with access to every user. Tests of identity itself pass their own, or `anonymous`.
 */
let defaultAuthorization: string | undefined;

/** An account made through signup, with its `Authorization` header. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  jwt: string;
  refreshToken: string;
  authorization: string;
}

/** Signs up a new account (`domain`: the email's, e.g. one of TEAM_PLAN_EMAIL_DOMAINS). */
export async function signup(api: string, name = 'Test User', domain = 'example.com'): Promise<TestUser> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomBytes(5).toString('hex')}@${domain}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const res = await json<{ jwt: string; refreshToken: string; user: { id: string } }>(`${api}/auth/signup`, {
    method: 'POST',
    body: { name, email, password },
    anonymous: true,
  });
  if (res.status !== 201) throw new Error(`signup answered ${res.status}: ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email,
    password,
    jwt: res.body.jwt,
    refreshToken: res.body.refreshToken,
    authorization: `Bearer ${res.body.jwt}`,
  };
}

/** The default `Authorization` header, for raw `fetch` calls. */
export function adminHeaders(): Record<string, string> {
  return defaultAuthorization ? { authorization: defaultAuthorization } : {};
}

export async function json<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; anonymous?: boolean } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const auth: Record<string, string> =
    init.anonymous || init.headers?.authorization !== undefined || !defaultAuthorization
      ? {}
      : { authorization: defaultAuthorization };
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...auth,
      ...init.headers,
    },
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
