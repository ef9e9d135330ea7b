//! What a synced store must hold: the issues the fake serves, read by BugDash's own JSON
//! reader straight from the fake's documents (no client, no store), and the assertions
//! that compare a store with them.

use std::collections::BTreeSet;

use bugdash::jira::json::read_json;
use bugdash::model::Issue;
use bugdash::store::Store;
use bugdash_tests::fake_jira::{Dataset, FakeJira, Flavor};
use serde_json::{json, Value};

/// The Apache dataset with "Time in Status" in its field list.
///
/// The recorded Apache field list (`apache_fields.json`) lacks the charting plugin's
/// "Time in Status" field (`customfield_12310222`) although every served ZooKeeper issue
/// carries it; without the entry the client never asks for the field and every synced
/// issue loses its reopen count. The entry added here is constructed, in the shape
/// JIRA gives plugin fields, so that a sync can carry the whole issue.
pub fn apache_dataset(flavor: Flavor) -> Dataset {
    let mut dataset = Dataset::apache(flavor);
    if let Some(fields) = dataset.fields.as_array_mut() {
        fields.push(json!({
            "id": "customfield_12310222",
            "name": "Time in Status",
            "custom": true,
            "navigable": true,
            "searchable": true,
            "clauseNames": ["cf[12310222]", "Time in Status"],
            "schema": {
                "type": "any",
                "custom": "com.atlassian.jira.ext.charting:timeinstatus",
                "customId": 12310222
            }
        }));
    }
    dataset
}

/// The issues of `project` the fake currently serves, read by the core reader, by id.
pub fn source_issues(fake: &FakeJira, project: &str) -> Vec<Issue> {
    let documents: Vec<Value> = fake
        .issues()
        .into_iter()
        .filter(|issue| issue["fields"]["project"]["key"].as_str() == Some(project))
        .collect();
    let bytes = serde_json::to_vec(&documents).expect("issue documents serialise");
    let mut issues = read_json("fake JIRA", &bytes).expect("the fake's issues read");
    issues.sort_by_key(|issue| issue.id);
    issues
}

/// Asserts the store holds exactly the fake's issues of `project`: the same ids, each
/// once, with the same value in every field.
pub async fn assert_store_matches_source(store: &dyn Store, fake: &FakeJira, project: &str) {
    let expected = source_issues(fake, project);
    let stored = store.issues(&[project.to_owned()]).await.expect("read the store");

    let stored_ids: Vec<Option<u64>> = stored.iter().map(|issue| issue.id).collect();
    let distinct: BTreeSet<Option<u64>> = stored_ids.iter().copied().collect();
    assert_eq!(distinct.len(), stored_ids.len(), "the store holds an id twice");
    let expected_ids: BTreeSet<Option<u64>> = expected.iter().map(|issue| issue.id).collect();
    let missing: Vec<_> = expected_ids.difference(&distinct).take(5).collect();
    let extra: Vec<_> = distinct.difference(&expected_ids).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, extra {extra:?}");

    for (got, want) in stored.iter().zip(&expected) {
        assert_eq!(got, want, "issue {} differs from the source", want.key);
    }
}

/// Ids of the issues of `project` in the store (not counting removed ones), sorted.
pub async fn stored_ids(store: &dyn Store, project: &str) -> Vec<i64> {
    let mut ids = store.issue_ids(project).await.expect("read the stored ids");
    ids.sort_unstable();
    ids
}
