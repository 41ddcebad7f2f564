import { signCallback, verifyCallback } from './job-callbacks';

describe(verifyCallback.name, () => {
  const secret = 'per-job-secret';
  const body = '{"id":"e1","type":"stage_started"}';
  const now = 1_800_000_000;

  it('accepts its own signature within the window', () => {
    const sut = verifyCallback(secret, String(now - 10), signCallback(secret, now - 10, body), body, now);
    expect(sut).toEqual({ ok: true });
  });

  it.each([
    ['a changed body', (s: string) => verifyCallback(secret, String(now), s, body + ' ', now), 'mismatch'],
    ['another secret', (s: string) => verifyCallback('other', String(now), s, body, now), 'mismatch'],
    ['a changed timestamp', (s: string) => verifyCallback(secret, String(now + 1), s, body, now), 'mismatch'],
    ['no signature', () => verifyCallback(secret, String(now), undefined, body, now), 'missing'],
    ['a non-numeric timestamp', (s: string) => verifyCallback(secret, 'yesterday', s, body, now), 'missing'],
  ])('refuses %s', (_label, check, reason) => {
    expect(check(signCallback(secret, now, body))).toEqual({ ok: false, reason });
  });

  it('refuses a callback older than five minutes, even correctly signed', () => {
    const old = now - 301;
    expect(verifyCallback(secret, String(old), signCallback(secret, old, body), body, now)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('signs as v1=<64 hex>', () => {
    expect(signCallback(secret, now, body)).toMatch(/^v1=[0-9a-f]{64}$/);
  });
});
