-- Reformboard schema, version 2 (PostgreSQL): running the plan. Kept column-for-column equal to the
-- other dialect's migration of the same number.

-- Uploaded files (佐证材料). The bytes live on disk under the data directory as
-- uploads/<stored_name> (a generated name: the uploader's file name is display text only). An
-- upload becomes an attachment when an `attach_file` mutation by the same user names its id.
CREATE TABLE upload (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX upload_by_user ON upload (user_id, at);

-- Where a user's notifications are mailed, when SMTP is configured (optional, set by the office).
ALTER TABLE users ADD COLUMN email TEXT;
