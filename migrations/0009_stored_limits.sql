-- Issue 16: a password change ends the user's access tokens too (src/auth/directory.ts).
ALTER TABLE "users" ADD COLUMN "session_version" integer DEFAULT 0 NOT NULL;
