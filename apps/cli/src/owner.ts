import { InvalidArgumentError, Option } from 'commander';
import type { ApiClient } from './api-client';

/**
 * Whose documents and jobs a command acts on, as the base of their paths: `/users/<me>` (the caller's own), or
 * `/teams/<teamId>` with `--team`. The routes under it (`/docs…`, `/jobs…`) are the same for both.
 */
export type OwnerPath = string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--team <teamId>`: a UUID (`docflow teams list`), checked before anything is sent; lower-cased. */
export function teamIdArgument(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('expected a team id (a UUID: docflow teams list)');
  return value.toLowerCase();
}

/** The `--team` option of the documents and jobs commands. */
export function teamOption(what = "the team's documents and jobs instead of your own"): Option {
  return new Option('--team <teamId>', what).argParser(teamIdArgument);
}

/** The team's base path, or the caller's (the user id from --user, DOCFLOW_USER_ID, the login or /auth/me). */
export async function ownerPath(client: ApiClient, teamId?: string): Promise<OwnerPath> {
  if (teamId) return `/teams/${encodeURIComponent(teamId)}`;
  return `/users/${await client.userId()}`;
}
