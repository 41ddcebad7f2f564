import { MigrationInterface, QueryRunner } from 'typeorm';

export class TeamJobs1796316253402 implements MigrationInterface {
  name = 'TeamJobs1796316253402';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "team_id" uuid
        `);
    // An Idempotency-Key is per owner: the user's own jobs, or the team's (TypeORM does not compare an
    // index's WHERE, so this change is written by hand).
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_jobs_user_idempotency"
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_jobs_user_idempotency" ON "jobs"."jobs" ("user_id", "idempotency_key")
            WHERE "idempotency_key" IS NOT NULL
                AND "team_id" IS NULL
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_jobs_team_idempotency" ON "jobs"."jobs" ("team_id", "idempotency_key")
            WHERE "idempotency_key" IS NOT NULL
                AND "team_id" IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_jobs_team_created_id" ON "jobs"."jobs" ("team_id", "created_at", "id")
            WHERE "team_id" IS NOT NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_jobs_team_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_jobs_team_idempotency"
        `);
    // The team's jobs go with the column; the user's index is as before.
    await queryRunner.query(`
            DELETE FROM "jobs"."jobs" WHERE "team_id" IS NOT NULL
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_jobs_user_idempotency"
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_jobs_user_idempotency" ON "jobs"."jobs" ("user_id", "idempotency_key")
            WHERE "idempotency_key" IS NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "team_id"
        `);
  }
}
