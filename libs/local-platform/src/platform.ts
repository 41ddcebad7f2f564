import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { redactUrlPassword as redactUrl } from '@docflow/config';
import { postgresAnswers } from '@docflow/database';
import { startEmbeddedPostgres, startNatsServer, type StartedService } from './embedded-services';
import { LocalS3Server } from './local-s3-server';
import { portAnswers } from './ports';
import { spawnService, stopService, type ServiceProcess } from './supervisor';
import { waitFor } from './wait-for';

export interface LocalPlatformOptions {
  /** The repository root (where `apps/` is). */
  root: string;
  env?: Record<string, string | undefined>;
  /** Receives every line the platform and its services print. */
  log?: (line: string) => void;
  /** Receives the services' own output lines (JSON logs); defaults to `log` with a prefix. */
  serviceOutput?: (service: string, line: string) => void;
  /** Aborting it (Ctrl-C) during start-up stops what was started so far, and the start fails. */
  signal?: AbortSignal;
}

export interface LocalPlatform {
  publicUrl: string;
  privateUrl: string;
  s3Endpoint: string;
  databaseUrl: string;
  natsUrl: string;
  /** What the platform started itself (and will stop), as opposed to what it found running. */
  started: string[];
  s3: LocalS3Server;
  /**
   * Resolves when the platform gives up on a service: it exited before the platform was ready, or kept
   * crashing after restarts (a service that exits once is restarted).
   */
  crashed: Promise<string>;
  stop(): Promise<void>;
}

const LOCAL_S3_CREDENTIALS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' };

/** The services, in start order (the gateway last: it is ready only when every one of them answers). */
export const LOCAL_SERVICES = ['users-docs', 'jobs', 'identity', 'key-vault', 'user-details'] as const;

/**
 * The key vault's master key for local runs: MASTER_KEY / MASTER_KEY_ID from the environment when set, else a
 * random key made on the first start and kept in `<DOCFLOW_HOME>/key-vault/master-key.json` (mode 0600, outside
 * git: `.docflow/` is ignored). Losing that file makes the locally stored provider keys unreadable. A cluster
 * takes the key from a Kubernetes Secret instead (docs/key-vault.md).
 */
export function localMasterKey(
  home: string,
  env: Record<string, string | undefined>,
): { MASTER_KEY: string; MASTER_KEY_ID: string } {
  if (env.MASTER_KEY) return { MASTER_KEY: env.MASTER_KEY, MASTER_KEY_ID: env.MASTER_KEY_ID ?? 'v1' };
  const directory = join(home, 'key-vault');
  const file = join(directory, 'master-key.json');
  if (!existsSync(file)) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const made = { id: 'local-1', key: randomBytes(32).toString('base64') };
    writeFileSync(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { id: string; key: string };
  return { MASTER_KEY: stored.key, MASTER_KEY_ID: stored.id };
}

/**
 * Runs the whole platform on one machine: PostgreSQL and NATS where they already answer (or embedded
 * ones), a local S3 server whose events reach the private webhook as MinIO's would, the migrations,
 * then users-docs, jobs, identity, key-vault, user-details and the gateway as child processes. `stop()` ends
 * only what it started.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const env = { ...process.env, ...options.env };
  const log = options.log ?? ((line: string) => console.log(line));
  const output = options.serviceOutput ?? ((service: string, line: string) => log(`[${service}] ${line}`));
  const home = resolve(options.root, env.DOCFLOW_HOME ?? '.docflow');
  mkdirSync(home, { recursive: true });

  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const started: string[] = [];
  const services: ServiceProcess[] = [];
  let stopped = false;

  // Each call stops whatever is still running, so a stop that overlaps a start-up step also catches what
  // that step starts after it; calls are chained, never concurrent.
  let stopping: Promise<void> = Promise.resolve();
  let interrupt: (reason: Error) => void = () => undefined;
  const interrupted = new Promise<never>((_, reject) => {
    interrupt = reject;
  });
  interrupted.catch(() => undefined);
  const stopRemaining = async () => {
    for (let service = services.pop(); service; service = services.pop()) await stopService(service);
    for (let item = stops.pop(); item; item = stops.pop()) {
      try {
        await item.stop();
      } catch (error) {
        log(`could not stop ${item.name}: ${(error as Error).message}`);
      }
    }
  };
  const stop = (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      options.signal?.removeEventListener('abort', onAbort);
      interrupt(new Error('start-up interrupted'));
    }
    stopping = stopping.then(stopRemaining);
    return stopping;
  };

  const onAbort = () => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const step = () => {
    if (stopped) throw new Error('start-up interrupted');
  };

  try {
    step();
    // PostgreSQL
    let databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/docflow';
    if (await postgresAnswers(databaseUrl)) {
      log(`postgres   using ${redactUrl(databaseUrl)}`);
    } else {
      const port = Number(env.EMBEDDED_POSTGRES_PORT ?? 54329);
      log(
        `postgres   nothing answers at ${redactUrl(databaseUrl)}; starting an embedded PostgreSQL on port ${port}`,
      );
      const pg: StartedService = await startEmbeddedPostgres(join(home, 'postgres'), port, log);
      stops.push({ name: 'postgres', stop: pg.stop });
      started.push('postgres');
      databaseUrl = pg.url;
    }

    step();
    // NATS
    let natsUrl = env.NATS_URL ?? 'nats://127.0.0.1:4222';
    const nats = new URL(natsUrl.split(',')[0]!.replace(/^nats:/, 'http:'));
    if (await portAnswers(nats.hostname, Number(nats.port || 4222))) {
      log(`nats       using ${redactUrl(natsUrl)}`);
    } else {
      log(`nats       nothing answers at ${redactUrl(natsUrl)}; starting nats-server with JetStream`);
      const server = await startNatsServer(join(home, 'nats'), nats.hostname, Number(nats.port || 4222));
      stops.push({ name: 'nats', stop: server.stop });
      started.push('nats');
      natsUrl = server.url;
    }

    step();
    // Object storage
    const httpHost = env.HTTP_HOST ?? '127.0.0.1';
    const httpPort = Number(env.HTTP_PORT ?? 8080);
    const privateHost = env.PRIVATE_HTTP_HOST ?? '127.0.0.1';
    const privatePort = Number(env.PRIVATE_HTTP_PORT ?? 8081);
    const webhookToken = env.STORAGE_WEBHOOK_TOKEN ?? randomBytes(24).toString('base64url');
    const bucket = env.S3_BUCKET ?? 'docflow';
    const privateUrl = `http://${privateHost}:${privatePort}/api/private`;
    const s3 = new LocalS3Server({
      address: env.S3_HOST ?? '127.0.0.1',
      port: Number(env.S3_PORT ?? 9000),
      directory: join(home, 's3'),
      bucket,
      webhook: { url: `${privateUrl}/webhooks/docs/status`, token: webhookToken },
      onDeliveryFailure: (error) =>
        log(`s3         a storage event could not be delivered: ${error.message}`),
    });
    const s3Endpoint = await s3.start();
    stops.push({ name: 's3', stop: () => s3.stop() });
    started.push('s3');
    log(`s3         local S3 server at ${s3Endpoint} (bucket ${bucket}, data in ${join(home, 's3')})`);

    const serviceEnv: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      S3_BUCKET: bucket,
      S3_ENDPOINT: s3Endpoint,
      S3_PUBLIC_ENDPOINT: env.S3_PUBLIC_ENDPOINT ?? s3Endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      ...LOCAL_S3_CREDENTIALS,
      HTTP_HOST: httpHost,
      HTTP_PORT: String(httpPort),
      PRIVATE_HTTP_HOST: privateHost,
      PRIVATE_HTTP_PORT: String(privatePort),
      STORAGE_WEBHOOK_TOKEN: webhookToken,
      // jobs: steps run on this machine, as processes of the worker, and call back the private API. With
      // WORKFLOW_ENGINE=argo in the environment (and KUBECONFIG, ARGO_NAMESPACE) jobs go to a cluster's Argo
      // instead (bench:jobs points it at its fake Kubernetes API).
      WORKFLOW_ENGINE: env.WORKFLOW_ENGINE === 'argo' ? 'argo' : 'local',
      STEP_CALLBACK_URL: privateUrl,
      // key-vault: the master key (the other services never read it)
      ...localMasterKey(home, env),
      // user-details: who starts on the team plan (docs/user-details.md)
      TEAM_PLAN_EMAIL_DOMAINS: env.TEAM_PLAN_EMAIL_DOMAINS ?? '',
      // identity: without JWT_SIGNING_KEYS a development key is generated once and kept here (never in git)
      JWT_DEV_KEY_FILE: env.JWT_DEV_KEY_FILE ?? join(home, 'identity', 'dev-signing-key.json'),
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
        env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    };

    const script = (app: string, entry: string) => join(options.root, 'apps', app, 'dist', entry);
    for (const app of LOCAL_SERVICES) {
      step();
      log(`migrate    ${app}`);
      const migrateOutput: string[] = [];
      const migrate = spawnService({
        name: `${app} migrate`,
        script: script(app, 'migrate.js'),
        env: withoutMasterKey(serviceEnv),
        output: (_name, line) => migrateOutput.push(line),
      });
      services.push(migrate);
      const migrateCode = await Promise.race([migrate.exited, interrupted]);
      services.splice(services.indexOf(migrate), 1);
      if (migrateCode !== 0)
        throw new Error(`${app} migrate exited with ${migrateCode}:\n${migrateOutput.join('\n')}`);
    }
    step();
    // Like Kubernetes restarting a pod: a service that exits on its own is started again, with a growing
    // delay; one that keeps crashing (5 times within a minute, or before the platform was ready) ends the
    // platform, and `crashed` says which.
    let ready = false;
    let giveUp: (reason: string) => void = () => undefined;
    const crashed = new Promise<string>((resolve) => (giveUp = resolve));
    const supervise = (app: string) => {
      const exits: number[] = [];
      const launch = () => {
        // Each service gets what it reads; the master key goes to key-vault alone.
        const own = app === 'key-vault' ? serviceEnv : withoutMasterKey(serviceEnv);
        const service = spawnService({ name: app, script: script(app, 'main.js'), env: own, output });
        services.push(service);
        void service.exited.then((code) => {
          if (stopped) return;
          const index = services.indexOf(service);
          if (index >= 0) services.splice(index, 1);
          const now = Date.now();
          exits.push(now);
          while (exits.length > 0 && exits[0]! < now - 60_000) exits.shift();
          if (!ready || exits.length >= 5) {
            giveUp(`${app} exited with code ${code}${ready ? ' (5 times within a minute)' : ''}`);
            return;
          }
          const delayMs = Math.min(250 * 2 ** (exits.length - 1), 5_000);
          log(`${app.padEnd(10)} exited with code ${code}; restarting in ${delayMs} ms`);
          setTimeout(() => {
            if (!stopped) launch();
          }, delayMs);
        });
      };
      launch();
    };
    for (const app of [...LOCAL_SERVICES, 'gateway']) supervise(app);

    const publicUrl = `http://${httpHost}:${httpPort}/api/v1`;
    const readyUrl = `http://${httpHost}:${httpPort}/health/ready`;
    await Promise.race([
      waitFor(async () => (await fetch(readyUrl)).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: readyUrl,
      }),
      crashed.then((reason) => Promise.reject(new Error(reason))),
    ]);
    ready = true;

    return { publicUrl, privateUrl, s3Endpoint, databaseUrl, natsUrl, started, s3, crashed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function withoutMasterKey(env: Record<string, string>): Record<string, string> {
  const { MASTER_KEY: _key, MASTER_KEY_ID: _id, ...rest } = env;
  return rest;
}
