//! [`AnalyticsStore`] on SQLite: events in one plain table, written one `BEGIN IMMEDIATE`
//! transaction per batch (on a connection of their own, see `sqlite_events.rs`; through
//! the pool in multi-row inserts for a database in memory); purges delete rows.

use std::borrow::Cow;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::analytics::{
    count, failed, filters_from_text, AnalyticsStore, AuditEntry, EventQuery, JiraCallCount,
    JobOutcome, JobRun, NewAuditEntry, PurgeReport, AUDIT_COLUMNS, EVENT_COLUMNS, JOB_RUN_COLUMNS,
};
use super::SqliteStore;
use crate::analytics::report::EndpointStats;
use crate::analytics::rollup::{DayRollup, DepartmentDay, FeatureDay, ProjectDay};
use crate::analytics::{Event, EventRows, RowRef};
use crate::model::Timestamp;
use crate::Result;

fn event(row: &SqliteRow) -> Result<Event> {
    Ok(Event {
        at: Timestamp::from_millis(row.get(0)),
        account_id: row.get(1),
        session_id: row.get(2),
        department: row.get(3),
        action: row.get::<String, _>(4).parse()?,
        project: row.get(5),
        filters: filters_from_text(row.get(6)),
        method: row.get(7),
        endpoint: row.get(8),
        status: row.get::<Option<i64>, _>(9).map(|s| s as u16),
        latency_ms: row.get(10),
        client_addr: row.get(11),
    })
}

fn job_run(row: &SqliteRow) -> JobRun {
    JobRun {
        id: row.get(0),
        job: row.get(1),
        slot: row.get(2),
        instance: row.get(3),
        started_at: Timestamp::from_millis(row.get(4)),
        finished_at: row.get::<Option<i64>, _>(5).map(Timestamp::from_millis),
        duration_ms: row.get(6),
        outcome: JobOutcome::parse(row.get(7)),
        message: row.get(8),
        lock: row.get(9),
    }
}

fn audit(row: &SqliteRow) -> AuditEntry {
    AuditEntry {
        id: row.get(0),
        entry: NewAuditEntry {
            at: Timestamp::from_millis(row.get(1)),
            actor_id: row.get(2),
            actor: row.get(3),
            action: row.get(4),
            target: row.get(5),
            old_value: row.get(6),
            new_value: row.get(7),
        },
    }
}

impl SqliteStore {
    async fn rollup_parts(
        &self,
        from: &str,
        to: &str,
    ) -> Result<(Vec<SqliteRow>, Vec<SqliteRow>, Vec<SqliteRow>, Vec<SqliteRow>)> {
        let read = |sql: &'static str| {
            sqlx::query(sql).bind(from.to_owned()).bind(to.to_owned()).fetch_all(self.pool())
        };
        let days = read(
            "SELECT day, events, active_users, new_users, sessions, analyses, \
             avg_session_seconds, most_analysed_project, peak_concurrent_users FROM \
             analytics_daily WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        )
        .await
        .map_err(failed("read rollups"))?;
        let projects = read(
            "SELECT day, project, events, analyses, users FROM analytics_daily_projects \
             WHERE day BETWEEN ?1 AND ?2 ORDER BY day, project",
        )
        .await
        .map_err(failed("read rollups"))?;
        let features = read(
            "SELECT day, action, events, users FROM analytics_daily_features \
             WHERE day BETWEEN ?1 AND ?2 ORDER BY day, action",
        )
        .await
        .map_err(failed("read rollups"))?;
        let departments = read(
            "SELECT day, department, events, analyses, users FROM analytics_daily_departments \
             WHERE day BETWEEN ?1 AND ?2 ORDER BY day, department",
        )
        .await
        .map_err(failed("read rollups"))?;
        Ok((days, projects, features, departments))
    }
}

/// Events per `INSERT` statement, 12 parameters each (SQLite allows 32,766 per statement).
/// A full statement's text is always the same, so the connection keeps it prepared.
const EVENTS_PER_STATEMENT: usize = 100;

/// `INSERT INTO analytics_events` of `events` rows of parameters.
fn insert_events_sql(events: usize) -> String {
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let mut sql = String::from(
        "INSERT INTO analytics_events (occurred_at, account_id, session_id, department, \
         action, project, filters, method, endpoint, status, latency_ms, client_addr) VALUES ",
    );
    for n in 0..events {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(ROW);
    }
    sql
}

/// The statement of a full [`EVENTS_PER_STATEMENT`], built once.
static INSERT_FULL_EVENTS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_events_sql(EVENTS_PER_STATEMENT));

/// Inserts the rows of `rollup` (whose old rows are gone) in `tx`.
async fn insert_rollup_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    day: &str,
    rollup: &DayRollup,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO analytics_daily (day, events, active_users, new_users, sessions, \
             analyses, avg_session_seconds, most_analysed_project, peak_concurrent_users, \
             computed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(day)
    .bind(rollup.events as i64)
    .bind(rollup.active_users as i64)
    .bind(rollup.new_users as i64)
    .bind(rollup.sessions as i64)
    .bind(rollup.analyses as i64)
    .bind(rollup.avg_session_seconds)
    .bind(&rollup.most_analysed_project)
    .bind(rollup.peak_concurrent_users as i64)
    .bind(Timestamp::from(chrono::Utc::now()).millis())
    .execute(&mut **tx)
    .await
    .map_err(failed("write a rollup"))?;
    for p in &rollup.projects {
        sqlx::query(
            "INSERT INTO analytics_daily_projects (day, project, events, analyses, users) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(day)
        .bind(&p.project)
        .bind(p.events as i64)
        .bind(p.analyses as i64)
        .bind(p.users as i64)
        .execute(&mut **tx)
        .await
        .map_err(failed("write a rollup"))?;
    }
    for f in &rollup.features {
        sqlx::query(
            "INSERT INTO analytics_daily_features (day, action, events, users) \
                 VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(day)
        .bind(&f.action)
        .bind(f.events as i64)
        .bind(f.users as i64)
        .execute(&mut **tx)
        .await
        .map_err(failed("write a rollup"))?;
    }
    for d in &rollup.departments {
        sqlx::query(
            "INSERT INTO analytics_daily_departments (day, department, events, analyses, \
                 users) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(day)
        .bind(&d.department)
        .bind(d.events as i64)
        .bind(d.analyses as i64)
        .bind(d.users as i64)
        .execute(&mut **tx)
        .await
        .map_err(failed("write a rollup"))?;
    }
    Ok(())
}

fn day_of(text: &str) -> Result<NaiveDate> {
    text.parse().map_err(|e| crate::Error::store("read a rollup day", e))
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    /// One transaction per batch, each row's fields bound as they are (see
    /// `sqlite_events.rs`); a database in memory is written through the pool, in multi-row
    /// inserts.
    async fn insert_event_rows(&self, rows: &EventRows) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        if let Some(writer) = &self.events {
            return writer.write(rows).await;
        }
        let events: Vec<RowRef<'_>> = rows.iter().collect();
        let mut tx = self.begin_write().await?;
        for chunk in events.chunks(EVENTS_PER_STATEMENT) {
            let sql = if chunk.len() == EVENTS_PER_STATEMENT {
                Cow::Borrowed(INSERT_FULL_EVENTS.as_str())
            } else {
                Cow::Owned(insert_events_sql(chunk.len()))
            };
            let mut insert = sqlx::query(AssertSqlSafe(sql));
            for event in chunk {
                insert = insert
                    .bind(event.at)
                    .bind(event.account_id)
                    .bind(event.session_id)
                    .bind(event.department)
                    .bind(event.action.as_str())
                    .bind(event.project)
                    .bind(event.filters)
                    .bind(event.method)
                    .bind(event.endpoint)
                    .bind(event.status.map(i64::from))
                    .bind(event.latency_ms)
                    .bind(event.client_addr);
            }
            insert.execute(&mut *tx).await.map_err(failed("write usage events"))?;
        }
        tx.commit().await.map_err(failed("write usage events"))?;
        Ok(())
    }

    async fn prepare_event_partitions(&self, _: Timestamp, _: u32) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    async fn event_partitions(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    async fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        let limit = query.limit.map_or(i64::MAX, i64::from);
        let columns = EVENT_COLUMNS;
        let sql = format!(
            "SELECT * FROM (SELECT {columns} FROM analytics_events WHERE occurred_at >= ?1 \
             AND occurred_at < ?2 AND (?3 IS NULL OR account_id = ?3) ORDER BY \
             occurred_at DESC LIMIT ?4) AS latest ORDER BY occurred_at"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(query.from.millis())
            .bind(query.to.millis())
            .bind(query.account_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(failed("read usage events"))?;
        rows.iter().map(event).collect()
    }

    async fn endpoint_stats(&self, from: Timestamp, to: Timestamp) -> Result<Vec<EndpointStats>> {
        // SQLite has no percentile function: rank each endpoint's latencies, then pick the
        // nearest ranks, ceil(q * n) with integers, at least 1.
        let rows = sqlx::query(
            "WITH requests AS (SELECT COALESCE(method, 'GET') AS method, endpoint, status, \
             latency_ms FROM analytics_events WHERE occurred_at >= ?1 AND occurred_at < ?2 \
             AND endpoint IS NOT NULL AND status IS NOT NULL), \
             counts AS (SELECT method, endpoint, COUNT(*) AS requests, \
             SUM(status >= 500) AS errors, COUNT(latency_ms) AS timed \
             FROM requests GROUP BY method, endpoint), \
             ranked AS (SELECT method, endpoint, latency_ms, ROW_NUMBER() OVER \
             (PARTITION BY method, endpoint ORDER BY latency_ms) AS rank \
             FROM requests WHERE latency_ms IS NOT NULL) \
             SELECT c.method, c.endpoint, c.requests, c.errors, \
             MAX(CASE WHEN r.rank = MAX(1, (50 * c.timed + 99) / 100) THEN r.latency_ms END) AS p50, \
             MAX(CASE WHEN r.rank = MAX(1, (95 * c.timed + 99) / 100) THEN r.latency_ms END) AS p95, \
             MAX(CASE WHEN r.rank = MAX(1, (99 * c.timed + 99) / 100) THEN r.latency_ms END) AS p99 \
             FROM counts AS c LEFT JOIN ranked AS r \
             ON r.method = c.method AND r.endpoint = c.endpoint \
             GROUP BY c.method, c.endpoint",
        )
        .bind(from.millis())
        .bind(to.millis())
        .fetch_all(self.pool())
        .await
        .map_err(failed("summarise request latencies"))?;
        rows.iter().map(|row| endpoint_row(row).map_err(failed("read request latencies"))).collect()
    }

    async fn purge_events(&self, before: Timestamp) -> Result<PurgeReport> {
        let mut report = PurgeReport::default();
        let done = sqlx::query("DELETE FROM analytics_events WHERE occurred_at < ?1")
            .bind(before.millis())
            .execute(self.pool())
            .await
            .map_err(failed("delete old usage events"))?;
        report.rows_deleted = done.rows_affected();
        Ok(report)
    }

    async fn replace_rollup(&self, rollup: &DayRollup) -> Result<()> {
        let day = rollup.day.to_string();
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(failed("begin a write transaction"))?;
        for table in [
            "analytics_daily",
            "analytics_daily_projects",
            "analytics_daily_features",
            "analytics_daily_departments",
        ] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE day = ?1")))
                .bind(&day)
                .execute(&mut *tx)
                .await
                .map_err(failed("replace a rollup"))?;
        }
        insert_rollup_rows(&mut tx, &day, rollup).await?;
        tx.commit().await.map_err(failed("write a rollup"))
    }

    async fn rollups(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DayRollup>> {
        let (from, to) = (from.to_string(), to.to_string());
        let (days, projects, features, departments) = self.rollup_parts(&from, &to).await?;
        let mut out = Vec::with_capacity(days.len());
        for row in &days {
            let day: String = row.get(0);
            let of_day = |r: &&SqliteRow| r.get::<String, _>(0) == day;
            out.push(DayRollup {
                day: day_of(&day)?,
                events: row.get::<i64, _>(1) as u64,
                active_users: row.get::<i64, _>(2) as u64,
                new_users: row.get::<i64, _>(3) as u64,
                sessions: row.get::<i64, _>(4) as u64,
                analyses: row.get::<i64, _>(5) as u64,
                avg_session_seconds: row.get(6),
                most_analysed_project: row.get(7),
                peak_concurrent_users: row.get::<i64, _>(8) as u64,
                projects: projects
                    .iter()
                    .filter(of_day)
                    .map(|r| ProjectDay {
                        project: r.get(1),
                        events: r.get::<i64, _>(2) as u64,
                        analyses: r.get::<i64, _>(3) as u64,
                        users: r.get::<i64, _>(4) as u64,
                    })
                    .collect(),
                features: features
                    .iter()
                    .filter(of_day)
                    .map(|r| FeatureDay {
                        action: r.get(1),
                        events: r.get::<i64, _>(2) as u64,
                        users: r.get::<i64, _>(3) as u64,
                    })
                    .collect(),
                departments: departments
                    .iter()
                    .filter(of_day)
                    .map(|r| DepartmentDay {
                        department: r.get(1),
                        events: r.get::<i64, _>(2) as u64,
                        analyses: r.get::<i64, _>(3) as u64,
                        users: r.get::<i64, _>(4) as u64,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    async fn claim_job_run(
        &self,
        job: &str,
        slot: &str,
        instance: &str,
        lock: &str,
        at: Timestamp,
    ) -> Result<Option<i64>> {
        sqlx::query_scalar(
            "INSERT INTO job_runs (job, slot, instance, lock_name, started_at, outcome) VALUES \
             (?1, ?2, ?3, ?4, ?5, 'running') ON CONFLICT (job, slot) WHERE outcome <> 'abandoned' \
             DO NOTHING RETURNING id",
        )
        .bind(job)
        .bind(slot)
        .bind(instance)
        .bind(lock)
        .bind(at.millis())
        .fetch_optional(self.pool())
        .await
        .map_err(failed("claim a job run"))
    }

    async fn finish_job_run(
        &self,
        id: i64,
        outcome: JobOutcome,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET finished_at = ?2, duration_ms = ?2 - started_at, outcome = ?3, \
             message = ?4 WHERE id = ?1",
        )
        .bind(id)
        .bind(at.millis())
        .bind(outcome.as_str())
        .bind(message)
        .execute(self.pool())
        .await
        .map_err(failed("record the end of a job run"))?;
        Ok(())
    }

    async fn job_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<JobRun>> {
        let sql = format!(
            "SELECT {JOB_RUN_COLUMNS} FROM job_runs WHERE (?1 IS NULL OR job = ?1) \
             ORDER BY started_at DESC, id DESC LIMIT ?2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(job)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(failed("read job runs"))?;
        Ok(rows.iter().map(job_run).collect())
    }

    async fn running_job_runs(&self) -> Result<Vec<JobRun>> {
        let sql = format!(
            "SELECT {JOB_RUN_COLUMNS} FROM job_runs WHERE outcome = 'running' \
             ORDER BY started_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(failed("read the running job runs"))?;
        Ok(rows.iter().map(job_run).collect())
    }

    async fn abandon_job_run(&self, id: i64, message: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job_runs SET outcome = 'abandoned', message = ?1 \
             WHERE id = ?2 AND outcome = 'running'",
        )
        .bind(message)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(failed("mark a job run abandoned"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        let sql = format!(
            "INSERT INTO audit_log (at, actor_id, actor, action, target, old_value, new_value) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {AUDIT_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(entry.at.millis())
            .bind(entry.actor_id)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(&entry.old_value)
            .bind(&entry.new_value)
            .fetch_one(self.pool())
            .await
            .map_err(failed("write the audit log"))?;
        Ok(audit(&row))
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY at DESC, id DESC LIMIT ?1");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(failed("read the audit log"))?;
        Ok(rows.iter().map(audit).collect())
    }

    async fn add_jira_calls(&self, day: NaiveDate, counts: &[JiraCallCount]) -> Result<()> {
        let day = day.to_string();
        let mut tx = self.pool().begin().await.map_err(failed("begin a transaction"))?;
        for count in counts {
            sqlx::query(
                "INSERT INTO analytics_jira_calls (day, endpoint, status, calls) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (day, endpoint, status) \
                 DO UPDATE SET calls = analytics_jira_calls.calls + excluded.calls",
            )
            .bind(&day)
            .bind(&count.endpoint)
            .bind(i32::from(count.status))
            .bind(i64::try_from(count.calls).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(failed("record JIRA calls"))?;
        }
        tx.commit().await.map_err(failed("commit JIRA calls"))
    }

    async fn jira_calls(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<JiraCallCount>> {
        let rows = sqlx::query(
            "SELECT endpoint, status, CAST(SUM(calls) AS BIGINT) FROM analytics_jira_calls \
             WHERE day >= ?1 AND day <= ?2 GROUP BY endpoint, status \
             ORDER BY endpoint, status",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(failed("read JIRA calls"))?;
        let counts = rows.iter().map(|row| JiraCallCount {
            endpoint: row.get(0),
            status: u16::try_from(row.get::<i32, _>(1)).unwrap_or(0),
            calls: u64::try_from(row.get::<i64, _>(2)).unwrap_or(0),
        });
        Ok(counts.collect())
    }
}

fn endpoint_row(row: &SqliteRow) -> sqlx::Result<EndpointStats> {
    let percentile = |name: &str| -> sqlx::Result<f64> {
        Ok(row.try_get::<Option<f64>, _>(name)?.unwrap_or(0.0))
    };
    Ok(EndpointStats::new(
        row.try_get("method")?,
        row.try_get("endpoint")?,
        count(row.try_get("requests")?),
        count(row.try_get::<Option<i64>, _>("errors")?.unwrap_or(0)),
        [percentile("p50")?, percentile("p95")?, percentile("p99")?],
    ))
}
