//! Every file the DynamoDB storage type writes, snapshotted and passed
//! through cfn-lint (zero errors); contradictory or malformed key answers
//! diagnosed at their flag.

use ferry_plugin_sdk::storage::{Lifecycle, StoragePart, StorageTarget};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Value, json};
use ferry_plugin_storage_dynamodb::DynamoDbStorage;
use ferry_test_support::plugin::{lint_all, storage_snapshot};

fn context(part: StoragePart, lifecycle: Lifecycle) -> RenderContext {
    RenderContext {
        app: "demo".into(),
        name: "api".into(),
        storage: Some(StorageTarget { part, lifecycle, workload: Some("api".into()), ..Default::default() }),
        ..Default::default()
    }
}

fn answers(lifecycle: &str) -> Value {
    json!({"name": "orders", "storage-type": "DynamoDB", "lifecycle": lifecycle, "workload": "api",
        "partition-key": "id:S", "sort-key": "created:N", "lsi": ["status:S", "total:number"]})
}

#[test]
fn every_part_renders_lints_and_matches_its_snapshot() {
    let cases = [
        ("workload", StoragePart::Addon, Lifecycle::Workload),
        ("environment", StoragePart::Addon, Lifecycle::Environment),
        ("access-policy", StoragePart::AccessPolicy, Lifecycle::Environment),
    ];
    let mut templates = Vec::new();
    for (name, part, lifecycle) in cases {
        let rendered = DynamoDbStorage::render(&answers(lifecycle.as_str()), &context(part, lifecycle)).unwrap();
        insta::assert_json_snapshot!(name, storage_snapshot(name, &rendered));
        templates.push((name.to_string(), rendered.template.to_json()));
    }
    let table = &templates[0].1["Resources"]["orders"]["Properties"];
    assert_eq!(table["AttributeDefinitions"].as_array().unwrap().len(), 4, "id, created, status, total");
    assert_eq!(table["LocalSecondaryIndexes"][1]["KeySchema"][1]["AttributeName"], "total");
    // A partition key alone: no sort key, no index.
    let minimal = json!({"name": "orders", "storage-type": "DynamoDB", "lifecycle": "workload", "partition-key": "id:S", "no-sort": true, "no-lsi": true});
    let rendered = DynamoDbStorage::render(&minimal, &context(StoragePart::Addon, Lifecycle::Workload)).unwrap();
    let template = rendered.template.to_json();
    assert_eq!(template["Resources"]["orders"]["Properties"]["KeySchema"].as_array().unwrap().len(), 1);
    assert!(template["Resources"]["orders"]["Properties"].get("LocalSecondaryIndexes").is_none());
    templates.push(("minimal".into(), template));
    lint_all(&templates);
}

fn diagnosed(answers: Value) -> Vec<(String, String)> {
    match DynamoDbStorage::render(&answers, &context(StoragePart::Addon, Lifecycle::Workload)) {
        Err(RenderError::Invalid(d)) => d.into_iter().map(|d| (d.path, d.hint.unwrap_or_default())).collect(),
        other => panic!("expected diagnostics, got {other:?}"),
    }
}

#[test]
fn bad_key_answers_are_diagnosed_at_their_flags() {
    let base = json!({"name": "orders", "storage-type": "DynamoDB", "lifecycle": "workload"});
    let d = diagnosed(base.clone());
    assert_eq!(d[0].0, "/partition-key");
    assert!(d[0].1.contains("--partition-key id:S"), "{}", d[0].1);
    let mut bad = base.clone();
    bad["partition-key"] = "id:X".into();
    assert_eq!(diagnosed(bad)[0].0, "/partition-key");
    let mut contradict = base.clone();
    contradict["partition-key"] = "id:S".into();
    contradict["sort-key"] = "at:N".into();
    contradict["no-sort"] = true.into();
    assert_eq!(diagnosed(contradict)[0].0, "/no-sort");
    let mut lsi_without_sort = base;
    lsi_without_sort["partition-key"] = "id:S".into();
    lsi_without_sort["lsi"] = json!(["a:S", "b:S", "c:S", "d:S", "e:S", "f:S"]);
    let d = diagnosed(lsi_without_sort);
    assert!(d.iter().all(|(path, _)| path == "/lsi") && d.len() == 2, "{d:?}");
}
