import { MigrationInterface, QueryRunner } from 'typeorm';

export class Jobs1795437981496 implements MigrationInterface {
  name = 'Jobs1795437981496';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "jobs"."job_events" (
                "seq" BIGSERIAL NOT NULL,
                "job_id" uuid NOT NULL,
                "event_id" character varying(300) NOT NULL,
                "type" character varying(32) NOT NULL,
                "payload" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_9222f6a3c85dd46bc8266a53c9c" PRIMARY KEY ("seq")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_job_events_job_event" ON "jobs"."job_events" ("job_id", "event_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "jobs"."jobs" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "status" character varying(32) NOT NULL,
                "crew" character varying(64) NOT NULL,
                "strategy" character varying(16) NOT NULL,
                "params" jsonb NOT NULL DEFAULT '{}',
                "model" jsonb NOT NULL,
                "doc_ids" uuid array NOT NULL,
                "idempotency_key" character varying(255),
                "engine" character varying(16) NOT NULL,
                "workflow_name" character varying(63),
                "manifest_key" character varying(1024) NOT NULL,
                "callback_secret" character varying(128) NOT NULL,
                "chunk_count" integer NOT NULL,
                "usage" jsonb NOT NULL DEFAULT '{"inputTokens":0,"outputTokens":0,"totalTokens":0}',
                "error" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "submitted_at" TIMESTAMP WITH TIME ZONE,
                "started_at" TIMESTAMP WITH TIME ZONE,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_jobs_user_idempotency" ON "jobs"."jobs" ("user_id", "idempotency_key")
            WHERE "idempotency_key" IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_jobs_user_created_id" ON "jobs"."jobs" ("user_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "jobs"."job_inputs" (
                "job_id" uuid NOT NULL,
                "input_id" character varying(128) NOT NULL,
                "doc_ids" uuid array NOT NULL,
                "name" character varying(255) NOT NULL,
                "chunk" integer NOT NULL,
                "status" character varying(16) NOT NULL,
                "stage" character varying(16),
                "progress" integer NOT NULL DEFAULT '0',
                "output_doc_id" uuid,
                "error" text,
                CONSTRAINT "PK_73be5cd798e7453b529dfc5dd40" PRIMARY KEY ("job_id", "input_id")
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_inputs"
            ADD CONSTRAINT "FK_job_inputs_job" FOREIGN KEY ("job_id") REFERENCES "jobs"."jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_inputs" DROP CONSTRAINT "FK_job_inputs_job"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"."job_inputs"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_jobs_user_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_jobs_user_idempotency"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"."jobs"
        `);
    await queryRunner.query(`
            DROP INDEX "jobs"."UQ_job_events_job_event"
        `);
    await queryRunner.query(`
            DROP TABLE "jobs"."job_events"
        `);
  }
}
