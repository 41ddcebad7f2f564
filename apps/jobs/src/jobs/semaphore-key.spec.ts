import { ConfigError } from '@docflow/config';
import { loadJobsConfig } from '../config';
import { semaphoreKeyForOwner } from './semaphore-key';

describe(semaphoreKeyForOwner.name, () => {
  const owner = '3f2a9c1e-0b7d-4e51-9a8f-2c6d1e0f4b3a';

  it('is `default` for an owner without a key of its own', () => {
    expect(semaphoreKeyForOwner(owner, ['default'])).toBe('default');
    expect(semaphoreKeyForOwner(owner, ['default', 'team-acme'])).toBe('default');
  });

  it("is the owner's own key when the ConfigMap has it", () => {
    expect(semaphoreKeyForOwner(owner, ['default', owner])).toBe(owner);
    // Compared as the key the Workflow gets (characters a ConfigMap key cannot hold become `-`).
    expect(semaphoreKeyForOwner('Team Acme', ['default', 'Team-Acme'])).toBe('Team-Acme');
  });
});

describe('SEMAPHORE_KEYS', () => {
  const load = (value?: string) => loadJobsConfig(value === undefined ? {} : { SEMAPHORE_KEYS: value });

  it('defaults to `default`, and reads a comma-separated list', () => {
    expect(load().SEMAPHORE_KEYS).toEqual(['default']);
    expect(load(' default , team-acme,').SEMAPHORE_KEYS).toEqual(['default', 'team-acme']);
  });

  it('must list `default` and ConfigMap keys only', () => {
    expect(() => load('team-acme')).toThrow(ConfigError);
    expect(() => load('team-acme')).toThrow(/SEMAPHORE_KEYS: must list `default`/);
    expect(() => load('default,team acme')).toThrow(/SEMAPHORE_KEYS: "team acme" is not a ConfigMap key/);
  });
});
