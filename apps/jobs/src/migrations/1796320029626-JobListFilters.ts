import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobListFilters1796320029626 implements MigrationInterface {
  name = 'JobListFilters1796320029626';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE INDEX "IDX_jobs_team_status_created_id" ON "jobs"."jobs" ("team_id", "status", "created_at", "id")
            WHERE "team_id" IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_jobs_user_status_created_id" ON "jobs"."jobs" ("user_id", "status", "created_at", "id")
            WHERE "team_id" IS NULL
        `);
    // By hand: TypeORM cannot declare a GIN index (the entity marks it synchronize: false).
    await queryRunner.query(`
            CREATE INDEX "IDX_job_inputs_doc_ids" ON "jobs"."job_inputs" USING gin ("doc_ids")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_job_inputs_doc_ids"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_jobs_user_status_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_jobs_team_status_created_id"
        `);
  }
}
