import { MigrationInterface, QueryRunner } from 'typeorm';

export class UserDetails1795444897827 implements MigrationInterface {
  name = 'UserDetails1795444897827';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "user_details"."user_details" (
                "user_id" uuid NOT NULL,
                "display_name" character varying(100) NOT NULL,
                "bio" character varying(1000),
                "locale" character varying(35) NOT NULL,
                "timezone" character varying(64) NOT NULL,
                "avatar_url" character varying(2048),
                "plan" character varying(8) NOT NULL,
                "subscription_status" character varying(16) NOT NULL,
                "max_documents" integer NOT NULL,
                "max_storage_bytes" bigint NOT NULL,
                "max_jobs_per_day" integer NOT NULL,
                "default_team_id" uuid,
                "setup_status" character varying(16) NOT NULL,
                "setup_event_id" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_ef1a1915f99bcf7a87049f74494" PRIMARY KEY ("user_id")
            )
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP TABLE "user_details"."user_details"
        `);
  }
}
