//! The project page's filter form: one field per analysis option, named as the option, so
//! that submitting it (GET) makes the page's address the analysis itself.
//!
//! Common options stand in the open; the rest sit under "More options", which opens by
//! itself when one of them is set. Choices offer the data's own values (priorities,
//! components) as suggestions, while any value may still be typed.

use bugdash::analysis::{AreaField, Report};

use super::format;

/// One choice of a select.
#[derive(Debug, Clone)]
pub struct Choice {
    /// What is sent.
    pub value: String,
    /// What is shown.
    pub label: String,
    /// Whether it is the current one.
    pub selected: bool,
}

/// A select field.
#[derive(Debug, Clone)]
pub struct SelectField {
    /// The option name.
    pub name: &'static str,
    /// What it is called on the page.
    pub label: &'static str,
    /// The choices, the default first (sent as blank, so left out of the address).
    pub choices: Vec<Choice>,
}

/// A typed field.
#[derive(Debug, Clone)]
pub struct TextField {
    /// The option name.
    pub name: &'static str,
    /// What it is called on the page.
    pub label: &'static str,
    /// The current value; several values joined by commas.
    pub value: String,
    /// `text`, `date` or `number`.
    pub input_type: &'static str,
    /// An example shown while empty, worded as one (`e.g. server`) so that it is not
    /// taken for a value already applied.
    pub placeholder: &'static str,
    /// The id of the suggestions, if any.
    pub list: Option<&'static str>,
}

/// Suggested values.
#[derive(Debug, Clone)]
pub struct DataList {
    /// Its id.
    pub id: &'static str,
    /// The values.
    pub values: Vec<String>,
}

/// The whole form.
#[derive(Debug, Clone)]
pub struct FilterForm {
    /// Where it is sent.
    pub action: String,
    /// The selects.
    pub selects: Vec<SelectField>,
    /// The typed fields in the open.
    pub main: Vec<TextField>,
    /// The typed fields under "More options".
    pub more: Vec<TextField>,
    /// Whether "More options" starts open.
    pub more_open: bool,
    /// Suggestions.
    pub lists: Vec<DataList>,
}

/// Suggestions offered at most.
const SUGGESTIONS: usize = 150;

impl FilterForm {
    /// The form of the analysis of `key` asked with `pairs`, which made `report`.
    pub fn new(key: &str, pairs: &[(String, String)], report: &Report) -> FilterForm {
        let given = |name: &str| given(pairs, name);
        let selects = vec![
            select(
                "window",
                "Window",
                &given("window"),
                &[
                    ("", "Last 90 days"),
                    ("30", "Last 30 days"),
                    ("180", "Last 180 days"),
                    ("365", "Last year"),
                    ("730", "Last 2 years"),
                    ("all", "All history"),
                ],
            ),
            select("period", "Trend per", &given("period"), &[("", "Week"), ("month", "Month")]),
            select(
                "area",
                "Areas by",
                &given("area"),
                &[
                    ("", "Component"),
                    ("label", "Label"),
                    ("fix-version", "Fix version"),
                    ("affects-version", "Affects version"),
                    ("assignee", "Assignee"),
                    ("project", "Project"),
                ],
            ),
            select(
                "status_category",
                "Status",
                &given("status_category"),
                &[
                    ("", "Any status"),
                    ("new,indeterminate", "Open (to do or in progress)"),
                    ("new", "To do"),
                    ("indeterminate", "In progress"),
                    ("done", "Done"),
                ],
            ),
        ];
        let text = |name, label, placeholder, list| TextField {
            value: given(name),
            input_type: "text",
            name,
            label,
            placeholder,
            list,
        };
        let date = |name, label| TextField {
            input_type: date_type(&given(name)),
            ..text(name, label, "e.g. 2024-01-31", None)
        };
        let number = |name, label, placeholder| TextField {
            input_type: "number",
            ..text(name, label, placeholder, None)
        };
        let main = vec![
            text("priority", "Priority", "e.g. Blocker, Critical", Some("priorities")),
            text("component", "Component", "e.g. server", Some("components")),
            text("label", "Label", "", None),
            text("assignee", "Assignee", "", None),
        ];
        let more = vec![
            date("since", "Created from"),
            date("until", "Created before"),
            date("resolved_since", "Resolved from"),
            date("as_of", "As of"),
            number("horizon", "Forecast days", "default 30"),
            number("half_life", "Half-life (days)", "default 30"),
            text("type", "Issue type", "e.g. Bug", None),
            text("bug_type", "Also count as bugs", "e.g. Incident", None),
            text("status", "Status name", "e.g. Open", None),
            text("fix_version", "Fix version", "", None),
            text("affects_version", "Affects version", "", None),
            text("environment", "Environment contains", "e.g. Production", None),
            text("resolution", "Resolution", "e.g. Fixed", None),
            text("exclude_resolution", "Leave out resolution", "e.g. Duplicate, Won't Fix", None),
        ];
        let more_open = more.iter().any(|field| !field.value.is_empty());
        FilterForm {
            action: format!("/projects/{}", format::encode(key)),
            selects,
            main,
            more,
            more_open,
            lists: suggestions(report),
        }
    }

    /// Every option name the form sends.
    #[cfg(test)]
    pub fn names(&self) -> Vec<&'static str> {
        let selects = self.selects.iter().map(|field| field.name);
        selects.chain(self.main.iter().chain(&self.more).map(|field| field.name)).collect()
    }
}

/// The values given for `name` (`-` may stand for `_`), joined by commas.
fn given(pairs: &[(String, String)], name: &str) -> String {
    let values: Vec<&str> = pairs
        .iter()
        .filter(|(n, _)| n.replace('-', "_") == name)
        .map(|(_, value)| value.trim())
        .collect();
    values.join(", ")
}

fn select(
    name: &'static str,
    label: &'static str,
    current: &str,
    options: &[(&str, &str)],
) -> SelectField {
    let mut choices: Vec<Choice> = options
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: same_choice(value, current),
        })
        .collect();
    if !current.is_empty() && !choices.iter().any(|choice| choice.selected) {
        // A value typed into the address: shown as it is, so the form keeps it.
        choices.push(Choice {
            value: current.to_owned(),
            label: current.to_owned(),
            selected: true,
        });
    }
    if !choices.iter().any(|choice| choice.selected) {
        if let Some(first) = choices.first_mut() {
            first.selected = true;
        }
    }
    SelectField { name, label, choices }
}

fn same_choice(value: &str, current: &str) -> bool {
    let normal = |text: &str| text.to_lowercase().replace(['_', ' '], "-").replace(",-", ",");
    !current.is_empty() && normal(value) == normal(current)
}

/// A date picker for an empty field or a plain date, else free text (an instant with a
/// time would not show in a date picker).
fn date_type(value: &str) -> &'static str {
    let plain = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    if value.is_empty() || plain {
        "date"
    } else {
        "text"
    }
}

fn suggestions(report: &Report) -> Vec<DataList> {
    let priorities = report
        .summary
        .by_priority
        .iter()
        .map(|p| p.priority.clone())
        .filter(|p| p != "Unknown")
        .take(SUGGESTIONS)
        .collect();
    let components = if report.parameters.area == AreaField::Component {
        let names = report.areas.iter().map(|a| a.name.clone()).filter(|a| a != "none");
        names.take(SUGGESTIONS).collect()
    } else {
        Vec::new()
    };
    vec![
        DataList { id: "priorities", values: priorities },
        DataList { id: "components", values: components },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bugdash::service::options::OPTION_NAMES;

    fn report() -> Report {
        let issue = bugdash::model::Issue {
            key: "DEMO-1".into(),
            project: "DEMO".into(),
            issue_type: "Bug".into(),
            status: "Open".into(),
            created: Some(bugdash::model::Timestamp::from_millis(1_700_000_000_000)),
            ..bugdash::model::Issue::default()
        };
        let params = bugdash::analysis::Params::default();
        bugdash::analysis::analyze(&[issue], &params).expect("analysis")
    }

    #[test]
    fn the_form_has_a_field_for_every_analysis_option() {
        let form = FilterForm::new("DEMO", &[], &report());

        let mut names = form.names();
        names.sort_unstable();
        let mut options = OPTION_NAMES.to_vec();
        options.sort_unstable();

        assert_eq!(names, options);
    }

    #[test]
    fn given_values_are_selected_or_kept() {
        let pairs = vec![
            ("window".to_owned(), "all".to_owned()),
            ("area".to_owned(), "fix_version".to_owned()),
            ("horizon".to_owned(), "45".to_owned()),
            ("priority".to_owned(), "Major".to_owned()),
            ("priority".to_owned(), "Critical".to_owned()),
        ];

        let form = FilterForm::new("DEMO", &pairs, &report());

        let chosen = |name: &str| {
            let field = form.selects.iter().find(|f| f.name == name).unwrap();
            field.choices.iter().find(|c| c.selected).unwrap().value.clone()
        };
        assert_eq!(chosen("window"), "all");
        assert_eq!(chosen("area"), "fix-version");
        assert_eq!(chosen("period"), "");
        assert_eq!(form.main[0].value, "Major, Critical");
        assert!(form.more_open, "horizon is under More options");
    }
}
