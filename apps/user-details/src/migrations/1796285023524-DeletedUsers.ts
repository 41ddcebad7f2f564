import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeletedUsers1796285023524 implements MigrationInterface {
  name = 'DeletedUsers1796285023524';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "user_details"."deleted_users" (
                "user_id" uuid NOT NULL,
                "event_id" character varying(200) NOT NULL,
                "deleted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_75aa34f5ed3067d9d3d2df3daaa" PRIMARY KEY ("user_id")
            )
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP TABLE "user_details"."deleted_users"
        `);
  }
}
