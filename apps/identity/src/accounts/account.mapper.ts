import type { AccountUser } from '@docflow/contracts';
import type { AccountEntity } from './account.entity';

export function toAccountUser(entity: AccountEntity): AccountUser {
  return {
    id: entity.id,
    name: entity.name,
    email: entity.email,
    ...(entity.birth ? { birth: entity.birth } : {}),
    isAdmin: entity.isAdmin,
    createdAt: entity.createdAt.toISOString(),
  };
}
