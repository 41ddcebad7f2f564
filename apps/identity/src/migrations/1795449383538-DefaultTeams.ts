import { MigrationInterface, QueryRunner } from 'typeorm';

export class DefaultTeams1795449383538 implements MigrationInterface {
  name = 'DefaultTeams1795449383538';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "identity"."teams"
            ADD "default_for_user_id" uuid
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_teams_default_for_user_id" ON "identity"."teams" ("default_for_user_id")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "identity"."UQ_teams_default_for_user_id"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."teams" DROP COLUMN "default_for_user_id"
        `);
  }
}
