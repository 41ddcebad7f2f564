import { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1795443720915 implements MigrationInterface {
  name = 'Identity1795443720915';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "identity"."users" (
                "id" uuid NOT NULL,
                "name" character varying(200) NOT NULL,
                "email" character varying(254) NOT NULL,
                "birth" date,
                "password_hash" character varying(255),
                "is_admin" boolean NOT NULL DEFAULT false,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_identity_users_email" ON "identity"."users" ("email")
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."audit_events" (
                "id" uuid NOT NULL,
                "user_id" uuid,
                "type" character varying(40) NOT NULL,
                "actor_id" uuid,
                "target_id" character varying(100),
                "ip" character varying(64),
                "user_agent" character varying(256),
                "details" jsonb,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_audit_user_created" ON "identity"."audit_events" ("user_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."outbox" (
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
            CREATE INDEX "IDX_outbox_pending" ON "identity"."outbox" ("created_at")
            WHERE published_at IS NULL
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."sessions" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "revoked_reason" character varying(32),
                CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_sessions_user_id" ON "identity"."sessions" ("user_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."refresh_tokens" (
                "id" uuid NOT NULL,
                "session_id" uuid NOT NULL,
                "token_hash" character(64) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "used_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_refresh_tokens_hash" ON "identity"."refresh_tokens" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_refresh_tokens_session_id" ON "identity"."refresh_tokens" ("session_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."teams" (
                "id" uuid NOT NULL,
                "name" character varying(200) NOT NULL,
                "created_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_7e5523774a38b08a6236d322403" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."team_members" (
                "team_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "role" character varying(16) NOT NULL,
                "added_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_1d3c06a8217a8785e2af0ec4ab8" PRIMARY KEY ("team_id", "user_id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_team_members_user_id" ON "identity"."team_members" ("user_id")
        `);
    await queryRunner.query(`
            CREATE TABLE "identity"."personal_access_tokens" (
                "id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                "name" character varying(100) NOT NULL,
                "scopes" text array NOT NULL,
                "token_hash" character(64) NOT NULL,
                "prefix" character varying(16) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "last_used_at" TIMESTAMP WITH TIME ZONE,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_b6dc462fa11dbbb897eb8419735" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_pat_token_hash" ON "identity"."personal_access_tokens" ("token_hash")
        `);
    await queryRunner.query(`
            CREATE INDEX "IDX_pat_user_created" ON "identity"."personal_access_tokens" ("user_id", "created_at", "id")
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."sessions"
            ADD CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "identity"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."refresh_tokens"
            ADD CONSTRAINT "FK_refresh_tokens_session" FOREIGN KEY ("session_id") REFERENCES "identity"."sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."team_members"
            ADD CONSTRAINT "FK_team_members_team" FOREIGN KEY ("team_id") REFERENCES "identity"."teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."team_members"
            ADD CONSTRAINT "FK_team_members_user" FOREIGN KEY ("user_id") REFERENCES "identity"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."personal_access_tokens"
            ADD CONSTRAINT "FK_pat_user" FOREIGN KEY ("user_id") REFERENCES "identity"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "identity"."personal_access_tokens" DROP CONSTRAINT "FK_pat_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."team_members" DROP CONSTRAINT "FK_team_members_user"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."team_members" DROP CONSTRAINT "FK_team_members_team"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."refresh_tokens" DROP CONSTRAINT "FK_refresh_tokens_session"
        `);
    await queryRunner.query(`
            ALTER TABLE "identity"."sessions" DROP CONSTRAINT "FK_sessions_user"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_pat_user_created"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."UQ_pat_token_hash"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."personal_access_tokens"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_team_members_user_id"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."team_members"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."teams"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_refresh_tokens_session_id"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."UQ_refresh_tokens_hash"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."refresh_tokens"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_sessions_user_id"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."sessions"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_outbox_pending"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."outbox"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."IDX_audit_user_created"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."audit_events"
        `);
    await queryRunner.query(`
            DROP INDEX "identity"."UQ_identity_users_email"
        `);
    await queryRunner.query(`
            DROP TABLE "identity"."users"
        `);
  }
}
