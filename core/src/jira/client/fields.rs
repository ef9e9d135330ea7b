//! Which JIRA fields hold what BugDash reads, discovered from `/rest/api/2/field`.
//!
//! Custom field ids differ from instance to instance (Apache's "Time in Status" is not
//! JFrog's), so they are looked up by name and schema rather than written into the code.
//! Data Center leaves `key` out of the entries; `id` is what every version sends.

use serde::Deserialize;

/// The custom field id the issue reader takes "Time in Status" from (Apache's).
pub(crate) const READER_TIME_IN_STATUS: &str = "customfield_12310222";

/// The fields every search asks for, beyond those discovered per instance.
pub const SEARCH_FIELDS: &[&str] = &[
    "summary",
    "status",
    "issuetype",
    "priority",
    "resolution",
    "created",
    "updated",
    "resolutiondate",
    "components",
    "labels",
    "fixVersions",
    "versions",
    "environment",
    "assignee",
    "reporter",
    "project",
    "description",
    "comment",
];

/// One entry of the instance's field list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field id used in requests and responses (`environment`, `customfield_10108`).
    pub id: String,
    /// The display name (`Environment`, `FI-WARE Environment`).
    pub name: String,
    /// True for custom fields.
    pub custom: bool,
    /// The schema type (`string`, `option`, `array`, `any` …), when JIRA gives one.
    pub schema_type: Option<String>,
    /// The custom field type, such as
    /// `com.atlassian.jira.plugin.system.customfieldtypes:textarea`.
    pub schema_custom: Option<String>,
    /// For system fields, the system name (`environment`).
    pub schema_system: Option<String>,
}

impl FieldInfo {
    /// True when the field holds free text (a text field or a text area).
    pub fn holds_text(&self) -> bool {
        let plain_type = self.schema_type.as_deref() == Some("string");
        let kind = self.schema_custom.as_deref().unwrap_or_default();
        let picked_from_list = kind.ends_with(":select")
            || kind.ends_with(":multiselect")
            || kind.ends_with(":radiobuttons");
        plain_type && !picked_from_list
    }
}

/// The instance's fields and the ones BugDash reads from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldCatalog {
    /// Every field the instance lists.
    pub fields: Vec<FieldInfo>,
    /// The id of the field holding the environment text, when there is one.
    pub environment: Option<String>,
    /// The id of the "Time in Status" custom field, when there is one.
    pub time_in_status: Option<String>,
}

#[derive(Deserialize)]
struct RawField {
    id: String,
    name: Option<String>,
    #[serde(default)]
    custom: bool,
    schema: Option<RawSchema>,
}

#[derive(Deserialize)]
struct RawSchema {
    #[serde(rename = "type")]
    kind: Option<String>,
    custom: Option<String>,
    system: Option<String>,
}

/// Fields named in the settings instead of the ones discovery would pick, each by id or
/// display name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldOverrides<'a> {
    /// The field to read the environment text from (`JIRA_ENVIRONMENT_FIELD`).
    pub environment: Option<&'a str>,
    /// The "Time in Status" field (`JIRA_TIME_IN_STATUS_FIELD`). A custom field id
    /// (`customfield_12310222`) is used even when the field list leaves it out, as
    /// Apache's list leaves out its charting plugin's field.
    pub time_in_status: Option<&'a str>,
}

impl FieldCatalog {
    /// Reads a `/rest/api/2/field` response and picks the fields BugDash reads, with
    /// `overrides` taking the place of discovery where set.
    pub fn from_json(bytes: &[u8], overrides: FieldOverrides<'_>) -> Result<Self, String> {
        Self::resolve(parse_field_list(bytes)?, overrides)
    }

    /// Picks the fields BugDash reads from a field list; fails only when an override
    /// names no field of the list (and, for "Time in Status", is not a custom field id).
    pub fn resolve(fields: Vec<FieldInfo>, overrides: FieldOverrides<'_>) -> Result<Self, String> {
        let environment = match overrides.environment {
            Some(wanted) => Some(find_named(&fields, wanted)?.id.clone()),
            None => discover_environment(&fields).map(|field| field.id.clone()),
        };
        let time_in_status = match overrides.time_in_status {
            Some(wanted) => Some(configured_time_in_status(&fields, wanted)?),
            None => discover_time_in_status(&fields).map(|field| field.id.clone()),
        };
        Ok(FieldCatalog { fields, environment, time_in_status })
    }

    /// The field with this id, or else this display name (case-insensitive).
    pub fn find(&self, id_or_name: &str) -> Option<&FieldInfo> {
        find_named(&self.fields, id_or_name).ok()
    }

    /// The fields a search names: the fixed list plus the discovered ones.
    pub fn search_fields(&self) -> Vec<String> {
        let mut names: Vec<String> = SEARCH_FIELDS.iter().map(|&name| name.to_owned()).collect();
        for id in [&self.environment, &self.time_in_status].into_iter().flatten() {
            if !names.contains(id) {
                names.push(id.clone());
            }
        }
        names
    }

    /// Field ids whose values the reader expects under another id: (instance's id,
    /// reader's id). Empty on instances that use the reader's ids.
    pub(crate) fn aliases(&self) -> Vec<(String, &'static str)> {
        let mut aliases = Vec::new();
        if let Some(id) = self.environment.as_ref().filter(|id| id.as_str() != "environment") {
            aliases.push((id.clone(), "environment"));
        }
        if let Some(id) = self.time_in_status.as_ref().filter(|id| *id != READER_TIME_IN_STATUS) {
            aliases.push((id.clone(), READER_TIME_IN_STATUS));
        }
        aliases
    }
}

impl From<RawField> for FieldInfo {
    fn from(raw: RawField) -> Self {
        let schema = raw.schema.unwrap_or(RawSchema { kind: None, custom: None, system: None });
        FieldInfo {
            name: raw.name.unwrap_or_else(|| raw.id.clone()),
            id: raw.id,
            custom: raw.custom,
            schema_type: schema.kind,
            schema_custom: schema.custom,
            schema_system: schema.system,
        }
    }
}

/// Reads the entries of a `/rest/api/2/field` response.
pub(crate) fn parse_field_list(bytes: &[u8]) -> Result<Vec<FieldInfo>, String> {
    let raw: Vec<RawField> = serde_json::from_slice(bytes)
        .map_err(|fault| format!("expected a JSON array of field objects ({fault})"))?;
    Ok(raw.into_iter().map(FieldInfo::from).collect())
}

fn find_named<'a>(fields: &'a [FieldInfo], wanted: &str) -> Result<&'a FieldInfo, String> {
    let wanted = wanted.trim();
    let by_id = fields.iter().find(|field| field.id == wanted);
    let by_name = || fields.iter().find(|field| field.name.trim().eq_ignore_ascii_case(wanted));
    by_id.or_else(by_name).ok_or_else(|| {
        let similar: Vec<String> = fields
            .iter()
            .filter(|field| field.name.to_lowercase().contains(&wanted.to_lowercase()))
            .map(|field| format!("{} ({})", field.name, field.id))
            .collect();
        let hint = if similar.is_empty() { "none".to_owned() } else { similar.join(", ") };
        format!("JIRA has no field with id or name {wanted:?}; fields named like it: {hint}")
    })
}

/// The system Environment field, else a custom text field named Environment, else a
/// custom text field whose name mentions the environment.
///
/// The system field comes first because every instance has it and JIRA's own screens
/// fill it; a list-valued custom "Environment" (a select) holds a choice, not text.
fn discover_environment(fields: &[FieldInfo]) -> Option<&FieldInfo> {
    let system = fields.iter().find(|field| {
        field.schema_system.as_deref() == Some("environment") || field.id == "environment"
    });
    let named = |exact: bool| {
        fields.iter().find(move |field| {
            let name = field.name.trim().to_lowercase();
            let matches = if exact { name == "environment" } else { name.contains("environment") };
            field.custom && matches && field.holds_text()
        })
    };
    system.or_else(|| named(true)).or_else(|| named(false))
}

/// The configured "Time in Status" field: one of the list by id or name, else a custom
/// field id taken on trust, because some instances' field lists leave plugin fields out
/// while their searches still return them.
fn configured_time_in_status(fields: &[FieldInfo], wanted: &str) -> Result<String, String> {
    match find_named(fields, wanted) {
        Ok(field) => Ok(field.id.clone()),
        Err(_) if is_custom_field_id(wanted.trim()) => Ok(wanted.trim().to_owned()),
        Err(message) => Err(format!(
            "JIRA_TIME_IN_STATUS_FIELD: {message}; give the field's id, such as \
             customfield_12310222"
        )),
    }
}

fn is_custom_field_id(text: &str) -> bool {
    text.strip_prefix("customfield_")
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The charting plugin's "Time in Status" field, preferring the one named exactly so.
fn discover_time_in_status(fields: &[FieldInfo]) -> Option<&FieldInfo> {
    let of_kind = |field: &&FieldInfo| {
        field.schema_custom.as_deref().is_some_and(|kind| kind.ends_with(":timeinstatus"))
    };
    let exact = fields.iter().filter(of_kind).find(|field| field.name.trim() == "Time in Status");
    exact.or_else(|| fields.iter().find(of_kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &str = r#"[
      {"id":"customfield_13408","name":"Environment","custom":true,
       "schema":{"type":"array","items":"option",
                 "custom":"com.atlassian.jira.plugin.system.customfieldtypes:multiselect"}},
      {"id":"customfield_19475","name":"Provide the details of your environment","custom":true,
       "schema":{"type":"string",
                 "custom":"com.atlassian.jira.plugin.system.customfieldtypes:textarea"}},
      {"id":"customfield_10032","name":"[CHART] Time in Status","custom":true,
       "schema":{"type":"any","custom":"com.atlassian.jira.ext.charting:timeinstatus"}},
      {"id":"customfield_19362","name":"Time in Status","custom":true,
       "schema":{"type":"any","custom":"com.atlassian.jira.ext.charting:timeinstatus"}}
    ]"#;

    #[test]
    fn environment_falls_back_to_a_custom_text_field_not_a_select() {
        let catalog =
            FieldCatalog::from_json(FIELDS.as_bytes(), FieldOverrides::default()).unwrap();
        assert_eq!(catalog.environment.as_deref(), Some("customfield_19475"));
        assert_eq!(catalog.time_in_status.as_deref(), Some("customfield_19362"));
    }

    #[test]
    fn environment_override_is_found_by_name_or_refused_with_hints() {
        let env = |name| FieldOverrides { environment: Some(name), ..FieldOverrides::default() };
        let named = FieldCatalog::from_json(FIELDS.as_bytes(), env("environment")).unwrap();
        assert_eq!(named.environment.as_deref(), Some("customfield_13408"));
        let fault = FieldCatalog::from_json(FIELDS.as_bytes(), env("Env")).unwrap_err();
        assert!(fault.contains("Environment (customfield_13408)"), "{fault}");
    }

    #[test]
    fn a_configured_time_in_status_field_is_used_even_when_the_list_lacks_it() {
        let tis = |name| FieldOverrides { time_in_status: Some(name), ..FieldOverrides::default() };
        let by_name = FieldCatalog::from_json(FIELDS.as_bytes(), tis("[chart] time in status"));
        assert_eq!(by_name.unwrap().time_in_status.as_deref(), Some("customfield_10032"));
        let unlisted = FieldCatalog::from_json(FIELDS.as_bytes(), tis(" customfield_12310222 "));
        let unlisted = unlisted.unwrap();
        assert_eq!(unlisted.time_in_status.as_deref(), Some("customfield_12310222"));
        assert!(unlisted.search_fields().contains(&"customfield_12310222".to_owned()));
        let fault = FieldCatalog::from_json(FIELDS.as_bytes(), tis("Time in Limbo")).unwrap_err();
        assert!(fault.starts_with("JIRA_TIME_IN_STATUS_FIELD: "), "{fault}");
        assert!(fault.contains("customfield_12310222"), "{fault}");
    }
}
