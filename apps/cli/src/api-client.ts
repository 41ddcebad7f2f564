import { ApiError, CliError, ExitCode, fieldProblems, networkError } from './errors';

export type FetchLike = typeof fetch;

/** Where the `Authorization` header comes from: a personal access token, a saved login, or nothing. */
export interface Credentials {
  readonly kind: 'token' | 'session' | 'none';
  /** The account's id when the credentials know it without asking (a saved login does). */
  readonly userId?: string;
  authorization(client: ApiClient): Promise<string>;
  /** After a 401: renew the credentials if they can be (true: send the request again). */
  renew(client: ApiClient): Promise<boolean>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Send no `Authorization` (signup, login, refresh). */
  anonymous?: boolean;
  /**
   * Send again after a network failure or a 502/503/504: every GET, and a POST that carries an idempotency key.
   * Default: true for GET.
   */
  retry?: boolean;
  /** This request's timeout, instead of the client's. */
  timeoutMs?: number;
}

export interface ApiClientOptions {
  baseUrl: string;
  credentials: Credentials;
  fetch?: FetchLike;
  /** Per request (not for streams): default 30 s. */
  timeoutMs?: number;
  /** Waits between attempts (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  /** DOCFLOW_USER_ID / --user: the account, when the token may not read `GET /auth/me`. */
  userId?: string;
}

const RETRY_DELAYS_MS = [500, 2_000];
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The public REST API (`/api/v1`), with its error answers turned into `ApiError`s. */
export class ApiClient {
  readonly baseUrl: string;
  readonly credentials: Credentials;
  readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  private userIdGiven?: string;
  private userIdAsked?: Promise<string>;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.credentials = options.credentials;
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.userIdGiven = options.userId;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const retry = options.retry ?? method === 'GET';
    const attempts = retry ? RETRY_DELAYS_MS.length + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.send(
          method,
          path,
          options,
          AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
        );
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (attempt < attempts) {
          await this.sleep(RETRY_DELAYS_MS[attempt - 1]!);
          continue;
        }
        throw networkError(`${method} ${this.url(path)}`, error);
      }
      if (RETRYABLE_STATUSES.has(response.status) && attempt < attempts) {
        await response.body?.cancel();
        await this.sleep(RETRY_DELAYS_MS[attempt - 1]!);
        continue;
      }
      if (!response.ok) throw await this.errorOf(response);
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  /** A streaming GET (Server-Sent Events): the response as it comes, its errors as `ApiError`s; 204 passes. */
  async openStream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const response = await this.send('GET', path, { headers }, signal);
    if (!response.ok) throw await this.errorOf(response);
    return response;
  }

  /** The account the requests act for: given, known from the saved login, or asked of `GET /auth/me`. */
  userId(): Promise<string> {
    const known = this.userIdGiven ?? this.credentials.userId;
    if (known) return Promise.resolve(known);
    this.userIdAsked ??= this.request<{ id: string }>('GET', '/auth/me').then(
      (me) => me.id,
      (error: unknown) => {
        this.userIdAsked = undefined;
        if (error instanceof ApiError && error.status === 403)
          throw new CliError(
            'this token may not read its account (GET /auth/me needs the scope profile:read): ' +
              'give the token that scope, or set DOCFLOW_USER_ID (or --user) to your user id',
            ExitCode.AUTH,
          );
        throw error;
      },
    );
    return this.userIdAsked;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<Response> {
    for (let renewed = false; ; renewed = true) {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (!options.anonymous) headers.authorization = await this.credentials.authorization(this);
      const response = await this.fetch(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
      if (response.status === 401 && !options.anonymous && !renewed) {
        if (await this.credentials.renew(this)) {
          await response.body?.cancel();
          continue;
        }
      }
      return response;
    }
  }

  private async errorOf(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => '');
    let error: { code?: string; message?: string; details?: unknown; requestId?: string } = {};
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
    } catch {
      // Not the API's error body (a proxy's page, say): the status says enough.
    }
    const fields = fieldProblems(error.details);
    // The API's own words first (they often say what to do); the fields it named go underneath.
    const message =
      error.message ??
      (fields.length > 0 ? 'invalid input' : `${response.status} ${response.statusText}`.trim());
    return new ApiError(response.status, error.code, message, fields, error.requestId);
  }
}
