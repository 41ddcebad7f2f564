import {
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type AuthPrincipal,
  type TeamRole,
} from '@docflow/contracts';
import type { TeamAction } from '@docflow/authz';
import { ServiceClient } from '@docflow/messaging';
import { IdentityTeamAccess, enforceTeamDecision } from './team-access';

const TEAM = '6f1c2a7e-0000-4000-8000-000000000001';
const ALICE = '6f1c2a7e-0000-4000-8000-00000000000a';

/** identity.membership.get answering from a table; anything else is unexpected. */
class FakeIdentity extends ServiceClient {
  readonly calls: unknown[] = [];
  constructor(
    private readonly roles: Record<string, TeamRole>,
    private readonly down = false,
  ) {
    super();
  }
  async send<T>(subject: string, payload: unknown): Promise<T> {
    expect(subject).toBe(IdentitySubjects.membershipGet);
    this.calls.push(payload);
    if (this.down)
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The identity service is unavailable');
    const { teamId, userId } = payload as { teamId: string; userId: string };
    const role = this.roles[`${teamId}:${userId}`];
    if (!role) throw DomainError.notFound('team');
    return { teamId, userId, role } as T;
  }
  isConnected(): boolean {
    return true;
  }
}

const user = (isAdmin = false): AuthPrincipal => ({ kind: 'user', userId: ALICE.toUpperCase(), isAdmin });

describe(IdentityTeamAccess.name, () => {
  it.each<[TeamRole | undefined, TeamAction, string]>([
    ['owner', 'apikey.write', 'allow'],
    ['editor', 'apikey.write', 'allow'],
    ['editor', 'apikey.read', 'allow'],
    ['reader', 'apikey.read', 'allow'],
    ['reader', 'apikey.write', 'forbidden'],
    ['consumer', 'apikey.read', 'forbidden'],
    ['consumer', 'apikey.write', 'forbidden'],
    [undefined, 'apikey.read', 'not_found'],
  ])('a %s may %s: %s', async (role, action, expected) => {
    const identity = new FakeIdentity(role ? { [`${TEAM}:${ALICE}`]: role } : {});
    await expect(new IdentityTeamAccess(identity).decide(user(), TEAM, action)).resolves.toBe(expected);
    // The user id is asked for in the canonical (lower-case) form identity stores.
    expect(identity.calls).toEqual([{ teamId: TEAM, userId: ALICE }]);
  });

  it('gives a platform admin no special rights in a team (as identity does): only the role counts', async () => {
    await expect(
      new IdentityTeamAccess(new FakeIdentity({})).decide(user(true), TEAM, 'apikey.read'),
    ).resolves.toBe('not_found');
    await expect(
      new IdentityTeamAccess(new FakeIdentity({ [`${TEAM}:${ALICE}`]: 'reader' })).decide(
        user(true),
        TEAM,
        'apikey.write',
      ),
    ).resolves.toBe('forbidden');
  });

  it('never decides for a principal without a user, and lets identity being down surface as 503', async () => {
    const identity = new FakeIdentity({});
    await expect(
      new IdentityTeamAccess(identity).decide({ kind: 'anonymous' }, TEAM, 'apikey.read'),
    ).resolves.toBe('not_found');
    expect(identity.calls).toEqual([]);
    await expect(
      new IdentityTeamAccess(new FakeIdentity({}, true)).decide(user(), TEAM, 'apikey.read'),
    ).rejects.toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
  });
});

describe(enforceTeamDecision.name, () => {
  it('answers 404 for the team when not found, 403 when forbidden, and nothing when allowed', () => {
    expect(() => enforceTeamDecision('not_found', 'apikey.read')).toThrow(
      expect.objectContaining({ code: ErrorCode.NOT_FOUND }),
    );
    expect(() => enforceTeamDecision('forbidden', 'apikey.write')).toThrow(
      expect.objectContaining({ code: ErrorCode.FORBIDDEN }),
    );
    expect(() => enforceTeamDecision('allow', 'apikey.write')).not.toThrow();
  });
});
