import { MigrationInterface, QueryRunner } from 'typeorm';

export class GrantRequestedBy1796285632211 implements MigrationInterface {
  name = 'GrantRequestedBy1796285632211';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "key_vault"."grants"
            ADD "requested_by" uuid
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "key_vault"."grants" DROP COLUMN "requested_by"
        `);
  }
}
