import { MigrationInterface, QueryRunner } from 'typeorm';

export class KeyVaultAuditOutbox1796316437425 implements MigrationInterface {
  name = 'KeyVaultAuditOutbox1796316437425';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "key_vault"."outbox" (
                "id" uuid NOT NULL,
                "subject" character varying(200) NOT NULL,
                "payload" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "published_at" TIMESTAMP WITH TIME ZONE,
                "attempts" integer NOT NULL DEFAULT '0',
                "last_error" character varying(500),
                CONSTRAINT "PK_340ab539f309f03bdaa14aa7649" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_outbox_pending" ON "key_vault"."outbox" ("created_at")
            WHERE published_at IS NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "key_vault"."IDX_outbox_pending"
        `);
    await queryRunner.query(`
            DROP TABLE "key_vault"."outbox"
        `);
  }
}
