import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager, type Repository } from 'typeorm';
import { MasterKeyRotationEntity } from './master-key-rotation.entity';

@Injectable()
export class MasterKeyRotationsRepository {
  private readonly repo: Repository<MasterKeyRotationEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(MasterKeyRotationEntity);
  }

  /** The unfinished rotation to `toMasterKeyId`, when a previous run stopped before the end. */
  findUnfinished(toMasterKeyId: string): Promise<MasterKeyRotationEntity | null> {
    return this.repo.findOne({
      where: { toMasterKeyId, finishedAt: IsNull() },
      order: { startedAt: 'DESC' },
    });
  }

  async insert(entity: MasterKeyRotationEntity): Promise<void> {
    await this.repo.insert(entity);
  }

  async addRewrapped(manager: EntityManager, id: string, count: number): Promise<void> {
    await manager.getRepository(MasterKeyRotationEntity).increment({ id }, 'rewrapped', count);
  }

  async finish(id: string, at: Date): Promise<MasterKeyRotationEntity> {
    await this.repo.update({ id }, { finishedAt: at });
    return this.repo.findOneByOrFail({ id });
  }

  list(): Promise<MasterKeyRotationEntity[]> {
    return this.repo.find({ order: { startedAt: 'ASC' } });
  }
}
