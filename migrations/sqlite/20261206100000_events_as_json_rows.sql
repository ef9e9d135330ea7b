-- Raw usage events are stored as the rows the recorder writes: each event one JSON array
-- in SQLite's binary JSON (`data`) beside its time, and read through the view
-- `analytics_events`, which has the columns of the table it replaces. Writing an event
-- then stores one value and its time instead of twelve columns each read out of the
-- batch's JSON; reports and rollups read out the few they use. (Generated columns would
-- not do: SQLite computes every generated column of a row when inserting it.)
--
-- The rows already stored are copied over, so the table is rewritten once, under the
-- migration's lock: on a large events table this takes a while.
CREATE TABLE analytics_event_rows (
    occurred_at BIGINT NOT NULL,
    data        BLOB   NOT NULL
);

INSERT INTO analytics_event_rows (occurred_at, data)
SELECT occurred_at, jsonb_array(occurred_at, account_id, session_id, department, action,
                                project, json(filters), method, endpoint, status,
                                latency_ms, client_addr)
FROM analytics_events ORDER BY rowid;

DROP TABLE analytics_events;
CREATE INDEX analytics_event_rows_by_time ON analytics_event_rows (occurred_at);

CREATE VIEW analytics_events AS
SELECT occurred_at,
       data ->> 1  AS account_id,
       data ->> 2  AS session_id,
       data ->> 3  AS department,
       data ->> 4  AS action,
       data ->> 5  AS project,
       NULLIF(data -> 6, 'null') AS filters,
       data ->> 7  AS method,
       data ->> 8  AS endpoint,
       data ->> 9  AS status,
       data ->> 10 AS latency_ms,
       data ->> 11 AS client_addr
FROM analytics_event_rows;
