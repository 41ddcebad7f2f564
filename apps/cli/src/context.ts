import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { ApiClient, type Credentials, type FetchLike } from './api-client';
import { CredentialStore, credentialsPath } from './credential-store';
import { NoCredentials, SessionCredentials, TokenCredentials } from './credentials';
import { CliError, ExitCode } from './errors';
import { Output } from './output';

export const DEFAULT_API = 'http://127.0.0.1:8080/api/v1';

/** What the CLI reads and writes: the process's streams and environment, or a test's. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
}

export interface GlobalOptions {
  api?: string;
  json?: boolean;
  user?: string;
}

/** One command's run: its options with the global ones, its output, its API client. */
export class Context {
  readonly out: Output;
  /** Set by a command whose outcome is not an error but not a success either (a failed job). */
  exitCode: ExitCode = ExitCode.OK;
  private clientInstance?: ApiClient;

  constructor(
    readonly io: CliIo,
    readonly command: Command,
  ) {
    this.out = new Output(io.stdout, io.stderr, this.globals.json === true);
  }

  get globals(): GlobalOptions {
    return this.command.optsWithGlobals<GlobalOptions>();
  }

  /** `--api`, else DOCFLOW_API_URL, else the local platform; without a trailing slash. */
  get api(): string {
    const value = this.globals.api ?? this.io.env.DOCFLOW_API_URL ?? DEFAULT_API;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new CliError(`--api: not a URL: ${value}`, ExitCode.USAGE);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new CliError(`--api: must be an http or https URL: ${value}`, ExitCode.USAGE);
    return url.toString().replace(/\/+$/, '');
  }

  store(): CredentialStore {
    return new CredentialStore(credentialsPath(this.io.env));
  }

  /** DOCFLOW_TOKEN when set (the CI case), else the login saved for this API, else none. */
  credentials(): Credentials {
    const token = this.io.env.DOCFLOW_TOKEN?.trim();
    if (token) return new TokenCredentials(token);
    const saved = this.store().get(this.api);
    return saved ? new SessionCredentials(this.store(), this.api, saved) : new NoCredentials();
  }

  client(): ApiClient {
    this.clientInstance ??= new ApiClient({
      baseUrl: this.api,
      credentials: this.credentials(),
      fetch: this.io.fetch,
      sleep: this.io.sleep,
      userId: this.globals.user ?? (this.io.env.DOCFLOW_USER_ID?.trim() || undefined),
    });
    return this.clientInstance;
  }

  /** Reads stdin to its end, refusing a terminal (a secret typed there would show). */
  async readStdin(what: string): Promise<string> {
    if (this.io.stdin.isTTY)
      throw new CliError(`${what}: pipe it on stdin (e.g. printf %s "$SECRET" | docflow …)`, ExitCode.USAGE);
    const chunks: Buffer[] = [];
    for await (const chunk of this.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    const text = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (!text) throw new CliError(`${what}: stdin was empty`, ExitCode.USAGE);
    return text;
  }
}
