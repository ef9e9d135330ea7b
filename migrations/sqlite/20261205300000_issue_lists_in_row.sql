-- An issue's lists move into its own row, each as a JSON array in a text column, and the
-- four tables that held them as rows go.
--
-- Every read and write takes an issue's lists whole, so the rows bought nothing, and they
-- cost: about seven rows per issue, each in a table's B-tree, written and deleted with
-- the issue. The content hash covers the lists as before, so stored hashes stay valid.
--
-- status_changes holds [epoch milliseconds, from status or null, to status] per change,
-- oldest first; the other four hold names in the order JIRA gave them.

ALTER TABLE issues ADD COLUMN components       TEXT NOT NULL DEFAULT '[]';
ALTER TABLE issues ADD COLUMN labels           TEXT NOT NULL DEFAULT '[]';
ALTER TABLE issues ADD COLUMN fix_versions     TEXT NOT NULL DEFAULT '[]';
ALTER TABLE issues ADD COLUMN affects_versions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE issues ADD COLUMN status_changes   TEXT NOT NULL DEFAULT '[]';

-- One UPDATE, so each issue row with a list is rewritten once. json_group_array keeps
-- the order its rows arrive in, which the inner ORDER BY sets.
UPDATE issues SET
    components = (
        SELECT json_group_array(name) FROM (
            SELECT name FROM issue_components WHERE issue_id = issues.id ORDER BY ordinal)),
    labels = (
        SELECT json_group_array(name) FROM (
            SELECT name FROM issue_labels WHERE issue_id = issues.id ORDER BY ordinal)),
    fix_versions = (
        SELECT json_group_array(name) FROM (
            SELECT name FROM issue_versions
            WHERE issue_id = issues.id AND kind = 'fix' ORDER BY ordinal)),
    affects_versions = (
        SELECT json_group_array(name) FROM (
            SELECT name FROM issue_versions
            WHERE issue_id = issues.id AND kind = 'affects' ORDER BY ordinal)),
    status_changes = (
        SELECT json_group_array(json_array(at, from_status, to_status)) FROM (
            SELECT at, from_status, to_status FROM issue_status_changes
            WHERE issue_id = issues.id ORDER BY ordinal))
WHERE id IN (SELECT issue_id FROM issue_components
             UNION SELECT issue_id FROM issue_labels
             UNION SELECT issue_id FROM issue_versions
             UNION SELECT issue_id FROM issue_status_changes);

DROP TABLE issue_components;
DROP TABLE issue_labels;
DROP TABLE issue_versions;
DROP TABLE issue_status_changes;
