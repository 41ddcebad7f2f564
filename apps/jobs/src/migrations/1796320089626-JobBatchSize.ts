import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobBatchSize1796320089626 implements MigrationInterface {
  name = 'JobBatchSize1796320089626';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "batch_size" integer
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "batch_size"
        `);
  }
}
