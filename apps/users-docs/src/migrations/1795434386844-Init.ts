import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795434386844 implements MigrationInterface {
  name = 'Init1795434386844';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "users_docs"."users" (
                "id" uuid NOT NULL,
                "name" character varying(200) NOT NULL,
                "email" character varying(254) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_users_email" ON "users_docs"."users" ("email")
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_users_created_at_id" ON "users_docs"."users" ("created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "users_docs"."documents" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "name" character varying(255) NOT NULL,
                "kind" character varying(16) NOT NULL DEFAULT 'upload',
                "content_type" character varying(255) NOT NULL,
                "size" bigint NOT NULL,
                "status" character varying(20) NOT NULL,
                "status_reason" text,
                "object_key" character varying(1024) NOT NULL,
                "etag" character varying(128),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "uploaded_at" TIMESTAMP WITH TIME ZONE,
                "deleted_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_ac51aa5181ee2036f5ca482857c" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_documents_object_key" ON "users_docs"."documents" ("object_key")
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_documents_user_created_id" ON "users_docs"."documents" ("user_id", "created_at", "id")
        `);
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents"
            ADD CONSTRAINT "FK_documents_user" FOREIGN KEY ("user_id") REFERENCES "users_docs"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users_docs"."documents" DROP CONSTRAINT "FK_documents_user"
        `);
    await queryRunner.query(`
            DROP INDEX "users_docs"."IDX_documents_user_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "users_docs"."UQ_documents_object_key"
        `);
    await queryRunner.query(`
            DROP TABLE "users_docs"."documents"
        `);
    await queryRunner.query(`
            DROP INDEX "users_docs"."IDX_users_created_at_id"
        `);
    await queryRunner.query(`
            DROP INDEX "users_docs"."UQ_users_email"
        `);
    await queryRunner.query(`
            DROP TABLE "users_docs"."users"
        `);
  }
}
