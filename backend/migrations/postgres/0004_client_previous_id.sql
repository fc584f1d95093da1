-- A push records each client's new last mutation id in the same statement that reads (and, on
-- PostgreSQL, locks) the client's row; the id it replaced is kept here for that statement to
-- return, so the push knows which of its mutations are duplicates.
ALTER TABLE client ADD COLUMN previous_mutation_id BIGINT NOT NULL DEFAULT 0;
