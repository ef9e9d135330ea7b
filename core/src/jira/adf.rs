//! Atlassian Document Format (JIRA Cloud v3 rich text) to plain text.
//!
//! Block nodes (paragraphs, headings, list items, code blocks) become lines; list items
//! get `- ` or `1. ` markers and nested lists are indented; quotes get `> `; table cells
//! are separated by tabs and rows by newlines. Inline nodes that carry no text of their own
//! (mentions, emoji, status lozenges, dates, links to pages) are rendered from their
//! attributes. Nodes this module does not know give the text of their children, so text
//! in future node types is not lost.

use serde_json::Value;

/// Nesting beyond this depth is not rendered; it guards the recursion against hostile
/// documents built by hand rather than parsed (serde_json already limits parsed depth).
const MAX_DEPTH: usize = 64;

/// Plain text of an ADF document (or of a plain string, returned as is).
///
/// ```
/// let doc = serde_json::json!({"type": "doc", "version": 1, "content": [
///     {"type": "paragraph", "content": [{"type": "text", "text": "Crash on start"}]},
///     {"type": "bulletList", "content": [{"type": "listItem", "content": [
///         {"type": "paragraph", "content": [{"type": "text", "text": "Linux"}]}]}]}]});
/// assert_eq!(bugdash::jira::adf::to_text(&doc), "Crash on start\n- Linux");
/// ```
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(nodes) => join_blocks(nodes.iter(), 0),
        Value::Object(_) => render(value, 0),
        _ => String::new(),
    }
}

/// Renders one node; `depth` counts the nodes above it.
fn render(node: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return String::new();
    }
    match node_type(node) {
        "text" => node.get("text").and_then(Value::as_str).unwrap_or_default().to_owned(),
        "hardBreak" => "\n".to_owned(),
        "mention" => mention(node),
        "emoji" => attr(node, "text").or_else(|| attr(node, "shortName")).unwrap_or_default(),
        "status" => attr(node, "text").map(|text| format!("[{text}]")).unwrap_or_default(),
        "date" => date(node),
        "inlineCard" | "blockCard" | "embedCard" => attr(node, "url").unwrap_or_default(),
        "rule" => "---".to_owned(),
        "paragraph" | "heading" => inline(node, depth).trim_end_matches('\n').to_owned(),
        "codeBlock" => inline(node, depth).trim_end_matches('\n').to_owned(),
        "bulletList" => list(node, depth, None),
        "orderedList" => list(node, depth, Some(first_number(node))),
        "blockquote" => prefix_lines(&blocks(node, depth), "> "),
        "table" => table(node, depth),
        _ => unknown(node, depth),
    }
}

fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or_default()
}

fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("content").and_then(Value::as_array).into_iter().flatten()
}

fn attr(node: &Value, name: &str) -> Option<String> {
    let value = node.get("attrs")?.get(name)?;
    value.as_str().map(str::to_owned)
}

/// Children rendered one after another on the same line.
fn inline(node: &Value, depth: usize) -> String {
    children(node).map(|child| render(child, depth + 1)).collect()
}

/// Children rendered as separate lines.
fn blocks(node: &Value, depth: usize) -> String {
    join_blocks(children(node), depth + 1)
}

fn join_blocks<'a>(nodes: impl Iterator<Item = &'a Value>, depth: usize) -> String {
    nodes.map(|child| render(child, depth)).collect::<Vec<_>>().join("\n")
}

/// A node this module does not know: the text of its children, kept on one line when they
/// are all inline and on separate lines otherwise.
fn unknown(node: &Value, depth: usize) -> String {
    if let Some(text) = node.get("text").and_then(Value::as_str) {
        return text.to_owned();
    }
    const INLINE: &[&str] =
        &["text", "hardBreak", "mention", "emoji", "status", "date", "inlineCard"];
    if children(node).all(|child| INLINE.contains(&node_type(child))) {
        inline(node, depth)
    } else {
        blocks(node, depth)
    }
}

fn mention(node: &Value) -> String {
    match attr(node, "text") {
        Some(text) if text.starts_with('@') => text,
        Some(text) => format!("@{text}"),
        None => attr(node, "id").map(|id| format!("@{id}")).unwrap_or_default(),
    }
}

/// A date node holds milliseconds since the epoch, as a string; shown as a calendar date.
fn date(node: &Value) -> String {
    let Some(millis) = attr(node, "timestamp").and_then(|text| text.parse::<i64>().ok()) else {
        return String::new();
    };
    crate::model::Timestamp::from_millis(millis).date().to_string()
}

fn first_number(node: &Value) -> u64 {
    node.get("attrs").and_then(|attrs| attrs.get("order")).and_then(Value::as_u64).unwrap_or(1)
}

/// A list: each item's first line gets the marker, its further lines (including nested
/// lists) are indented to the marker's width.
fn list(node: &Value, depth: usize, first_number: Option<u64>) -> String {
    let mut lines = Vec::new();
    for (index, item) in children(node).enumerate() {
        let marker = match first_number {
            Some(first) => format!("{}. ", first.saturating_add(index as u64)),
            None => "- ".to_owned(),
        };
        let indent = " ".repeat(marker.len());
        let body = render(item, depth + 1);
        for (line_index, line) in body.split('\n').enumerate() {
            let lead = if line_index == 0 { marker.as_str() } else { indent.as_str() };
            lines.push(format!("{lead}{line}"));
        }
    }
    lines.join("\n")
}

fn prefix_lines(text: &str, prefix: &str) -> String {
    text.split('\n').map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}

/// A table: one line per row, cells separated by tabs; a cell's own line breaks become
/// spaces so that each row stays on one line.
fn table(node: &Value, depth: usize) -> String {
    let rows = children(node).map(|row| {
        let cells = children(row).map(|cell| blocks(cell, depth + 2).replace('\n', " "));
        cells.collect::<Vec<_>>().join("\t")
    });
    rows.collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_nodes_without_text_render_from_their_attributes() {
        let doc = json!({"type": "doc", "content": [{"type": "paragraph", "content": [
            {"type": "status", "attrs": {"text": "IN REVIEW"}},
            {"type": "text", "text": " due "},
            {"type": "date", "attrs": {"timestamp": "1700000000000"}},
            {"type": "text", "text": " "},
            {"type": "emoji", "attrs": {"shortName": ":smile:"}},
            {"type": "mention", "attrs": {"id": "x", "text": "@Ann"}}]}]});
        assert_eq!(to_text(&doc), "[IN REVIEW] due 2023-11-14 :smile:@Ann");
    }

    #[test]
    fn ordered_lists_start_at_their_order_attribute() {
        let doc = json!({"type": "orderedList", "attrs": {"order": 3}, "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "c"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "d"}]}]}]});
        assert_eq!(to_text(&doc), "3. c\n4. d");
    }

    #[test]
    fn unknown_nodes_give_their_childrens_text() {
        let doc = json!({"type": "doc", "content": [
            {"type": "layoutSection", "content": [
                {"type": "futureBlock", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "left"}]}]},
                {"type": "futureInline", "content": [{"type": "text", "text": "right"}]}]}]});
        assert_eq!(to_text(&doc), "left\nright");
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_cut_off() {
        let mut node = json!({"type": "text", "text": "deep"});
        for _ in 0..200 {
            node = json!({"type": "blockquote", "content": [node]});
        }
        assert!(!to_text(&node).contains("deep"));
    }
}
