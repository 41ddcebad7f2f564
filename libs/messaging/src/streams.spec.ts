import {
  AuditSubjects,
  IDENTITY_EVENTS_STREAM_SUBJECTS,
  IdentityEventSubjects,
  IdentitySubjects,
  IdentityTeamSubjects,
  JobsSubjects,
  KeyVaultSubjects,
  UserDetailsSubjects,
  UsersDocsSubjects,
} from '@docflow/contracts';
import { STREAMS } from './streams';

/** NATS subject matching: `*` one token, `>` one or more trailing tokens. */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** Every request/reply subject a service answers: a stream capturing one would answer it with a publish ack. */
const REQUEST_SUBJECTS = [
  IdentitySubjects,
  IdentityTeamSubjects,
  AuditSubjects,
  UsersDocsSubjects,
  JobsSubjects,
  KeyVaultSubjects,
  UserDetailsSubjects,
].flatMap((subjects) => Object.values(subjects) as string[]);

describe('STREAMS', () => {
  it('the subject matcher of this test works (so the checks below can fail)', () => {
    expect(matches('identity.user.>', IdentitySubjects.userGet)).toBe(true);
    expect(matches('identity.*.get', IdentitySubjects.userGet)).toBe(true);
    expect(matches('identity.user.registered', IdentitySubjects.userGet)).toBe(false);
  });

  it.each(Object.entries(STREAMS))('%s captures no request/reply subject', (_name, stream) => {
    for (const filter of stream.subjects) {
      expect(REQUEST_SUBJECTS.filter((subject) => matches(filter, subject))).toEqual([]);
    }
  });

  it('IDENTITY_EVENTS is exactly the identity event subjects, without a wildcard', () => {
    expect(STREAMS.identityEvents.subjects).toEqual([...IDENTITY_EVENTS_STREAM_SUBJECTS]);
    expect([...IDENTITY_EVENTS_STREAM_SUBJECTS].sort()).toEqual(Object.values(IdentityEventSubjects).sort());
    expect(STREAMS.identityEvents.subjects.filter((s) => /[*>]/.test(s))).toEqual([]);
  });
});
