import { TEAM_ROLES, type TeamRole } from '@docflow/contracts';

/**
 * What a member of a team may do with the team and with what the team owns. docs/authorization.md prints
 * this matrix; a test checks the two agree. Every service asks `can()`; none keeps a copy.
 */
export const TEAM_ACTIONS = [
  'team.view',
  'team.members.list',
  'team.members.manage',
  'team.delete',
  'team.audit.read',
  'document.read',
  'document.write',
  'flow.read',
  'flow.write',
  'flow.publish',
  'flow.use',
  'agent.use',
  'job.read',
  'job.create',
  'apikey.read',
  'apikey.write',
  'apikey.use',
] as const;
export type TeamAction = (typeof TEAM_ACTIONS)[number];

export { TEAM_ROLES, type TeamRole };

/** The roles allowed each action. */
export const ROLE_MATRIX: Readonly<Record<TeamAction, readonly TeamRole[]>> = {
  // The team itself: every member sees it; the member list is for those who work in it.
  'team.view': ['owner', 'editor', 'reader', 'consumer'],
  'team.members.list': ['owner', 'editor', 'reader'],
  'team.members.manage': ['owner'],
  'team.delete': ['owner'],
  /** The team's audit log (its keys created, used and deleted, its members changed): the owners. */
  'team.audit.read': ['owner'],
  // Team documents and flows: editors edit, readers see, consumers do not (nothing of theirs is stored).
  'document.read': ['owner', 'editor', 'reader'],
  'document.write': ['owner', 'editor'],
  'flow.read': ['owner', 'editor', 'reader'],
  'flow.write': ['owner', 'editor'],
  /** Making a team flow public: the owner only. */
  'flow.publish': ['owner'],
  /** Running the team's published flows and agents: everyone, consumers included. */
  'flow.use': ['owner', 'editor', 'reader', 'consumer'],
  'agent.use': ['owner', 'editor', 'reader', 'consumer'],
  // Jobs over team documents.
  'job.read': ['owner', 'editor', 'reader'],
  'job.create': ['owner', 'editor'],
  // The team's provider keys (the vault): those who edit the team's work add, delete and use them; readers see
  // the list (names, providers, last four characters; never a secret); consumers nothing.
  'apikey.read': ['owner', 'editor', 'reader'],
  'apikey.write': ['owner', 'editor'],
  'apikey.use': ['owner', 'editor'],
};

const ALLOWED = new Map<TeamAction, ReadonlySet<TeamRole>>(
  Object.entries(ROLE_MATRIX).map(([action, roles]) => [action as TeamAction, new Set(roles)]),
);

export function isTeamRole(value: unknown): value is TeamRole {
  return typeof value === 'string' && (TEAM_ROLES as readonly string[]).includes(value);
}

/** May a member with `role` do `action`? Unknown roles and actions may do nothing. */
export function can(role: TeamRole | null | undefined, action: TeamAction): boolean {
  if (!role) return false;
  return ALLOWED.get(action)?.has(role) ?? false;
}
