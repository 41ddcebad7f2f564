import type { ApiClient, Credentials } from './api-client';
import { ApiError, CliError, ExitCode } from './errors';
import type { CredentialStore, SavedSession } from './credential-store';

/** What `POST /auth/login`, `/auth/signup` and `/auth/refresh` answer. */
export interface AuthResult {
  jwt: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; email: string; name?: string };
}

/** Renew an access token this long before it expires, so a request never races its expiry. */
const EXPIRY_MARGIN_MS = 60_000;
/** A refresh gives up well before the lock it holds would count as stale (30 s) and be taken over. */
const REFRESH_TIMEOUT_MS = 20_000;

export function sessionOf(result: AuthResult, now = Date.now()): SavedSession {
  return {
    accessToken: result.jwt,
    refreshToken: result.refreshToken,
    expiresAt: new Date(now + result.expiresIn * 1000).toISOString(),
    user: { id: result.user.id, email: result.user.email, name: result.user.name },
  };
}

/** `DOCFLOW_TOKEN`: a personal access token (`dfp_…`), the CI case. */
export class TokenCredentials implements Credentials {
  readonly kind = 'token';
  constructor(private readonly token: string) {}

  async authorization(): Promise<string> {
    return `Bearer ${this.token}`;
  }

  async renew(): Promise<boolean> {
    return false;
  }
}

/** The login `docflow login` saved: its access token, refreshed with the refresh token when it expires. */
export class SessionCredentials implements Credentials {
  readonly kind = 'session';
  private refreshing?: Promise<void>;

  constructor(
    private readonly store: CredentialStore,
    private readonly api: string,
    private session: SavedSession,
    private readonly now: () => number = Date.now,
  ) {}

  get userId(): string {
    return this.session.user.id;
  }

  get current(): SavedSession {
    return this.session;
  }

  async authorization(client: ApiClient): Promise<string> {
    if (this.expiring()) await this.refresh(client);
    return `Bearer ${this.session.accessToken}`;
  }

  async renew(client: ApiClient): Promise<boolean> {
    await this.refresh(client);
    return true;
  }

  private expiring(): boolean {
    return Date.parse(this.session.expiresAt) - EXPIRY_MARGIN_MS <= this.now();
  }

  /**
   * The refresh token rotates, and identity ends the whole session when a used one comes back: with several
   * docflow processes sharing the login, only one may refresh at a time, and never with a token another one has
   * already used. So, holding the lock file: read the saved login again; if another process saved a newer pair,
   * take it (refreshing only when it is about to expire too); else refresh and save the new pair before letting go.
   */
  private refresh(client: ApiClient): Promise<void> {
    this.refreshing ??= this.store
      .withLock(async () => {
        const saved = this.store.get(this.api);
        if (saved && saved.refreshToken !== this.session.refreshToken) {
          this.session = saved;
          if (!this.expiring()) return;
        }
        const used = this.session.refreshToken;
        let result: AuthResult;
        try {
          result = await client.request<AuthResult>('POST', '/auth/refresh', {
            body: { refreshToken: used },
            anonymous: true,
            timeoutMs: REFRESH_TIMEOUT_MS,
          });
        } catch (error) {
          if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
            this.store.deleteIfHolds(this.api, used);
            throw this.ended();
          }
          throw error;
        }
        this.session = sessionOf(result, this.now());
        this.store.save(this.api, this.session);
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private ended(): CliError {
    return new CliError('the saved login has expired or was ended: run `docflow login` again', ExitCode.AUTH);
  }
}

export class NoCredentials implements Credentials {
  readonly kind = 'none';

  async authorization(): Promise<string> {
    throw new CliError(
      'not signed in: set DOCFLOW_TOKEN (a personal access token) or run `docflow login`',
      ExitCode.AUTH,
    );
  }

  async renew(): Promise<boolean> {
    return false;
  }
}
