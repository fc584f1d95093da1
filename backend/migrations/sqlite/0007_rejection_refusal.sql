-- The refusal as the client was told it (`shared::mutation::Rejection`, JSON, both languages):
-- a push sent again because its answer was lost is told the same, not "duplicate", so the
-- user still learns the change was refused. Rows written before have none and stay duplicates.
ALTER TABLE rejection ADD COLUMN refusal TEXT;
