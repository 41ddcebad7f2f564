import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** The saved logins: a file readable by its owner only (directory 0700, file 0600), replaced atomically. */
export class CredentialStore {
  constructor(readonly file: string) {}

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

  private read(): CredentialsFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sessions: {} };
      throw error;
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
