//! Release pipelines through the `ferry` binary: every source provider
//! (the bundled GitHub, Bitbucket and CodeCommit plugins, and GitLab, built
//! on the public SDK alone) renders a 2-stage and a 3-stage pipeline that
//! cfn-lint accepts; `pipeline init` writes what `package` reads; bad
//! manifests fail at `file:line:col`; and deploy / ls / show / delete run
//! against moto.

use crate::common;

use common::{example_copy, ferry, line_of};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

const MANIFEST: &str = "copilot/pipelines/release/manifest.yml";

/// (provider, repository URL, a source property only the 3-stage manifest sets)
const PROVIDERS: &[(&str, &str, &str)] = &[
    (
        "GitHub",
        "https://github.com/acme/chat",
        "connection_arn: arn:aws:codestar-connections:us-west-2:123456789012:connection/6d2f1c4e-aaaa-bbbb-cccc-0123456789ab",
    ),
    ("Bitbucket", "https://bitbucket.org/acme/chat", "connection_name: acme-bitbucket"),
    (
        "CodeCommit",
        "https://git-codecommit.us-west-2.amazonaws.com/v1/repos/chat",
        "output_artifact_format: CODEBUILD_CLONE_REF",
    ),
    ("GitLab", "https://gitlab.com/acme/chat.git", "output_artifact_format: CODE_ZIP"),
];

fn two_stages(provider: &str, url: &str) -> String {
    format!(
        "name: release
version: 1
source:
  provider: {provider}
  properties:
    branch: main
    repository: {url}
build:
  image: aws/codebuild/amazonlinux2-x86_64-standard:5.0
stages:
  - name: test
  - name: prod
    requires_approval: true
"
    )
}

fn three_stages(provider: &str, url: &str, extra: &str) -> String {
    format!(
        "name: release
version: 1
source:
  provider: {provider}
  properties:
    branch: release
    repository: {url}
    {extra}
build:
  buildspec: ci/buildspec.yml
  additional_policy:
    PolicyDocument:
      Version: \"2012-10-17\"
      Statement:
        - Effect: Allow
          Action: secretsmanager:GetSecretValue
          Resource: arn:aws:secretsmanager:us-west-2:123456789012:secret:chat/ci-*
stages:
  - name: test
    test_commands:
      - make integ-test
      - echo \"tests passed\"
  - name: staging
    pre_deployments:
      db_migration:
        buildspec: ./ci/migrate.yml
    deployments:
      api:
      frontend:
        depends_on: [api]
      report:
        depends_on: [api]
  - name: prod
    requires_approval: true
    deployments:
      api:
      frontend:
        depends_on: [api]
"
    )
}

/// The chat example with a third environment, `staging`.
fn workspace() -> tempfile::TempDir {
    let ws = example_copy("chat");
    let envs = ws.path().join("copilot/environments");
    std::fs::create_dir_all(envs.join("staging")).unwrap();
    let text = std::fs::read_to_string(envs.join("test/manifest.yml")).unwrap();
    std::fs::write(envs.join("staging/manifest.yml"), text.replacen("name: test", "name: staging", 1)).unwrap();
    ws
}

fn write_manifest(root: &Path, text: &str) {
    let path = root.join(MANIFEST);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn package(root: &Path) -> Value {
    let out = root.join("out");
    let output = ferry(root).args(["pipeline", "package", "-n", "release", "--output-dir"]).arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pipeline package failed:\n{stderr}");
    let template = std::fs::read_to_string(out.join("pipeline-chat-release.stack.json")).unwrap();
    serde_json::from_str(&template).unwrap()
}

fn stage_names(template: &Value) -> Vec<String> {
    template["Resources"]["Pipeline"]["Properties"]["Stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_string())
        .collect()
}

/// The actions of a stage as (name, run order).
fn actions(template: &Value, stage: &str) -> Vec<(String, u64)> {
    let stages = template["Resources"]["Pipeline"]["Properties"]["Stages"].as_array().unwrap();
    let stage = stages.iter().find(|s| s["Name"] == stage).unwrap_or_else(|| panic!("no stage {stage}"));
    stage["Actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["Name"].as_str().unwrap().to_string(), a["RunOrder"].as_u64().unwrap()))
        .collect()
}

#[test]
fn every_provider_renders_lint_clean_pipelines() {
    let mut templates = Vec::new();
    for (provider, url, extra) in PROVIDERS {
        for (stages, text) in [(2, two_stages(provider, url)), (3, three_stages(provider, url, extra))] {
            let ws = workspace();
            write_manifest(ws.path(), &text);
            let template = package(ws.path());
            let label = format!("{}-{stages}-stages", provider.to_lowercase());
            insta::assert_json_snapshot!(label.clone(), template);
            let source = &template["Resources"]["Pipeline"]["Properties"]["Stages"][0]["Actions"][0];
            assert_eq!(source["ActionTypeId"]["Category"], "Source", "{label}");
            assert_eq!(template["Metadata"]["Source"]["Repository"], *url, "{label}");
            templates.push((label, template));
        }
    }
    // The behaviour the manifests ask for, on one provider (the host renders
    // the same stages for all).
    let github3 = &templates[1].1;
    assert_eq!(stage_names(github3), ["Source", "Build", "DeployTo-test", "DeployTo-staging", "DeployTo-prod"]);
    assert_eq!(
        actions(github3, "DeployTo-staging"),
        [
            ("pre-db_migration".to_string(), 1),
            ("CreateOrUpdate-api-staging".to_string(), 2),
            ("CreateOrUpdate-frontend-staging".to_string(), 3),
            ("CreateOrUpdate-report-staging".to_string(), 3)
        ]
    );
    assert_eq!(
        actions(github3, "DeployTo-prod"),
        [
            ("ApprovePromotionTo-prod".to_string(), 1),
            ("CreateOrUpdate-api-prod".to_string(), 2),
            ("CreateOrUpdate-frontend-prod".to_string(), 3)
        ]
    );
    let test_actions = actions(github3, "DeployTo-test");
    assert_eq!(test_actions.last().unwrap(), &("TestCommands".to_string(), 2), "tests run after every deploy");
    // A stage without `deployments:` deploys every workload of the workspace.
    let github2 = &templates[0].1;
    let names: Vec<String> = actions(github2, "DeployTo-test").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["CreateOrUpdate-api-test", "CreateOrUpdate-frontend-test", "CreateOrUpdate-report-test"]);
    // Connections: created when none is named, never when one is.
    assert!(github2["Resources"]["SourceConnection"].is_object());
    assert!(github3["Resources"].get("SourceConnection").is_none());
    let codecommit2 = &templates[4].1;
    assert!(codecommit2["Resources"]["SourceEventRule"].is_object(), "CodeCommit pushes start the pipeline");
    assert!(codecommit2["Outputs"].get("ConnectionARN").is_none());
    ferry_test_support::cfn_lint(&templates).unwrap_or_else(|report| panic!("cfn-lint found errors:\n{report}"));
}

#[test]
fn init_writes_a_manifest_and_buildspec_that_package_reads() {
    let ws = workspace();
    let output = ferry(ws.path())
        .env("CI", "true")
        .args([
            "pipeline",
            "init",
            "--name",
            "release",
            "--url",
            "https://gitlab.com/acme/chat",
            "--git-branch",
            "trunk",
            "--environments",
            "test,prod",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("GitLab source, plugin gitlab"), "the URL picks the provider: {stderr}");
    let manifest = std::fs::read_to_string(ws.path().join(MANIFEST)).unwrap();
    insta::assert_snapshot!("init_manifest", manifest);
    let buildspec = std::fs::read_to_string(ws.path().join("copilot/pipelines/release/buildspec.yml")).unwrap();
    // ferry comes from the artifact bucket, and every workload is packaged
    // with its assets (tests/pipeline_buildspec.rs runs it).
    assert!(buildspec.contains("${FERRY_BINARY_SHA256}"), "{buildspec}");
    assert!(!buildspec.contains("https://"), "no download site: {buildspec}");
    assert!(buildspec.contains("svc package --all"), "{buildspec}");
    let template = package(ws.path());
    assert_eq!(stage_names(&template), ["Source", "Build", "DeployTo-test", "DeployTo-prod"]);
    assert_eq!(template["Metadata"]["Source"]["Branch"], "trunk");
    // A second init with the same name refuses to overwrite.
    let again = ferry(ws.path())
        .args(["pipeline", "init", "-n", "release", "--url", "https://gitlab.com/acme/chat", "-e", "test"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    // A URL no provider accepts names the installed providers.
    let bad = ferry(ws.path())
        .args(["pipeline", "init", "-n", "other", "--url", "https://example.com/acme/chat", "-e", "test"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Bitbucket, CodeCommit, GitHub, GitLab"), "{stderr}");
}

/// Runs `pipeline package` on a bad manifest and returns its stderr.
fn fails(root: &Path) -> String {
    let output = ferry(root).args(["pipeline", "package", "-n", "release"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "expected exit 1:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn unknown_provider_lists_the_installed_ones() {
    let ws = workspace();
    write_manifest(ws.path(), &two_stages("GitHubb", "https://github.com/acme/chat"));
    let line = line_of(ws.path(), MANIFEST, "provider:");
    let stderr = fails(ws.path());
    assert!(stderr.contains(&format!("{MANIFEST}:{line}:3")), "{stderr}");
    assert!(stderr.contains("unknown source provider `GitHubb`"), "{stderr}");
    assert!(stderr.contains("did you mean `GitHub`?"), "{stderr}");
    assert!(stderr.contains("installed providers: Bitbucket, CodeCommit, GitHub, GitLab"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn stage_naming_a_missing_environment() {
    let ws = workspace();
    write_manifest(
        ws.path(),
        &two_stages("GitHub", "https://github.com/acme/chat").replace("- name: prod", "- name: prd"),
    );
    let line = line_of(ws.path(), MANIFEST, "- name: prd");
    let stderr = fails(ws.path());
    assert!(stderr.contains(&format!("{MANIFEST}:{line}:5")), "{stderr}");
    assert!(stderr.contains("stage `prd` names an environment that does not exist"), "{stderr}");
    assert!(stderr.contains("did you mean `prod`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn depends_on_cycle() {
    let ws = workspace();
    let text = three_stages("GitHub", "https://github.com/acme/chat", "").replace(
        "      api:\n      frontend:\n        depends_on: [api]\n      report:",
        "      api:\n        depends_on: [report]\n      frontend:\n        depends_on: [api]\n      report:",
    );
    write_manifest(ws.path(), &text);
    let line = line_of(ws.path(), MANIFEST, "depends_on: [report]");
    let stderr = fails(ws.path());
    assert!(stderr.contains(&format!("{MANIFEST}:{line}:9")), "{stderr}");
    assert!(stderr.contains("`depends_on` has a cycle: api → report → api"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn repository_url_of_another_provider() {
    for (provider, url) in [
        ("GitHub", "https://bitbucket.org/acme/chat"),
        ("Bitbucket", "https://github.com/acme/chat"),
        ("CodeCommit", "https://github.com/acme/chat"),
        ("GitLab", "https://github.com/acme/chat"),
    ] {
        let ws = workspace();
        write_manifest(ws.path(), &two_stages(provider, url));
        let line = line_of(ws.path(), MANIFEST, "repository:");
        let stderr = fails(ws.path());
        assert!(stderr.contains(&format!("{MANIFEST}:{line}:5")), "{provider}: {stderr}");
        assert!(stderr.contains(&format!("`{url}` is not a {provider} repository URL")), "{provider}: {stderr}");
        if provider == "GitHub" {
            insta::assert_snapshot!(stderr);
        }
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let ws = workspace();
    let text = two_stages("GitHub", "https://gitlab.com/acme/chat").replace("- name: prod", "- name: prd");
    write_manifest(ws.path(), &text);
    let stderr = fails(ws.path());
    assert!(stderr.contains("`prd`") && stderr.contains("is not a GitHub repository URL"), "{stderr}");
}

fn run(moto: &Moto, dir: &Path, args: &[&str]) -> (String, String) {
    let output = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "ferry {} failed\nstdout:\n{stdout}\nstderr:\n{stderr}", args.join(" "));
    (stdout, stderr)
}

fn run_json(moto: &Moto, dir: &Path, args: &[&str]) -> Value {
    let (out, _) = run(moto, dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ferry {} printed no JSON ({e}):\n{out}", args.join(" ")))
}

#[test]
fn deploy_ls_show_delete_on_moto() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    run(
        &moto,
        dir,
        &["pipeline", "init", "-n", "release", "--url", "https://github.com/acme/chat", "-b", "main", "-e", "test"],
    );
    let (stdout, stderr) = run(&moto, dir, &["pipeline", "deploy", "-n", "release"]);
    assert!(stderr.contains("pipeline-chat-release"), "{stderr}");
    // The stack created a connection; moto cannot say its status, so deploy
    // says how to complete it if it is pending.
    assert!(stdout.contains("action required"), "{stdout}");
    assert!(stdout.contains("/codesuite/settings/123456789012/us-west-2/connections/"), "{stdout}");

    let ls = run_json(&moto, dir, &["pipeline", "ls", "--json"]);
    assert_eq!(ls["pipelines"][0]["name"], "release", "{ls}");
    assert_eq!(ls["pipelines"][0]["stack"], "pipeline-chat-release");
    assert_eq!(ls["pipelines"][0]["status"], "CREATE_COMPLETE");

    let show = run_json(&moto, dir, &["pipeline", "show", "-n", "release", "--json"]);
    assert_eq!(show["source"]["Provider"].as_str().unwrap().split(' ').next(), Some("github"), "{show}");
    assert_eq!(show["source"]["Repository"], "https://github.com/acme/chat");
    let stages: Vec<&str> = show["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(stages, ["Source", "Build", "DeployTo-test"], "CodePipeline has the rendered stages: {show}");
    assert!(show["connection"].as_str().unwrap().starts_with("arn:aws:codestar-connections:"), "{show}");

    // A second deploy changes nothing.
    let (_, again) = run(&moto, dir, &["pipeline", "deploy", "-n", "release"]);
    assert!(again.contains("up to date"), "{again}");

    run(&moto, dir, &["pipeline", "delete", "-n", "release", "--yes"]);
    let ls = run_json(&moto, dir, &["pipeline", "ls", "--json"]);
    assert_eq!(ls["pipelines"].as_array().unwrap().len(), 0, "{ls}");
    let output = ferry(dir).envs(moto.env()).args(["pipeline", "show", "-n", "release"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not deployed"));
}

#[test]
fn legacy_pipeline_yml_is_read() {
    let ws = workspace();
    let text = two_stages("CodeCommit", "https://git-codecommit.us-west-2.amazonaws.com/v1/repos/chat");
    std::fs::write(ws.path().join("copilot/pipeline.yml"), text).unwrap();
    let output = ferry(ws.path()).args(["pipeline", "package"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let template: Value = serde_json::from_slice(&output.stdout).unwrap();
    let build = &template["Resources"]["BuildProject"]["Properties"]["Source"]["BuildSpec"];
    assert_eq!(build, "copilot/buildspec.yml", "the legacy layout keeps its buildspec beside pipeline.yml");
    assert_eq!(template["Resources"]["Pipeline"]["Properties"]["Name"], "pipeline-chat-release");
}
