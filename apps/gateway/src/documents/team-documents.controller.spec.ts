import { UsersDocsSubjects, type AuthPrincipal, type TeamRole } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { FakeTeamAccess } from '../testing/test-authenticator';
import { TeamDocumentsController } from './team-documents.controller';

const TEAM = '6f1c2a7e-0000-4000-8000-000000000001';
const DOC = '6f1c2a7e-0000-4000-8000-0000000000d0';
const ALICE = '6f1c2a7e-0000-4000-8000-00000000000a';

/** users-docs answering every request with `{ ok: true }`, recording what it was asked. */
class FakeUsersDocs extends ServiceClient {
  readonly calls: { subject: string; payload: unknown }[] = [];
  async send<T>(subject: string, payload: unknown): Promise<T> {
    this.calls.push({ subject, payload });
    return { ok: true } as T;
  }
  isConnected(): boolean {
    return true;
  }
}

const alice: AuthPrincipal = { kind: 'user', userId: ALICE.toUpperCase() };
const body = { name: 'a.txt', contentType: 'text/plain', size: 1 };

type Call = (sut: TeamDocumentsController) => Promise<unknown>;
const routes: Record<string, { action: 'read' | 'write'; call: Call; subject: string; sent: object }> = {
  list: {
    action: 'read',
    call: (sut) => sut.list(alice, TEAM.toUpperCase(), { limit: 5 }),
    subject: UsersDocsSubjects.documentList,
    sent: { userId: ALICE, teamId: TEAM, limit: 5, cursor: undefined },
  },
  create: {
    action: 'write',
    call: (sut) => sut.create(alice, TEAM, body),
    subject: UsersDocsSubjects.documentCreate,
    sent: { userId: ALICE, teamId: TEAM, ...body },
  },
  get: {
    action: 'read',
    call: (sut) => sut.get(alice, TEAM, DOC),
    subject: UsersDocsSubjects.documentGet,
    sent: { userId: ALICE, teamId: TEAM, docId: DOC },
  },
  delete: {
    action: 'write',
    call: (sut) => sut.delete(alice, TEAM, DOC),
    subject: UsersDocsSubjects.documentDelete,
    sent: { userId: ALICE, teamId: TEAM, docId: DOC },
  },
};

const ALLOWED: Record<'read' | 'write', TeamRole[]> = {
  read: ['owner', 'editor', 'reader'],
  write: ['owner', 'editor'],
};

describe(TeamDocumentsController.name, () => {
  const cases: [string, TeamRole | 'outsider'][] = [];
  for (const route of Object.keys(routes))
    for (const role of ['owner', 'editor', 'reader', 'consumer', 'outsider'] as const)
      cases.push([route, role]);

  it.each(cases)('%s as %s', async (name, role) => {
    const route = routes[name]!;
    const usersDocs = new FakeUsersDocs();
    const teams = new FakeTeamAccess();
    if (role !== 'outsider') teams.roles.set(TEAM, new Map([[ALICE.toUpperCase(), role]]));
    const sut = new TeamDocumentsController(usersDocs, teams);
    const outcome = route.call(sut);
    if (role === 'outsider') {
      await expect(outcome).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'team not found' });
    } else if (!ALLOWED[route.action].includes(role)) {
      await expect(outcome).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: `Your role in this team may not do document.${route.action}`,
      });
    } else {
      await outcome;
      // users-docs is asked in the team's scope, with the member acting, in canonical (lower-case) ids.
      expect(usersDocs.calls).toEqual([{ subject: route.subject, payload: route.sent }]);
      return;
    }
    expect(usersDocs.calls).toEqual([]);
  });
});
