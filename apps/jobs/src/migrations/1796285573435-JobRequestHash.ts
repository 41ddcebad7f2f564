import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobRequestHash1796285573435 implements MigrationInterface {
  name = 'JobRequestHash1796285573435';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "request_hash" character varying(64)
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "request_hash"
        `);
  }
}
