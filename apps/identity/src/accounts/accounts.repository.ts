import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { AccountEntity } from './account.entity';
import { lockForTransaction } from '@docflow/database';

@Injectable()
export class AccountsRepository {
  private readonly repo: Repository<AccountEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(AccountEntity);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(account: AccountEntity, manager: EntityManager): Promise<void> {
    await manager.getRepository(AccountEntity).insert(account);
  }

  findById(id: string): Promise<AccountEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByEmail(email: string, manager?: EntityManager): Promise<AccountEntity | null> {
    return (manager ? manager.getRepository(AccountEntity) : this.repo).findOneBy({
      email: email.trim().toLowerCase(),
    });
  }

  /**
   * Locks the account row for the rest of the transaction (deletion): a team or membership being made for the
   * user either commits first (and is seen) or waits and then finds the account gone.
   */
  async lockForDeletion(manager: EntityManager, id: string): Promise<boolean> {
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM identity.users WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows.length > 0;
  }

  /** A transaction-scoped advisory lock on the address: one provisioning of it at a time, across replicas. */
  async lockEmail(manager: EntityManager, email: string): Promise<void> {
    await lockForTransaction(manager, `identity.account.email:${email.trim().toLowerCase()}`);
  }

  findByIds(ids: string[]): Promise<AccountEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.repo.createQueryBuilder('u').where('u.id IN (:...ids)', { ids }).getMany();
  }

  async setPasswordHash(id: string, passwordHash: string, now: Date): Promise<void> {
    await this.repo.update({ id }, { passwordHash, updatedAt: now });
  }

  async setAdmin(id: string, isAdmin: boolean, now: Date, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AccountEntity) : this.repo).update(
      { id },
      { isAdmin, updatedAt: now },
    );
  }

  async anyAdmin(): Promise<boolean> {
    return (await this.repo.exists({ where: { isAdmin: true } })) === true;
  }

  /** Deletes the account; sessions, tokens and memberships go with it (ON DELETE CASCADE). */
  async deleteById(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await (manager ? manager.getRepository(AccountEntity) : this.repo).delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
