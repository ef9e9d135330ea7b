//! The JSON shapes BugDash reads from JIRA, as serde structs that borrow from the input.
//!
//! Only the keys BugDash uses are named; serde skips every other key (an Apache issue
//! carries dozens of custom fields) without building a value for it. Text borrows from the
//! input unless JSON escapes force a copy, so reading costs little more than scanning.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON string, borrowed from the input when it holds no escapes.
///
/// serde's own `Cow<str>` always copies when wrapped in an `Option`, which is how almost
/// every JIRA field arrives, hence this wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'a> Text<'a> {
    /// The text as a string slice.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The text in the boxed form the model stores.
    pub(crate) fn into_boxed(self) -> crate::model::Text {
        match self.0 {
            Cow::Borrowed(text) => text.into(),
            Cow::Owned(text) => text.into(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a text string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text)))
    }
}

/// A date-time as JIRA writes it; read into an instant later, where the issue key is known
/// for the error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateText<'a>(pub(crate) Text<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for DateText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl<'de> Visitor<'de> for DateVisitor {
            type Value = DateText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date-time string such as \"2013-07-03T00:16:13.737+0000\"")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                TextVisitor.visit_borrowed_str(text).map(DateText)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                TextVisitor.visit_str(text).map(DateText)
            }
        }
        deserializer.deserialize_str(DateVisitor)
    }
}

/// A text field that is plain text on Server and v2 and an Atlassian Document Format tree on
/// Cloud v3 (description, environment, comment bodies).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RichText<'a> {
    /// Plain text (wiki markup on Server is kept as written).
    Plain(Text<'a>),
    /// An ADF document, converted to text by [`crate::jira::adf::to_text`].
    Document(serde_json::Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for RichText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RichTextVisitor)
    }
}

struct RichTextVisitor;

impl<'de> Visitor<'de> for RichTextVisitor {
    type Value = RichText<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text or an Atlassian document (ADF object)")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        TextVisitor.visit_borrowed_str(text).map(RichText::Plain)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        TextVisitor.visit_str(text).map(RichText::Plain)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let document = serde_json::Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(RichText::Document(document))
    }
}

/// A field read only when it is a string and ignored otherwise: custom field ids are
/// per instance, so `customfield_12310222` holds "Time in Status" on Apache's JIRA and
/// may hold anything elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LenientText<'a>(pub(crate) Option<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for LenientText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor)
    }
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = LenientText<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        TextVisitor.visit_borrowed_str(text).map(|text| LenientText(Some(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        TextVisitor.visit_str(text).map(|text| LenientText(Some(text)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LenientText(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(LenientText(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(LenientText(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LenientText(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LenientText(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LenientText(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LenientText(None))
    }
}

/// JIRA's numeric issue id, which the REST API sends as a string and some tools as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IssueId(pub(crate) u64);

impl<'de> Deserialize<'de> for IssueId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = IssueId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JIRA issue id (a whole number, or a string of digits)")
            }
            fn visit_u64<E: de::Error>(self, id: u64) -> Result<IssueId, E> {
                Ok(IssueId(id))
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<IssueId, E> {
                id.trim()
                    .parse()
                    .map(IssueId)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(id), &self))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// Any JSON object BugDash meets at the top of a file or as an array element: a search
/// page, an issue, a Perceval item wrapping an issue, or a JIRA error body. Which one it
/// is follows from the keys present; see `Shape` in the parent module.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA issue, search page or Perceval item (a JSON object)")]
pub(crate) struct RawObject<'a> {
    /// The issues of a search page (`/search`, `/search/jql`, agile board pages).
    #[serde(borrow)]
    pub(crate) issues: Option<Vec<RawObject<'a>>>,
    pub(crate) id: Option<IssueId>,
    #[serde(borrow)]
    pub(crate) key: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) fields: Option<Fields<'a>>,
    #[serde(borrow)]
    pub(crate) changelog: Option<Changelog<'a>>,
    /// Airbyte's copy of the project key next to `fields`.
    #[serde(borrow, rename = "projectKey")]
    pub(crate) project_key: Option<Text<'a>>,
    /// Airbyte's copies of the dates next to `fields`.
    #[serde(borrow)]
    pub(crate) created: Option<DateText<'a>>,
    #[serde(borrow)]
    pub(crate) updated: Option<DateText<'a>>,
    /// A Perceval item's issue.
    #[serde(borrow)]
    pub(crate) data: Option<Box<RawObject<'a>>>,
    /// Comments Perceval fetched separately and stored beside the issue.
    #[serde(borrow)]
    pub(crate) comments_data: Option<Vec<Comment<'a>>>,
    /// The messages of a JIRA error body (`{"errorMessages":[...],"errors":{...}}`).
    #[serde(rename = "errorMessages")]
    pub(crate) error_messages: Option<Vec<LenientText<'a>>>,
    pub(crate) errors: Option<std::collections::BTreeMap<String, LenientText<'a>>>,
}

/// The `fields` object of an issue: only the fields BugDash keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a JIRA `fields` object")]
pub(crate) struct Fields<'a> {
    #[serde(borrow)]
    pub(crate) project: Option<Project<'a>>,
    #[serde(borrow)]
    pub(crate) issuetype: Option<Named<'a>>,
    #[serde(borrow)]
    pub(crate) status: Option<Status<'a>>,
    #[serde(borrow)]
    pub(crate) priority: Option<Named<'a>>,
    #[serde(borrow)]
    pub(crate) resolution: Option<Named<'a>>,
    #[serde(borrow)]
    pub(crate) created: Option<DateText<'a>>,
    #[serde(borrow)]
    pub(crate) updated: Option<DateText<'a>>,
    #[serde(borrow)]
    pub(crate) resolutiondate: Option<DateText<'a>>,
    #[serde(borrow)]
    pub(crate) components: Option<Vec<Named<'a>>>,
    #[serde(borrow)]
    pub(crate) labels: Option<Vec<Text<'a>>>,
    #[serde(borrow, rename = "fixVersions")]
    pub(crate) fix_versions: Option<Vec<Named<'a>>>,
    /// Affects versions.
    #[serde(borrow)]
    pub(crate) versions: Option<Vec<Named<'a>>>,
    #[serde(borrow)]
    pub(crate) environment: Option<RichText<'a>>,
    #[serde(borrow)]
    pub(crate) assignee: Option<User<'a>>,
    #[serde(borrow)]
    pub(crate) reporter: Option<User<'a>>,
    #[serde(borrow)]
    pub(crate) summary: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) description: Option<RichText<'a>>,
    #[serde(borrow)]
    pub(crate) comment: Option<CommentPage<'a>>,
    /// Apache's "Time in Status" (`statusId_*:*_timesEntered_*:*_totalMillis`, joined by
    /// `_*|*_`).
    #[serde(borrow, rename = "customfield_12310222")]
    pub(crate) time_in_status: Option<LenientText<'a>>,
}

/// An object JIRA identifies by name: issue type, priority, resolution, component, version.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA object with a `name`")]
pub(crate) struct Named<'a> {
    #[serde(borrow)]
    pub(crate) name: Option<Text<'a>>,
}

/// The project an issue belongs to.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA project object with a `key`")]
pub(crate) struct Project<'a> {
    #[serde(borrow)]
    pub(crate) key: Option<Text<'a>>,
}

/// An issue's current status and its category.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA status object with a `name`")]
pub(crate) struct Status<'a> {
    #[serde(borrow)]
    pub(crate) name: Option<Text<'a>>,
    #[serde(borrow, rename = "statusCategory")]
    pub(crate) category: Option<StatusCategoryRef<'a>>,
}

/// The category a status belongs to; its `key` is `new`, `indeterminate` or `done`.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA status category object with a `key`")]
pub(crate) struct StatusCategoryRef<'a> {
    #[serde(borrow)]
    pub(crate) key: Option<Text<'a>>,
}

/// An assignee or reporter.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA user object")]
pub(crate) struct User<'a> {
    #[serde(borrow, rename = "displayName")]
    pub(crate) display_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) name: Option<Text<'a>>,
}

/// The comments embedded in an issue's fields.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA comment page object")]
pub(crate) struct CommentPage<'a> {
    #[serde(borrow)]
    pub(crate) comments: Option<Vec<Comment<'a>>>,
}

/// One comment.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA comment object")]
pub(crate) struct Comment<'a> {
    #[serde(borrow)]
    pub(crate) body: Option<RichText<'a>>,
}

/// An issue's changelog (`expand=changelog`): possibly only the first page of it.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA changelog object")]
pub(crate) struct Changelog<'a> {
    /// How many history entries JIRA holds for the issue.
    pub(crate) total: Option<u64>,
    #[serde(borrow)]
    pub(crate) histories: Option<Vec<History<'a>>>,
}

/// One changelog entry: the changes one person made at one moment.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA changelog history object")]
pub(crate) struct History<'a> {
    #[serde(borrow)]
    pub(crate) created: Option<DateText<'a>>,
    #[serde(borrow)]
    pub(crate) items: Option<Vec<HistoryItem<'a>>>,
}

/// One changed field within a changelog entry.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a JIRA changelog item object")]
pub(crate) struct HistoryItem<'a> {
    #[serde(borrow)]
    pub(crate) field: Option<Text<'a>>,
    /// `jira` for system fields, `custom` for custom fields (one may be named "status").
    #[serde(borrow)]
    pub(crate) fieldtype: Option<Text<'a>>,
    #[serde(borrow, rename = "fromString")]
    pub(crate) from_string: Option<Text<'a>>,
    #[serde(borrow, rename = "toString")]
    pub(crate) to_string: Option<Text<'a>>,
}

/// A whole JSON document as a whole-document parse sees it, for wording faults of
/// documents the record-by-record reader cannot take apart: the records are checked and
/// dropped.
#[derive(Debug)]
pub(crate) enum Document {
    /// The text `null`, as tools write when a request returned nothing.
    Null,
    /// A JSON array of issues, Perceval items or pages.
    Array,
    /// A single object: a page, an issue, a Perceval item or an error body.
    Object,
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JIRA data: a search page or issue (JSON object) or an array of issues")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Document::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<RawObject<'de>>()?.is_some() {}
        Ok(Document::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        RawObject::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Document::Object)
    }
}
