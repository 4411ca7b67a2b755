//! `ferry storage init` through the binary: every bundled storage type as a
//! workload and as an environment addon, written where Copilot writes it and
//! cfn-lint clean as written (YAML); bad flags refused with what, where
//! (the flag), why and a hint; and the storage types offered include every
//! installed storage plugin's.

use crate::common;

use common::ferry;
use std::path::Path;

/// A workspace with a `test` environment and an `api` Backend Service.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in [
        ("copilot/.workspace", "application: sto\n"),
        ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
        (
            "copilot/api/manifest.yml",
            "name: api\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\n",
        ),
    ] {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

fn init(root: &Path, args: &[&str]) -> std::process::Output {
    ferry(root).env("CI", "true").args(["storage", "init"]).args(args).output().unwrap()
}

fn ok(root: &Path, args: &[&str]) -> String {
    let output = init(root, args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "storage init {args:?} failed:\n{stderr}");
    stderr
}

fn refused(root: &Path, args: &[&str]) -> String {
    let output = init(root, args);
    assert_eq!(output.status.code(), Some(1), "storage init {args:?} must be refused");
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn every_type_and_lifecycle_writes_copilots_layout_and_lints_clean() {
    let ws = workspace();
    let root = ws.path();
    ok(root, &["-n", "my-bucket", "-t", "S3", "-w", "api", "-l", "workload"]);
    ok(
        root,
        &[
            "-t",
            "DynamoDB",
            "-n",
            "my-table",
            "-w",
            "api",
            "-l",
            "workload",
            "--partition-key",
            "Email:S",
            "--sort-key",
            "UserId:N",
            "--lsi",
            "Points:N",
        ],
    );
    ok(
        root,
        &[
            "-n",
            "my-cluster",
            "-t",
            "Aurora",
            "-w",
            "api",
            "-l",
            "workload",
            "--engine",
            "MySQL",
            "--initial-db",
            "testdb",
        ],
    );
    ok(root, &["-n", "env-bucket", "-t", "S3", "-w", "api", "-l", "environment"]);
    ok(
        root,
        &[
            "-n",
            "env-table",
            "-t",
            "DynamoDB",
            "-w",
            "api",
            "-l",
            "environment",
            "--partition-key",
            "id:S",
            "--no-sort",
            "--no-lsi",
        ],
    );
    ok(root, &["-n", "env-cluster", "-t", "Aurora", "-w", "api", "-l", "environment"]);
    // The access file alone, for a workload of another workspace.
    ok(root, &["-n", "env-bucket", "-t", "S3", "--add-ingress-from", "worker"]);

    let copilot = root.join("copilot");
    let expected = [
        "api/addons/my-bucket.yml",
        "api/addons/my-table.yml",
        "api/addons/my-cluster.yml",
        "environments/addons/env-bucket.yml",
        "api/addons/env-bucket-access-policy.yml",
        "environments/addons/env-table.yml",
        "api/addons/env-table-access-policy.yml",
        "environments/addons/env-cluster.yml",
        "environments/addons/addons.parameters.yml",
        "worker/addons/env-bucket-access-policy.yml",
    ];
    for file in expected {
        assert!(copilot.join(file).is_file(), "storage init did not write copilot/{file}");
    }
    assert!(!copilot.join("api/addons/env-cluster-access-policy.yml").exists(), "Aurora gives no access file");
    let table = std::fs::read_to_string(copilot.join("api/addons/my-table.yml")).unwrap();
    assert!(table.contains("AttributeName: Points") && table.contains("mytableName"), "{table}");
    let parameters = std::fs::read_to_string(copilot.join("environments/addons/addons.parameters.yml")).unwrap();
    assert!(parameters.starts_with("Parameters:") && parameters.contains("PrivateSubnets"), "{parameters}");

    let templates: Vec<_> =
        expected.iter().filter(|f| !f.ends_with("addons.parameters.yml")).map(|f| copilot.join(f)).collect();
    ferry_test_support::cfn_lint_files(&templates).expect("every written addon is cfn-lint clean");

    // The workload's addons (three storages, one access policy) load as one
    // nested stack: `svc package` renders them.
    let out = root.join("out");
    let output =
        ferry(root).args(["svc", "package", "-n", "api", "-e", "test", "--output-dir"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let addons = std::fs::read_to_string(out.join("api.addons.stack.json")).expect("the addons stack is written");
    for id in ["mybucketBucket", "mytable", "myclusterDBCluster", "envbucketAccessPolicy", "envtableAccessPolicy"] {
        assert!(addons.contains(&format!("\"{id}\"")), "the addons stack lacks {id}");
    }
}

#[test]
fn bad_flags_are_refused_with_what_where_why_and_a_hint() {
    let ws = workspace();
    let root = ws.path();
    // A DynamoDB table without a partition key: the plugin's diagnostic, at its flag.
    let err = refused(root, &["-n", "tab1", "-t", "DynamoDB", "-w", "api", "-l", "workload"]);
    assert!(err.contains("--partition-key") && err.contains("`dynamodb` storage plugin"), "{err}");
    assert!(err.contains("--partition-key id:S"), "the hint shows the form: {err}");
    // A flag of another storage type.
    let err = refused(root, &["-n", "bk1", "-t", "S3", "-w", "api", "--engine", "MySQL"]);
    assert!(err.contains("--engine does not apply"), "{err}");
    // An unknown type: the offered ones, with a suggestion.
    let err = refused(root, &["-n", "bk1", "-t", "s3", "-w", "api"]);
    assert!(err.contains("unknown storage type `s3`") && err.contains("did you mean `S3`?"), "{err}");
    // A workload that is not there.
    let err = refused(root, &["-n", "bk1", "-t", "S3", "-w", "apj", "-l", "workload"]);
    assert!(err.contains("--workload `apj`") && err.contains("did you mean `api`?"), "{err}");
    // A lifecycle that is neither.
    let err = refused(root, &["-n", "bk1", "-t", "S3", "-w", "api", "-l", "forever"]);
    assert!(err.contains("--lifecycle `forever`") && err.contains("--lifecycle workload"), "{err}");
    // Aurora Serverless v1 is gone.
    let err = refused(root, &["-n", "c1", "-t", "Aurora", "-w", "api", "--serverless-version", "v1"]);
    assert!(err.contains("end of life"), "{err}");
    // Without a terminal, a missing flag is named.
    let err = refused(root, &["-n", "bk1", "-w", "api"]);
    assert!(err.contains("--storage-type is required") && err.contains("Aurora, DynamoDB, S3"), "{err}");
    // A second init of the same storage does not overwrite the first.
    ok(root, &["-n", "bk2", "-t", "S3", "-w", "api", "-l", "workload"]);
    let err = refused(root, &["-n", "bk2", "-t", "S3", "-w", "api", "-l", "workload"]);
    assert!(err.contains("already exists"), "{err}");
}

/// `env package` with `copilot/environments/addons/`: the environment stack
/// nests them as `AddonsStack` (App, Env and addons.parameters.yml's values
/// passed, the template URL a parameter deploy fills in), the addons
/// template is written beside the stack, and both are cfn-lint clean.
#[test]
fn environment_addons_package_as_the_environment_stacks_nested_stack() {
    let ws = workspace();
    let root = ws.path();
    ok(root, &["-n", "env-bucket", "-t", "S3", "-w", "api", "-l", "environment"]);
    ok(root, &["-n", "env-cluster", "-t", "Aurora", "-w", "api", "-l", "environment"]);
    let out = root.join("out");
    let output = ferry(root).args(["env", "package", "-n", "test", "--output-dir"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_str(&text).unwrap()
    };
    let stack = read("test.env.stack.json");
    let params = read("test.env.params.json");
    let addons = read("test.env.addons.stack.json");
    assert_eq!(stack["Resources"]["AddonsStack"]["Type"], "AWS::CloudFormation::Stack");
    assert_eq!(params["Parameters"]["AddonsTemplateURL"], "", "offline, the URL is left for deploy");
    assert!(
        addons["Resources"]["envbucketBucket"].is_object() && addons["Resources"]["envclusterDBCluster"].is_object()
    );
    ferry_test_support::cfn_lint_files(&[out.join("test.env.stack.json"), out.join("test.env.addons.stack.json")])
        .expect("the environment stack and its addons are cfn-lint clean");
    insta::assert_json_snapshot!("env_with_addons.stack", stack);
    insta::assert_json_snapshot!("env_with_addons.params", params);
    insta::assert_json_snapshot!("env_with_addons.addons", addons);
}
