import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobCountersOutbox1795443576069 implements MigrationInterface {
  name = 'JobCountersOutbox1795443576069';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_events"
            ADD "pending" boolean NOT NULL DEFAULT false
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "inputs_total" integer NOT NULL DEFAULT '0'
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "inputs_open" integer NOT NULL DEFAULT '0'
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "inputs_completed" integer NOT NULL DEFAULT '0'
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs"
            ADD "progress_sum" integer NOT NULL DEFAULT '0'
        `);
    // Jobs made before the counters: count their inputs once (the same rule as countInputs()).
    await queryRunner.query(`
            UPDATE "jobs"."jobs" j SET
                "inputs_total" = c.total, "inputs_open" = c.open, "inputs_completed" = c.completed,
                "progress_sum" = c.progress
            FROM (
                SELECT "job_id",
                    count(*) AS total,
                    count(*) FILTER (WHERE "status" IN ('pending', 'running')) AS open,
                    count(*) FILTER (WHERE "status" = 'completed') AS completed,
                    coalesce(sum(CASE WHEN "status" IN ('completed', 'failed') THEN 100 ELSE "progress" END), 0) AS progress
                FROM "jobs"."job_inputs" GROUP BY "job_id"
            ) c
            WHERE c."job_id" = j."id"
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_job_events_pending" ON "jobs"."job_events" ("job_id", "seq")
            WHERE pending
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_job_events_pending"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "progress_sum"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "inputs_completed"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "inputs_open"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."jobs" DROP COLUMN "inputs_total"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_events" DROP COLUMN "pending"
        `);
  }
}
