import { MigrationInterface, QueryRunner } from 'typeorm';

export class KeyVault1795443781059 implements MigrationInterface {
  name = 'KeyVault1795443781059';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "key_vault"."data_keys" (
                "id" uuid NOT NULL,
                "owner_type" character varying(8) NOT NULL,
                "owner_id" uuid NOT NULL,
                "master_key_id" character varying(64) NOT NULL,
                "wrapped_key" bytea NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "rewrapped_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_75e186bab00acc0d8f955b75cbb" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_data_keys_master_key_id" ON "key_vault"."data_keys" ("master_key_id")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_data_keys_owner" ON "key_vault"."data_keys" ("owner_type", "owner_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "key_vault"."api_keys" (
                "id" uuid NOT NULL,
                "owner_type" character varying(8) NOT NULL,
                "owner_id" uuid NOT NULL,
                "data_key_id" uuid NOT NULL,
                "name" character varying(100) NOT NULL,
                "provider" character varying(32) NOT NULL,
                "last4" character varying(4) NOT NULL,
                "iv" bytea NOT NULL,
                "ciphertext" bytea NOT NULL,
                "auth_tag" bytea NOT NULL,
                "created_by" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_api_keys_owner_name" ON "key_vault"."api_keys" ("owner_type", "owner_id", "name")
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_api_keys_owner_created_id" ON "key_vault"."api_keys" ("owner_type", "owner_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "key_vault"."grants" (
                "job_id" uuid NOT NULL,
                "key_id" uuid NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_grants" PRIMARY KEY ("job_id", "key_id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_grants_key_id" ON "key_vault"."grants" ("key_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "key_vault"."master_key_rotations" (
                "id" uuid NOT NULL,
                "to_master_key_id" character varying(64) NOT NULL,
                "from_master_key_ids" character varying(64) array NOT NULL,
                "rewrapped" integer NOT NULL DEFAULT '0',
                "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_1923b48b24430222d4bcfcdf040" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "key_vault"."api_keys"
            ADD CONSTRAINT "FK_api_keys_data_key" FOREIGN KEY ("data_key_id") REFERENCES "key_vault"."data_keys"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "key_vault"."grants"
            ADD CONSTRAINT "FK_grants_api_key" FOREIGN KEY ("key_id") REFERENCES "key_vault"."api_keys"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "key_vault"."grants" DROP CONSTRAINT "FK_grants_api_key"
        `);
    await queryRunner.query(`
            ALTER TABLE "key_vault"."api_keys" DROP CONSTRAINT "FK_api_keys_data_key"
        `);
    await queryRunner.query(`
            DROP TABLE "key_vault"."master_key_rotations"
        `);
    await queryRunner.query(`
            DROP INDEX "key_vault"."IDX_grants_key_id"
        `);
    await queryRunner.query(`
            DROP TABLE "key_vault"."grants"
        `);
    await queryRunner.query(`
            DROP INDEX "key_vault"."IDX_api_keys_owner_created_id"
        `);
    await queryRunner.query(`
            DROP INDEX "key_vault"."UQ_api_keys_owner_name"
        `);
    await queryRunner.query(`
            DROP TABLE "key_vault"."api_keys"
        `);
    await queryRunner.query(`
            DROP INDEX "key_vault"."UQ_data_keys_owner"
        `);
    await queryRunner.query(`
            DROP INDEX "key_vault"."IDX_data_keys_master_key_id"
        `);
    await queryRunner.query(`
            DROP TABLE "key_vault"."data_keys"
        `);
  }
}
