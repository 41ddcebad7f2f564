import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localMasterKey } from './platform';

describe(localMasterKey.name, () => {
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'docflow-home-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('makes a 32-byte key on first use, keeps it private to the user, and gives the same one afterwards', () => {
    const first = localMasterKey(home, {});
    expect(Buffer.from(first.MASTER_KEY, 'base64')).toHaveLength(32);
    expect(first.MASTER_KEY_ID).toBe('local-1');
    expect(statSync(join(home, 'key-vault', 'master-key.json')).mode & 0o777).toBe(0o600);
    expect(localMasterKey(home, {})).toEqual(first);
  });

  it('takes MASTER_KEY and MASTER_KEY_ID from the environment when set, and writes nothing', () => {
    expect(localMasterKey(home, { MASTER_KEY: 'k', MASTER_KEY_ID: 'prod-7' })).toEqual({
      MASTER_KEY: 'k',
      MASTER_KEY_ID: 'prod-7',
    });
    expect(() => statSync(join(home, 'key-vault'))).toThrow();
  });
});
