import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobOutputs1795437589660 implements MigrationInterface {
  name = 'JobOutputs1795437589660';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD "job_id" uuid
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD "source_doc_ids" uuid array
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP COLUMN "source_doc_ids"
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP COLUMN "job_id"
        `);
  }
}
