import { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { SessionCredentials, sessionOf, type AuthResult } from '../credentials';
import { ApiError, CliError, ExitCode } from '../errors';
import { table } from '../output';
import type { Context } from '../context';
import type { Action } from './action';

interface TokenView {
  id: string;
  name: string;
  scopes: string[];
  prefix: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** Tokens are managed by a person signed in: a personal access token gets 403 there. */
async function asPerson<T>(ctx: Context, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403 && ctx.client().credentials.kind === 'token')
      throw new CliError(
        'a personal access token cannot manage tokens: unset DOCFLOW_TOKEN and sign in with `docflow login`',
        ExitCode.AUTH,
      );
    throw error;
  }
}

export function authCommands(action: Action): Command[] {
  const login = new Command('login')
    .description('sign in and save the session (access and refresh token) for this API')
    .requiredOption('--email <email>', 'the account email')
    .option(
      '--password <password>',
      'the password (visible to ps and shell history: prefer --password-stdin)',
    )
    .option('--password-stdin', 'read the password from stdin')
    .action(
      action(async (ctx, _args, options: { email: string; password?: string; passwordStdin?: boolean }) => {
        if (options.password !== undefined && options.passwordStdin)
          throw new CliError('--password and --password-stdin: give one', ExitCode.USAGE);
        const password =
          options.password ?? (options.passwordStdin ? await ctx.readStdin('--password-stdin') : undefined);
        if (!password) throw new CliError('--password-stdin (or --password) is required', ExitCode.USAGE);
        const client = ctx.client();
        let result: AuthResult;
        try {
          result = await client.request<AuthResult>('POST', '/auth/login', {
            body: { email: options.email, password },
            anonymous: true,
          });
        } catch (error) {
          if (error instanceof ApiError && error.status === 401)
            throw new CliError('wrong email or password', ExitCode.AUTH);
          throw error;
        }
        const session = sessionOf(result);
        const store = ctx.store();
        store.save(ctx.api, session);
        ctx.out.result({ api: ctx.api, user: session.user, expiresAt: session.expiresAt }, () => [
          `signed in to ${ctx.api} as ${session.user.email} (${session.user.id})`,
        ]);
        if (ctx.io.env.DOCFLOW_TOKEN)
          ctx.out.note('DOCFLOW_TOKEN is set: commands use it, not this login, until it is unset');
      }),
    );

  const logout = new Command('logout')
    .description('end the saved session on the server and forget it here')
    .action(
      action(async (ctx) => {
        const store = ctx.store();
        const saved = store.get(ctx.api);
        if (!saved) {
          ctx.out.result({ api: ctx.api, loggedOut: false }, () => [`not signed in to ${ctx.api}`]);
          return;
        }
        const credentials = new SessionCredentials(store, ctx.api, saved);
        try {
          // The session's own access token, refreshed if need be; the refresh token names the session.
          const authorization = await credentials.authorization(ctx.client());
          await ctx.client().request('POST', '/auth/logout', {
            body: { refreshToken: credentials.current.refreshToken },
            headers: { authorization },
            anonymous: true,
          });
        } catch (error) {
          // Forgotten here in any case; say what the server did not do.
          if (!(error instanceof CliError && error.exitCode === ExitCode.AUTH)) {
            store.delete(ctx.api);
            throw new CliError(
              `forgot the login here, but the server could not end the session: ${(error as Error).message}`,
              error instanceof CliError ? error.exitCode : ExitCode.UNAVAILABLE,
            );
          }
        }
        store.delete(ctx.api);
        ctx.out.result({ api: ctx.api, loggedOut: true }, () => [`signed out of ${ctx.api}`]);
      }),
    );

  const whoami = new Command('whoami')
    .description('the account the credentials act for (GET /auth/me)')
    .action(
      action(async (ctx) => {
        const client = ctx.client();
        const me = await client.request<{ id: string; email: string; name: string; isAdmin: boolean }>(
          'GET',
          '/auth/me',
        );
        const via = client.credentials.kind === 'token' ? 'DOCFLOW_TOKEN' : 'saved login';
        ctx.out.result({ ...me, api: ctx.api, credentials: via }, () => [
          `${me.email} (${me.id})${me.isAdmin ? ', platform admin' : ''}: ${ctx.api}, ${via}`,
        ]);
      }),
    );

  const token = new Command('token').description('personal access tokens for CI (need a saved login)');
  token
    .command('create')
    .description('create a token; it is printed this once (the only line on stdout)')
    .requiredOption('--name <name>', 'what it is for, e.g. ci-pipeline')
    .requiredOption('--scope <scopes...>', 'scopes, e.g. documents:read documents:write jobs:read jobs:write')
    .option('--expires <when>', 'an ISO 8601 time, or a duration from now: 30d, 12h, 90m')
    .action(
      action(async (ctx, _args, options: { name: string; scope: string[]; expires?: string }) => {
        const scopes = options.scope.flatMap((s) => s.split(',')).filter(Boolean);
        const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires);
        const created = await asPerson(ctx, () =>
          ctx.client().request<TokenView & { token: string }>('POST', '/auth/tokens', {
            body: { name: options.name, scopes, expiresAt },
          }),
        );
        if (ctx.out.json) ctx.out.result(created, () => []);
        else {
          ctx.out.lines(created.token);
          ctx.out.note(
            `token ${created.name} (${created.id}, scopes ${created.scopes.join(' ')}) created; ` +
              'it is shown only this once',
          );
        }
      }),
    );
  token
    .command('list')
    .description('your tokens (never their secrets)')
    .action(
      action(async (ctx) => {
        const items = await asPerson(ctx, () => allPages<TokenView>(ctx.client(), '/auth/tokens'));
        ctx.out.result({ items }, () =>
          table([
            ['ID', 'NAME', 'PREFIX', 'SCOPES', 'EXPIRES', 'LAST USED', 'REVOKED'],
            ...items.map((t) => [
              t.id,
              t.name,
              t.prefix,
              t.scopes.join(','),
              t.expiresAt ?? '-',
              t.lastUsedAt ?? '-',
              t.revokedAt ?? '-',
            ]),
          ]),
        );
      }),
    );
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>', 'the token id (token list)')
    .action(
      action(async (ctx, [id]: [string]) => {
        await asPerson(ctx, () => ctx.client().request('DELETE', `/auth/tokens/${encodeURIComponent(id)}`));
        ctx.out.result({ id, revoked: true }, () => [`revoked ${id}`]);
      }),
    );

  return [login, logout, whoami, token];
}

/** `30d`, `12h`, `90m`, `45s` from now, or an ISO 8601 time. */
export function parseExpiry(value: string, now = Date.now()): string {
  const duration = /^(\d{1,6})([smhd])$/.exec(value.trim());
  if (duration) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now + Number(duration[1]) * unit).toISOString();
  }
  const time = Date.parse(value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new CliError(
      `--expires: expected an ISO 8601 time or a duration like 30d, got ${value}`,
      ExitCode.USAGE,
    );
  return new Date(time).toISOString();
}

/** Every item of a paged list (`items`, `nextCursor`). */
export async function allPages<T>(
  client: ApiClient,
  path: string,
  query: Record<string, string | undefined> = {},
  max = Infinity,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.request<{ items: T[]; nextCursor?: string }>('GET', path, {
      query: { ...query, limit: '100', cursor },
    });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items.slice(0, max);
}
