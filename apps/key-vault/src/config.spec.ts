import { randomBytes } from 'node:crypto';
import { ConfigError, redactConfig } from '@docflow/config';
import { keyVaultConfigSchema, loadKeyVaultConfig } from './config';

describe(loadKeyVaultConfig.name, () => {
  const key = randomBytes(32).toString('base64');
  const other = randomBytes(32).toString('base64url');

  it('accepts a 32-byte master key in base64 or base64url, and redacts both keys', () => {
    const sut = loadKeyVaultConfig({
      MASTER_KEY: key,
      MASTER_KEY_ID: 'k2',
      MASTER_KEY_PREVIOUS: other,
      MASTER_KEY_PREVIOUS_ID: 'k1',
    });
    const shown = JSON.stringify(redactConfig(keyVaultConfigSchema, sut));
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(other);
    expect(shown).toContain('"MASTER_KEY":"[redacted]"');
  });

  it('refuses a missing or short master key, naming the variable and never echoing the value', () => {
    const short = randomBytes(16).toString('base64');
    const error = (() => {
      try {
        loadKeyVaultConfig({ MASTER_KEY: short });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.issues).toEqual([expect.stringMatching(/^MASTER_KEY: must be 32 random bytes in base64/)]);
    expect(error!.message).not.toContain(short);
    expect(() => loadKeyVaultConfig({})).toThrow(/MASTER_KEY:/);
  });

  it('needs both halves of the previous key, a different id and a different key', () => {
    expect(() => loadKeyVaultConfig({ MASTER_KEY: key, MASTER_KEY_PREVIOUS: other })).toThrow(
      /MASTER_KEY_PREVIOUS_ID: is required/,
    );
    expect(() => loadKeyVaultConfig({ MASTER_KEY: key, MASTER_KEY_PREVIOUS_ID: 'k0' })).toThrow(
      /MASTER_KEY_PREVIOUS: is required/,
    );
    expect(() =>
      loadKeyVaultConfig({ MASTER_KEY: key, MASTER_KEY_PREVIOUS: other, MASTER_KEY_PREVIOUS_ID: 'v1' }),
    ).toThrow(/must differ from MASTER_KEY_ID/);
    expect(() =>
      loadKeyVaultConfig({ MASTER_KEY: key, MASTER_KEY_PREVIOUS: key, MASTER_KEY_PREVIOUS_ID: 'k0' }),
    ).toThrow(/MASTER_KEY_PREVIOUS: must differ from MASTER_KEY/);
  });
});
