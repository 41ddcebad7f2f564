import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeletedOwners1796289897264 implements MigrationInterface {
  name = 'DeletedOwners1796289897264';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "key_vault"."deleted_owners" (
                "owner_type" character varying(8) NOT NULL,
                "owner_id" uuid NOT NULL,
                "event_id" character varying(200) NOT NULL,
                "deleted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_deleted_owners" PRIMARY KEY ("owner_type", "owner_id")
            )
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP TABLE "key_vault"."deleted_owners"
        `);
  }
}
