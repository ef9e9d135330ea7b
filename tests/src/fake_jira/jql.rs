//! The small part of JQL the fake understands: what a sync sends.
//!
//! `project = KEY`, `updated >= <epoch millis>` (also `>`), `id = N`, `key = K`, joined by
//! `AND`, with an optional `ORDER BY` that is ignored because the fake always sorts by
//! updated, then id, as the sync asks. Anything else is refused like JIRA refuses a query
//! it cannot read, so a client sending unexpected JQL fails loudly.

/// One condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `project = KEY`.
    Project(String),
    /// `updated >= millis` (inclusive) or `updated > millis`.
    UpdatedSince {
        /// Epoch milliseconds.
        millis: i64,
        /// True for `>=`.
        inclusive: bool,
    },
    /// `id = N`.
    Id(u64),
    /// `key = K`.
    Key(String),
}

/// Reads a query into its conditions, all of which must hold.
pub fn parse(jql: &str) -> Result<Vec<Clause>, String> {
    let lower = jql.to_ascii_lowercase();
    let condition = match lower.find("order by") {
        Some(at) => &jql[..at],
        None => jql,
    };
    let mut clauses = Vec::new();
    for part in split_and(condition) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        clauses.push(parse_clause(part)?);
    }
    Ok(clauses)
}

fn split_and(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while let Some(at) = lower[from..].find(" and ") {
        let at = from + at;
        parts.push(&text[start..at]);
        start = at + 5;
        from = start;
    }
    parts.push(&text[start..]);
    parts
}

fn parse_clause(part: &str) -> Result<Clause, String> {
    let (field, operator, value) = ["<=", ">=", "!=", "=", ">", "<"]
        .iter()
        .find_map(|op| part.split_once(op).map(|(field, value)| (field, *op, value)))
        .ok_or_else(|| format!("Error in the JQL Query: cannot read '{part}'."))?;
    let field = field.trim().to_ascii_lowercase();
    let value = unquote(value.trim());
    let number = |value: &str| {
        value.parse::<i64>().map_err(|_| {
            format!("Date value '{value}' for field '{field}' is invalid (the fake reads millis).")
        })
    };
    match (field.as_str(), operator) {
        ("project", "=") => Ok(Clause::Project(value)),
        ("updated", ">=") => Ok(Clause::UpdatedSince { millis: number(&value)?, inclusive: true }),
        ("updated", ">") => Ok(Clause::UpdatedSince { millis: number(&value)?, inclusive: false }),
        ("id", "=") => Ok(Clause::Id(number(&value)? as u64)),
        ("key" | "issuekey", "=") => Ok(Clause::Key(value)),
        _ => Err(format!("Error in the JQL Query: the fake JIRA cannot evaluate '{part}'.")),
    }
}

/// The value of a quoted JQL string, escapes undone; unquoted text as is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            c => text.push(c),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sync_query() {
        let jql = r#"project = "ZOO\"KEEPER" AND updated >= 940000 ORDER BY updated ASC, id ASC"#;
        assert_eq!(
            parse(jql).unwrap(),
            vec![
                Clause::Project("ZOO\"KEEPER".to_owned()),
                Clause::UpdatedSince { millis: 940000, inclusive: true }
            ]
        );
        assert!(parse("assignee = currentUser()").is_err());
    }
}
