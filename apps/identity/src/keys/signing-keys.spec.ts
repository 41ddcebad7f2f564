import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIdentityConfig } from '../config';
import { loadJose } from './jose';
import { SigningKeys, generateSigningJwk } from './signing-keys';

describe(SigningKeys.name, () => {
  const now = new Date();
  const sign = (sut: SigningKeys) =>
    sut.sign('user-1', { sid: 'session-1' }, { tokenId: 'jti-1', ttlSeconds: 900, now });

  async function verify(jwt: string, jwks: ReturnType<SigningKeys['jwks']>) {
    const jose = await loadJose();
    return jose.jwtVerify(jwt, jose.createLocalJWKSet(jwks as never), {
      issuer: 'docflow-identity',
      audience: 'docflow',
    });
  }

  it('generates a development key once, keeps it (mode 0600), and publishes no private part', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'identity', 'dev.json');
    const config = loadIdentityConfig({ JWT_DEV_KEY_FILE: file });
    const first = new SigningKeys(config);
    await first.init();
    const again = new SigningKeys(config);
    await again.init();
    expect(again.activeKid).toBe(first.activeKid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))[0].d).toEqual(expect.any(String));
    expect(JSON.stringify(first.jwks())).not.toContain('"d"');
    const { payload, protectedHeader } = await verify(await sign(first), again.jwks());
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: first.activeKid });
    expect(payload).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
      jti: 'jti-1',
      exp: Math.floor(now.getTime() / 1000) + 900,
    });
  });

  it('rotation: after the new key becomes active, tokens of the old one still verify against the JWKS', async () => {
    const old = await generateSigningJwk('EdDSA');
    const next = await generateSigningJwk('ES256');
    const before = new SigningKeys(loadIdentityConfig({ JWT_SIGNING_KEYS: JSON.stringify([old]) }));
    const oldToken = await sign(before);
    const after = new SigningKeys(
      loadIdentityConfig({ JWT_SIGNING_KEYS: JSON.stringify([old, next]), JWT_ACTIVE_KID: next.kid }),
    );
    await after.init();
    expect(after.activeKid).toBe(next.kid);
    expect(after.jwks().keys.map((k) => k.kid)).toEqual([old.kid, next.kid]);
    await expect(verify(oldToken, after.jwks())).resolves.toBeDefined();
    const newToken = await sign(after);
    expect((await verify(newToken, after.jwks())).protectedHeader).toMatchObject({
      alg: 'ES256',
      kid: next.kid,
    });
    // Once the old key is removed, its tokens no longer verify.
    const removed = new SigningKeys(loadIdentityConfig({ JWT_SIGNING_KEYS: JSON.stringify([next]) }));
    await removed.init();
    await expect(verify(oldToken, removed.jwks())).rejects.toThrow();
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['no kid', JSON.stringify([{ kty: 'OKP', alg: 'EdDSA', d: 'x' }]), /missing kid/],
    ['a public key', JSON.stringify([{ kid: 'a', kty: 'OKP', alg: 'EdDSA', x: 'x' }]), /not a private key/],
    ['another algorithm', JSON.stringify([{ kid: 'a', kty: 'RSA', alg: 'RS256', d: 'x' }]), /EdDSA or ES256/],
  ])('refuses JWT_SIGNING_KEYS that is %s', async (_name, value, message) => {
    await expect(new SigningKeys(loadIdentityConfig({ JWT_SIGNING_KEYS: value })).init()).rejects.toThrow(
      message,
    );
  });

  it('refuses an active kid that no key has', async () => {
    const key = await generateSigningJwk();
    const config = loadIdentityConfig({ JWT_SIGNING_KEYS: JSON.stringify([key]), JWT_ACTIVE_KID: 'other' });
    await expect(new SigningKeys(config).init()).rejects.toThrow(/no configured key has kid other/);
  });
});
