-- Comments are stored as the JSON text BugDash writes and reads back whole; no query looks
-- inside them. As jsonb, the server parsed every issue's comments on every write, which
-- took about a tenth of the time of writing issue rows in an import of the ZooKeeper
-- issues (REST JSON with comments).
--
-- Changing the type rewrites the issues table and its indexes under an exclusive lock,
-- needing about the table's size again in free disk: on a large store, `bugdash migrate`
-- (or the first start of the new version) blocks reads and writes of issues until done.
ALTER TABLE issues ALTER COLUMN comments DROP DEFAULT;
ALTER TABLE issues ALTER COLUMN comments TYPE text USING comments::text;
ALTER TABLE issues ALTER COLUMN comments SET DEFAULT '[]';
