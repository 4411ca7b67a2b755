//! Every file the S3 storage type writes — workload addon, environment
//! addon, a workload's access policy to the environment bucket — snapshotted
//! and passed through cfn-lint (zero errors); bad answers diagnosed at their
//! flag.

use ferry_plugin_sdk::storage::{Lifecycle, StoragePart, StorageTarget};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Value, json};
use ferry_plugin_storage_s3::S3Storage;
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
    json!({"name": "my-bucket", "storage-type": "S3", "lifecycle": lifecycle, "workload": "api"})
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
        let rendered = S3Storage::render(&answers(lifecycle.as_str()), &context(part, lifecycle)).unwrap();
        insta::assert_json_snapshot!(name, storage_snapshot(name, &rendered));
        templates.push((name.to_string(), rendered.template.to_json()));
    }
    assert!(templates[0].1.pointer("/Outputs/mybucketName").is_some(), "the env var output Copilot injects");
    lint_all(&templates);
}

#[test]
fn a_bad_bucket_name_and_a_foreign_flag_are_diagnosed_at_their_flags() {
    let mut bad = answers("workload");
    bad["name"] = "My_Bucket".into();
    let ctx = context(StoragePart::Addon, Lifecycle::Workload);
    match S3Storage::render(&bad, &ctx) {
        Err(RenderError::Invalid(d)) => {
            assert_eq!(d[0].path, "/name");
            assert!(d[0].hint.as_deref().unwrap().contains("lowercase"));
        }
        other => panic!("expected a diagnostic, got {other:?}"),
    }
    let mut foreign = answers("workload");
    foreign["partition-key"] = "id:S".into();
    match S3Storage::render(&foreign, &ctx) {
        Err(RenderError::Invalid(d)) => assert_eq!(d[0].path, "/partition-key"),
        other => panic!("expected a diagnostic, got {other:?}"),
    }
}
