import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditTeamId1796316441219 implements MigrationInterface {
  name = 'AuditTeamId1796316441219';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "identity"."audit_events"
            ADD "team_id" uuid
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_audit_team_created" ON "identity"."audit_events" ("team_id", "created_at", "id")
            WHERE team_id IS NOT NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_audit_team_created"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."audit_events" DROP COLUMN "team_id"
        `);
  }
}
