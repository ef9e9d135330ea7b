-- Calls made to JIRA, by day, endpoint template and answer, summed over every sync of every
-- instance. Days are ISO dates (UTC) as text like the other analytics tables; status 0
-- stands for a request that got no answer (connection fault or timeout).
CREATE TABLE analytics_jira_calls (
    day      TEXT    NOT NULL,
    endpoint TEXT    NOT NULL,
    status   INTEGER NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (day, endpoint, status)
);
