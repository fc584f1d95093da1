-- Whether an entity has ever been visible to everyone. An incremental pull tells a user to
-- forget a row they may no longer see only when they may have seen it: without this, every
-- change to another unit's draft reached everyone as a delete, giving away its id and when it
-- was written. Rows restricted now were restricted always (a published report, bulletin or
-- evaluation never goes back to its unit alone).
ALTER TABLE entity ADD COLUMN ever_public BIGINT NOT NULL DEFAULT 0;
UPDATE entity SET ever_public = 1 WHERE visible_unit IS NULL;
