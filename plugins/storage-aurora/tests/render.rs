//! Every file the Aurora storage type writes, for both engines, snapshotted
//! and passed through cfn-lint (zero errors); bad answers diagnosed at their
//! flag.

use ferry_plugin_sdk::storage::{Lifecycle, StoragePart, StorageTarget};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Value, json};
use ferry_plugin_storage_aurora::AuroraStorage;
use ferry_test_support::plugin::{lint_all, storage_snapshot};

fn context(part: StoragePart, lifecycle: Lifecycle) -> RenderContext {
    RenderContext {
        app: "demo".into(),
        name: "api".into(),
        storage: Some(StorageTarget {
            part,
            lifecycle,
            workload: Some("api".into()),
            environments: vec!["test".into(), "prod".into()],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn answers(lifecycle: &str, engine: &str) -> Value {
    json!({"name": "orders-db", "storage-type": "Aurora", "lifecycle": lifecycle, "workload": "api", "engine": engine})
}

#[test]
fn every_part_renders_lints_and_matches_its_snapshot() {
    let cases = [
        ("workload-postgresql", Lifecycle::Workload, "PostgreSQL"),
        ("workload-mysql", Lifecycle::Workload, "MySQL"),
        ("environment-postgresql", Lifecycle::Environment, "PostgreSQL"),
    ];
    let mut templates = Vec::new();
    for (name, lifecycle, engine) in cases {
        let rendered =
            AuroraStorage::render(&answers(lifecycle.as_str(), engine), &context(StoragePart::Addon, lifecycle))
                .unwrap();
        insta::assert_json_snapshot!(name, storage_snapshot(name, &rendered));
        templates.push((name.to_string(), rendered.template.to_json()));
    }
    assert_eq!(templates[1].1["Resources"]["ordersdbDBCluster"]["Properties"]["Port"], 3306);
    assert!(templates[2].1.pointer("/Mappings/ordersdbEnvScalingConfigurationMap/prod").is_some());
    // An existing parameter group: none created, the cluster names it.
    let mut existing = answers("workload", "MySQL");
    existing["parameter-group"] = "my-group".into();
    existing["initial-db"] = "main".into();
    let template =
        AuroraStorage::render(&existing, &context(StoragePart::Addon, Lifecycle::Workload)).unwrap().template.to_json();
    assert!(template["Resources"].get("ordersdbDBClusterParameterGroup").is_none());
    assert_eq!(template["Resources"]["ordersdbDBCluster"]["Properties"]["DBClusterParameterGroupName"], "my-group");
    assert_eq!(template["Parameters"]["ordersdbDBName"]["Default"], "main");
    templates.push(("parameter-group".into(), template));
    lint_all(&templates);
    // Environment clusters are attached in the workload's manifest: no access file.
    let access = AuroraStorage::render(
        &answers("environment", "MySQL"),
        &context(StoragePart::AccessPolicy, Lifecycle::Environment),
    )
    .unwrap();
    assert!(access.template.resources.is_empty());
}

#[test]
fn bad_answers_are_diagnosed_at_their_flags() {
    let mut bad = answers("workload", "Oracle");
    bad["initial-db"] = "1st".into();
    match AuroraStorage::render(&bad, &context(StoragePart::Addon, Lifecycle::Workload)) {
        Err(RenderError::Invalid(d)) => {
            let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
            assert_eq!(paths, ["/engine", "/initial-db"]);
            assert!(d[0].hint.as_deref().unwrap().contains("--engine MySQL"));
        }
        other => panic!("expected diagnostics, got {other:?}"),
    }
}

#[test]
fn a_request_driven_web_service_is_refused_at_the_workload_flag() {
    let mut ctx = context(StoragePart::Addon, Lifecycle::Workload);
    ctx.storage.as_mut().unwrap().workload_type = Some("Request-Driven Web Service".into());
    match AuroraStorage::render(&answers("workload", "MySQL"), &ctx) {
        Err(RenderError::Invalid(d)) => assert_eq!(d[0].path, "/workload"),
        other => panic!("expected a diagnostic, got {other:?}"),
    }
}
