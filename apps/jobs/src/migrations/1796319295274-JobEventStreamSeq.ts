import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobEventStreamSeq1796319295274 implements MigrationInterface {
  name = 'JobEventStreamSeq1796319295274';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The JetStream sequence of each published event (its SSE id), filled by the outbox relay from then on;
    // nothing is backfilled: older events are served with their row id (`pg-<seq>`).
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_events"
            ADD "stream_seq" bigint
        `);
    // A job's events in order, page by page (the SSE history once JetStream no longer holds it).
    await queryRunner.query(`
            CREATE INDEX "IDX_job_events_job_seq" ON "jobs"."job_events" ("job_id", "seq")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "jobs"."IDX_job_events_job_seq"
        `);
    await queryRunner.query(`
            ALTER TABLE "jobs"."job_events" DROP COLUMN "stream_seq"
        `);
  }
}
