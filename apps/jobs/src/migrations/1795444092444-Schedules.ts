import { MigrationInterface, QueryRunner } from 'typeorm';

export class Schedules1795444092444 implements MigrationInterface {
  name = 'Schedules1795444092444';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "jobs"."schedules" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "name" character varying(200),
                "cron" character varying(100),
                "every" character varying(16),
                "at" character varying(5),
                "day_of_week" character varying(9),
                "day_of_month" smallint,
                "timezone" character varying(64) NOT NULL,
                "documents" jsonb NOT NULL,
                "crew" character varying(64) NOT NULL,
                "strategy" character varying(16) NOT NULL,
                "options" jsonb NOT NULL DEFAULT '{}',
                "catch_up" character varying(16) NOT NULL,
                "enabled" boolean NOT NULL,
                "next_run_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_7e33fc2ea755a5765e3564e66dd" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_schedules_due" ON "jobs"."schedules" ("next_run_at")
            WHERE "enabled" = true
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_schedules_user_created_id" ON "jobs"."schedules" ("user_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "jobs"."schedule_runs" (
                "id" uuid NOT NULL,
                "schedule_id" uuid NOT NULL,
                "slot_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "status" character varying(16) NOT NULL,
                "job_ids" uuid array NOT NULL DEFAULT '{}',
                "document_count" integer,
                "error" text,
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_ef93e91d5380c5f16f34c274af0" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_schedule_runs_pending" ON "jobs"."schedule_runs" ("next_attempt_at")
            WHERE "status" = 'pending'
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_schedule_runs_schedule_created_id" ON "jobs"."schedule_runs" ("schedule_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_schedule_runs_schedule_slot" ON "jobs"."schedule_runs" ("schedule_id", "slot_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."schedule_runs"
            ADD CONSTRAINT "FK_6da9e9ef293587b64bbe6dd9b1f" FOREIGN KEY ("schedule_id") REFERENCES "jobs"."schedules"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."schedule_runs" DROP CONSTRAINT "FK_6da9e9ef293587b64bbe6dd9b1f"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_schedule_runs_schedule_slot"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_schedule_runs_schedule_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_schedule_runs_pending"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"."schedule_runs"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_schedules_user_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_schedules_due"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"."schedules"
        `);
  }
}
