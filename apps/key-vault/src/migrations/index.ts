// Every migration of the key_vault schema, in order. A new migration is added here as well.
import { KeyVault1795443781059 } from './1795443781059-KeyVault';
import { GrantRequestedBy1796285632211 } from './1796285632211-GrantRequestedBy';
import { DeletedOwners1796289897264 } from './1796289897264-DeletedOwners';
import { KeyVaultAuditOutbox1796316437425 } from './1796316437425-KeyVaultAuditOutbox';

export const migrations = [
  KeyVault1795443781059,
  GrantRequestedBy1796285632211,
  DeletedOwners1796289897264,
  KeyVaultAuditOutbox1796316437425,
];
