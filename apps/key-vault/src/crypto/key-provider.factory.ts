import { decodeMasterKey, type KeyVaultConfig } from '../config';
import { LocalKeyProvider, type KeyProvider, type MasterKey } from './key-provider';

/** The key provider the configuration describes: master keys from the environment (a Kubernetes Secret). */
export function keyProviderFromConfig(
  config: Pick<
    KeyVaultConfig,
    'MASTER_KEY' | 'MASTER_KEY_ID' | 'MASTER_KEY_PREVIOUS' | 'MASTER_KEY_PREVIOUS_ID'
  >,
): KeyProvider {
  const active: MasterKey = { id: config.MASTER_KEY_ID, key: decodeMasterKey(config.MASTER_KEY)! };
  const previous: MasterKey[] =
    config.MASTER_KEY_PREVIOUS && config.MASTER_KEY_PREVIOUS_ID
      ? [{ id: config.MASTER_KEY_PREVIOUS_ID, key: decodeMasterKey(config.MASTER_KEY_PREVIOUS)! }]
      : [];
  return new LocalKeyProvider(active, previous);
}
