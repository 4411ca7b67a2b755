//! A Static Site deployed end to end on moto: the stack (bucket + CloudFront)
//! is created, the manifest's `files` land in the bucket with their content
//! types, a redeploy of an unchanged tree writes nothing, and an edited file
//! is uploaded and invalidated while the stack stays as it is.
//!
//! And what a plugin cannot make the host do with uploads (issue 17): send
//! files to a bucket its stack does not create, through a declared host step
//! or through template metadata; read a file through a link leaving the
//! workspace.

use crate::common;

use common::ferry;
use common::{json_event as event, run_on_moto as run};
use ferry_test_support::Moto;
use ferry_tests::fixtures;
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A workspace of app `docs` with environment `test` and the Static Site
/// `www` described by `manifest`; after `app init` and `env deploy`.
fn deployed_site_workspace(moto: &Moto, manifest: &str) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: docs\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/www/manifest.yml", manifest);
    run(moto, dir, &["app", "init"]);
    run(moto, dir, &["env", "deploy", "-n", "test"]);
    ws
}

async fn aws(moto: &Moto) -> ferry_aws::AwsContext {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn static_site_files_are_uploaded_and_kept_in_sync() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = deployed_site_workspace(
        &moto,
        "name: www\ntype: Static Site\nfiles:\n  - source: site\n    exclude: '*.map'\n  - source: robots.txt\n",
    );
    let dir = ws.path();
    write(dir, "site/index.html", "<h1>docs</h1>");
    write(dir, "site/css/main.css", "h1{color:red}");
    write(dir, "site/app.js.map", "{}");
    write(dir, "robots.txt", "User-agent: *");
    let first = run(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test", "--json"]);
    assert_eq!(event(&first, "stack_finished")["outcome"], "created", "{first}");
    let uploaded = event(&first, "site_uploaded");
    assert_eq!(uploaded["report"]["uploaded"], 3, "{uploaded}");
    assert!(uploaded["report"]["invalidation"].is_string(), "{uploaded}");

    let bucket = uploaded["bucket"].as_str().unwrap().to_string();
    let listing = aws.s3().list_objects_v2().bucket(&bucket).send().await.unwrap();
    let keys: Vec<&str> = listing.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["css/main.css", "index.html", "robots.txt"]);
    let css = aws.s3().head_object().bucket(&bucket).key("css/main.css").send().await.unwrap();
    assert_eq!(css.content_type(), Some("text/css; charset=utf-8"));

    let show = run(&moto, dir, &["svc", "show", "-n", "www", "--json"]);
    let show: Value = serde_json::from_str(&show).unwrap();
    let distribution = show["deployments"][0]["outputs"]["DistributionId"].as_str().map(str::to_string);
    let distribution = distribution.expect("the stack outputs its distribution");
    aws.cloudfront().get_distribution().id(&distribution).send().await.expect("the distribution exists");

    // Unchanged tree: nothing written anywhere.
    let again = run(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test", "--json"]);
    assert_eq!(event(&again, "stack_finished")["outcome"], "up to date");
    assert_eq!(event(&again, "site_uploaded")["report"]["uploaded"], 0);
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "{again}");

    // An edited file: the stack stays, the file is uploaded and invalidated.
    write(dir, "site/index.html", "<h1>docs v2</h1>");
    let edit = run(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test", "--json"]);
    assert_eq!(event(&edit, "stack_finished")["outcome"], "up to date");
    let report = &event(&edit, "site_uploaded")["report"];
    assert_eq!((report["uploaded"].as_u64(), report["unchanged"].as_u64()), (Some(1), Some(2)), "{report}");
    assert!(report["invalidation"].is_string(), "{report}");
    let body = aws.s3().get_object().bucket(&bucket).key("index.html").send().await.unwrap();
    assert_eq!(body.body.collect().await.unwrap().into_bytes().as_ref(), b"<h1>docs v2</h1>");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_source_stops_the_deploy_before_any_stack_changes() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = deployed_site_workspace(&moto, "name: www\ntype: Static Site\nfiles:\n  - source: public\n");
    let dir = ws.path();
    let output = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .args(["svc", "deploy", "-n", "www", "-e", "test"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("files[0].source `public` does not exist"), "{stderr}");
    let stack = aws.cloudformation().describe_stacks().stack_name("docs-test-www").send().await;
    assert!(stack.is_err(), "no stack may have been created: {stack:?}");
}

fn fail(moto: &Moto, dir: &Path, args: &[&str]) -> String {
    let output = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success(), "ferry {} should fail\nstderr:\n{stderr}", args.join(" "));
    stderr
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_symlink_leaving_the_workspace_is_refused_naming_the_link() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = deployed_site_workspace(&moto, "name: www\ntype: Static Site\nfiles:\n  - source: site\n");
    let dir = ws.path();
    write(dir, "site/index.html", "<h1>docs</h1>");
    // Stands in for ~/.aws/credentials.
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aws/credentials", "[default]\naws_secret_access_key = do-not-upload\n");
    std::os::unix::fs::symlink(home.path().join(".aws/credentials"), dir.join("site/credentials.txt")).unwrap();
    let stderr = fail(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test"]);
    assert!(stderr.contains("credentials.txt") && stderr.contains("outside the workspace"), "{stderr}");
    assert!(!stderr.contains("do-not-upload"), "{stderr}");
    let stack = aws.cloudformation().describe_stacks().stack_name("docs-test-www").send().await;
    assert!(stack.is_err(), "no stack may have been created: {stack:?}");
}

/// A workspace with the hostile fixture installed and service `evil` asking
/// for `attack`, after `app init` and `env deploy`; and a bucket that is not
/// the workspace's, holding `keep.txt`.
async fn hostile_workspace(moto: &Moto, aws: &ferry_aws::AwsContext, attack: &str) -> tempfile::TempDir {
    let region = aws.s3().config().region().map(|r| r.to_string()).unwrap_or_default();
    let mut create = aws.s3().create_bucket().bucket("victim-bucket");
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    create.send().await.unwrap();
    aws.s3().put_object().bucket("victim-bucket").key("keep.txt").body(b"theirs".to_vec().into()).send().await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: docs\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/evil/manifest.yml", &format!("name: evil\ntype: Hostile Service\nattack: {attack}\n"));
    write(dir, "loot/secret.txt", "taken");
    let output = ferry(dir).args(["plugin", "install", fixtures::HOSTILE]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let installed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(installed.contains("host steps: s3-upload"), "install shows the declared host steps: {installed}");
    let inspected = run(moto, dir, &["plugin", "inspect", "hostile"]);
    assert!(inspected.lines().any(|l| l.contains("host steps") && l.contains("s3-upload")), "{inspected}");
    run(moto, dir, &["app", "init"]);
    run(moto, dir, &["env", "deploy", "-n", "test"]);
    ws
}

async fn victim_keys(aws: &ferry_aws::AwsContext) -> Vec<String> {
    let listing = aws.s3().list_objects_v2().bucket("victim-bucket").send().await.unwrap();
    listing.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_directed_upload_to_a_foreign_bucket_is_refused() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = hostile_workspace(&moto, &aws, "foreign-bucket").await;
    let stderr = fail(&moto, ws.path(), &["svc", "deploy", "-n", "evil", "-e", "test"]);
    assert!(
        stderr.contains("bucket `victim-bucket`") && stderr.contains("not an `AWS::S3::Bucket` resource of the stack"),
        "{stderr}"
    );
    assert_eq!(victim_keys(&aws).await, ["keep.txt"], "the foreign bucket is untouched");
    let stack = aws.cloudformation().describe_stacks().stack_name("docs-test-evil").send().await;
    assert!(stack.is_err(), "the step is refused before the stack changes: {stack:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_smuggled_in_template_metadata_uploads_nothing() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = hostile_workspace(&moto, &aws, "smuggle-upload").await;
    let output = ferry(ws.path())
        .envs(moto.env())
        .env("CI", "true")
        .args(["svc", "deploy", "-n", "evil", "-e", "test", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("`Metadata[\"ferry:upload\"]`, which ferry ignores"), "{stderr}");
    assert!(!stdout.contains("site_uploaded"), "{stdout}");
    assert_eq!(victim_keys(&aws).await, ["keep.txt"], "nothing uploaded to, nor deleted from, the foreign bucket");
}
