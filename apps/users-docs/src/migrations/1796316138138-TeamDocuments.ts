import { MigrationInterface, QueryRunner } from 'typeorm';

export class TeamDocuments1796316138138 implements MigrationInterface {
  name = 'TeamDocuments1796316138138';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP CONSTRAINT "FK_documents_user"
        `);
    await queryRunner.query(`
            CREATE TABLE "users_docs"."deleted_teams" (
                "team_id" uuid NOT NULL,
                "event_id" character varying(200) NOT NULL,
                "deleted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_deleted_teams" PRIMARY KEY ("team_id")
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD "team_id" uuid
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD "owner_user_id" uuid
        `);
    // Added by hand: every existing document is a user's own.
    await queryRunner.query(`
            UPDATE "users_docs"."documents" SET "owner_user_id" = "user_id"
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_documents_team_created_id" ON "users_docs"."documents" ("team_id", "created_at", "id")
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD CONSTRAINT "CHK_documents_owner" CHECK (
                    (
                        team_id IS NULL
                        AND owner_user_id = user_id
                    )
                    OR (
                        team_id IS NOT NULL
                        AND owner_user_id IS NULL
                    )
                )
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD CONSTRAINT "FK_documents_owner_user" FOREIGN KEY ("owner_user_id") REFERENCES "users_docs"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP CONSTRAINT "FK_documents_owner_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP CONSTRAINT "CHK_documents_owner"
        `);
    await queryRunner.query(`
            DROP INDEX "users_docs"."IDX_documents_team_created_id"
        `);
    // Added by hand: team documents have no place in the older schema (their creator may be gone).
    await queryRunner.query(`
            DELETE FROM "users_docs"."documents" WHERE "team_id" IS NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP COLUMN "owner_user_id"
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP COLUMN "team_id"
        `);
    await queryRunner.query(`
            DROP TABLE "users_docs"."deleted_teams"
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD CONSTRAINT "FK_documents_user" FOREIGN KEY ("user_id") REFERENCES "users_docs"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }
}
