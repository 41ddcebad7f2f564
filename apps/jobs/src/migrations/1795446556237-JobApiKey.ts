import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobApiKey1795446556237 implements MigrationInterface {
  name = 'JobApiKey1795446556237';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "api_key_id" uuid
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "api_key_id"
        `);
  }
}
