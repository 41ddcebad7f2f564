import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from './errors';

/** A signed-in session for one API, as `docflow login` keeps it. */
export interface SavedSession {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ISO 8601). */
  expiresAt: string;
  user: { id: string; email: string; name?: string };
}

interface CredentialsFile {
  version: 1;
  /** By API base URL: a login to one server is never sent to another. */
  sessions: Record<string, SavedSession>;
}

/** `$XDG_CONFIG_HOME/docflow/credentials.json`, else `~/.config/docflow/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'docflow', 'credentials.json');
}

export interface LockOptions {
  /** How long to wait for another process's lock before giving up (exit 3). Default 40 s: past `staleMs`. */
  waitMs?: number;
  /** A lock older than this is a crashed process's: taken over. Default 30 s. */
  staleMs?: number;
  /** Between attempts. Default 50 ms. */
  retryMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The saved logins: a file readable by its owner only (directory 0700, file 0600), replaced atomically.
 * `withLock` serialises what several docflow processes do with it (refreshing the login) through a lock file
 * beside it, `credentials.json.lock`, created with O_EXCL.
 */
export class CredentialStore {
  readonly lockFile: string;
  private readonly lock: Required<LockOptions>;

  constructor(
    readonly file: string,
    lock: LockOptions = {},
  ) {
    this.lockFile = `${file}.lock`;
    this.lock = {
      waitMs: lock.waitMs ?? 40_000,
      staleMs: lock.staleMs ?? 30_000,
      retryMs: lock.retryMs ?? 50,
      sleep: lock.sleep ?? realSleep,
    };
  }

  /** Runs `fn` holding the lock file; waits (bounded) for another holder, takes over a stale lock. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const { waitMs, staleMs, retryMs, sleep } = this.lock;
    const owner = `${process.pid} ${randomUUID()}\n`;
    const started = Date.now();
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    for (;;) {
      try {
        const fd = openSync(this.lockFile, 'wx', 0o600);
        try {
          writeSync(fd, owner);
        } finally {
          closeSync(fd);
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new CliError(`cannot create ${this.lockFile}: ${(error as Error).message}`, ExitCode.AUTH);
      }
      const held = this.lockState();
      if (held && Date.now() - held.mtimeMs > staleMs) {
        // Left by a process that died holding it. Remove it only if it is still that one.
        if (this.lockState()?.content === held.content) rmSync(this.lockFile, { force: true });
        continue;
      }
      if (Date.now() - started >= waitMs)
        throw new CliError(
          `${this.lockFile} is held by another docflow process (for over ${Math.round(waitMs / 1000)} s): ` +
            'try again, or delete it if no docflow is running',
          ExitCode.AUTH,
        );
      if (held) await sleep(retryMs + Math.floor(Math.random() * retryMs));
    }
    try {
      return await fn();
    } finally {
      // Taken over meanwhile (we were too slow): the lock is someone else's now.
      if (this.lockState()?.content === owner) rmSync(this.lockFile, { force: true });
    }
  }

  private lockState(): { content: string; mtimeMs: number } | undefined {
    try {
      return { mtimeMs: statSync(this.lockFile).mtimeMs, content: readFileSync(this.lockFile, 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError(`cannot read ${this.lockFile}: ${(error as Error).message}`, ExitCode.AUTH);
    }
  }

  get(api: string): SavedSession | undefined {
    return this.read().sessions[api];
  }

  save(api: string, session: SavedSession): void {
    const content = this.read();
    content.sessions[api] = session;
    this.write(content);
  }

  /** Forgets the login to `api`; true when there was one. */
  delete(api: string): boolean {
    const content = this.read();
    if (!content.sessions[api]) return false;
    delete content.sessions[api];
    if (Object.keys(content.sessions).length === 0) rmSync(this.file, { force: true });
    else this.write(content);
    return true;
  }

  /** Forgets the login to `api` only while it still holds `refreshToken` (not a newer one another process saved). */
  deleteIfHolds(api: string, refreshToken: string): boolean {
    if (this.get(api)?.refreshToken !== refreshToken) return false;
    return this.delete(api);
  }

  private read(): CredentialsFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sessions: {} };
      throw new CliError(
        `cannot read ${this.file} (${(error as Error).message}): fix its permissions, or delete it and run \`docflow login\``,
        ExitCode.AUTH,
      );
    }
    let parsed: Partial<CredentialsFile>;
    try {
      parsed = JSON.parse(text) as Partial<CredentialsFile>;
    } catch (error) {
      throw new CliError(
        `${this.file} is not valid JSON (${(error as Error).message}): delete it and run \`docflow login\``,
        ExitCode.AUTH,
      );
    }
    return { version: 1, sessions: parsed.sessions ?? {} };
  }

  private write(content: CredentialsFile): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    // The mode given to writeFileSync is masked by the umask and ignored for an existing file: set it.
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.file);
  }
}
