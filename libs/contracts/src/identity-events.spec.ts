import { IdentityEventSubjects, parseIdentityDeletion } from './identity-events';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const userId = '0B6F5C1E-9B57-4C83-9B0A-2E1F3D4C5B6A';
const teamId = '7d0f6c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';

describe(parseIdentityDeletion.name, () => {
  it('reads a user deletion from its subject, with the id in lower case', () => {
    const event = { eventId: 'e1', userId, deletedAt: '2026-01-01T00:00:00.000Z' };
    const sut = parseIdentityDeletion(IdentityEventSubjects.userDeleted, bytes(event));
    expect(sut).toEqual({ kind: 'user', id: userId.toLowerCase(), event });
  });

  it('reads a team deletion from its subject', () => {
    const event = { eventId: 'e2', teamId, deletedAt: '2026-01-01T00:00:00.000Z' };
    expect(parseIdentityDeletion(IdentityEventSubjects.teamDeleted, bytes(event))).toEqual({
      kind: 'team',
      id: teamId,
      event,
    });
  });

  it.each([
    ['not JSON', IdentityEventSubjects.userDeleted, new TextEncoder().encode('{nope')],
    ['null', IdentityEventSubjects.userDeleted, bytes(null)],
    ['no event id', IdentityEventSubjects.userDeleted, bytes({ userId, deletedAt: 'x' })],
    ['no deletedAt', IdentityEventSubjects.userDeleted, bytes({ eventId: 'e', userId })],
    [
      'a user id that is not a UUID',
      IdentityEventSubjects.userDeleted,
      bytes({ eventId: 'e', userId: 'u1', deletedAt: 'x' }),
    ],
    [
      'a team id on the user subject',
      IdentityEventSubjects.userDeleted,
      bytes({ eventId: 'e', teamId, deletedAt: 'x' }),
    ],
    [
      'a user id on the team subject',
      IdentityEventSubjects.teamDeleted,
      bytes({ eventId: 'e', userId, deletedAt: 'x' }),
    ],
    [
      'another subject',
      IdentityEventSubjects.userRegistered,
      bytes({ eventId: 'e', userId, deletedAt: 'x' }),
    ],
  ])('refuses %s', (_what, subject, data) => {
    expect(parseIdentityDeletion(subject, data)).toBeUndefined();
  });
});
