-- An issue's lists move into its own row, each as a JSON array in a text column, and the
-- four tables that held them as rows go.
--
-- Every read and write takes an issue's lists whole, so the rows bought nothing, and they
-- cost: about seven rows per issue, each with an index entry, took a third of the server's
-- time in a sync of 100k issues. The content hash covers the lists as before, so stored
-- hashes stay valid.
--
-- status_changes holds [epoch milliseconds, from status or null, to status] per change,
-- oldest first; the other four hold names in the order JIRA gave them.

ALTER TABLE issues
    ADD COLUMN components       text NOT NULL DEFAULT '[]',
    ADD COLUMN labels           text NOT NULL DEFAULT '[]',
    ADD COLUMN fix_versions     text NOT NULL DEFAULT '[]',
    ADD COLUMN affects_versions text NOT NULL DEFAULT '[]',
    ADD COLUMN status_changes   text NOT NULL DEFAULT '[]';

-- One UPDATE, so each issue row with a list is rewritten once (five, one per list, left
-- five dead versions of every row: 100k issues took 13 s and grew the database from 220
-- to 722 MB).
UPDATE issues SET
    components       = COALESCE(lists.components, '[]'),
    labels           = COALESCE(lists.labels, '[]'),
    fix_versions     = COALESCE(lists.fix_versions, '[]'),
    affects_versions = COALESCE(lists.affects_versions, '[]'),
    status_changes   = COALESCE(lists.status_changes, '[]')
FROM (
    SELECT i.id, c.list AS components, l.list AS labels, f.list AS fix_versions,
           a.list AS affects_versions, s.list AS status_changes
    FROM issues AS i
    LEFT JOIN (SELECT issue_id, json_agg(name ORDER BY ordinal)::text AS list
               FROM issue_components GROUP BY issue_id) AS c ON c.issue_id = i.id
    LEFT JOIN (SELECT issue_id, json_agg(name ORDER BY ordinal)::text AS list
               FROM issue_labels GROUP BY issue_id) AS l ON l.issue_id = i.id
    LEFT JOIN (SELECT issue_id, json_agg(name ORDER BY ordinal)::text AS list
               FROM issue_versions WHERE kind = 'fix' GROUP BY issue_id) AS f
           ON f.issue_id = i.id
    LEFT JOIN (SELECT issue_id, json_agg(name ORDER BY ordinal)::text AS list
               FROM issue_versions WHERE kind = 'affects' GROUP BY issue_id) AS a
           ON a.issue_id = i.id
    LEFT JOIN (SELECT issue_id,
                      json_agg(json_build_array((extract(epoch FROM at) * 1000)::int8,
                                                from_status, to_status)
                               ORDER BY ordinal)::text AS list
               FROM issue_status_changes GROUP BY issue_id) AS s ON s.issue_id = i.id
    WHERE c.list IS NOT NULL OR l.list IS NOT NULL OR f.list IS NOT NULL
       OR a.list IS NOT NULL OR s.list IS NOT NULL
) AS lists
WHERE lists.id = issues.id;

DROP TABLE issue_components, issue_labels, issue_versions, issue_status_changes;
