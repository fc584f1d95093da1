-- Each user's interface language follows them to every device (NULL: never chosen, Chinese).
ALTER TABLE users ADD COLUMN language TEXT;
