//! The buildspec `pipeline init` writes, run the way CodeBuild runs it:
//! its install, pre_build and build commands with bash on this machine,
//! ferry fetched from the app's artifact bucket in moto's S3 (where
//! `pipeline deploy` put it, sha256 checked), images built with buildah and
//! pushed to a loopback registry standing in for ECR, addons uploaded. The
//! chat example (with a `staging` environment) has two environments, two services (api with addons) and a
//! job: every template and configuration the deploy actions name must be in
//! `infrastructure/` afterwards.

use crate::common;

use common::{example_copy, ferry};
use ferry_test_support::{ContainerStorage, Moto, Registry};
use serde_json::Value;
use std::path::Path;

/// moto's ECR hands out `AWS:<account>-auth-token`.
const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";

fn run(moto: &Moto, dir: &Path, args: &[&str]) -> String {
    let output = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "ferry {} failed\nstdout:\n{}\nstderr:\n{stderr}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_buildspec_runs_and_writes_every_template_the_deploys_read() {
    let moto = Moto::start();
    let registry = Registry::start(MOTO_ECR_PASSWORD);
    let storage = ContainerStorage::new();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = example_copy("chat");
    let dir = ws.path();
    for svc in ["frontend", "api"] {
        std::fs::copy("/bin/busybox", dir.join(svc).join("busybox")).expect("busybox-static is installed");
    }
    // A second environment like `test` (chat's `prod` imports a certificate moto does not have).
    let envs = dir.join("copilot/environments");
    std::fs::create_dir_all(envs.join("staging")).unwrap();
    let text = std::fs::read_to_string(envs.join("test/manifest.yml")).unwrap();
    std::fs::write(envs.join("staging/manifest.yml"), text.replacen("name: test", "name: staging", 1)).unwrap();
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    run(&moto, dir, &["env", "deploy", "-n", "staging"]);
    run(
        &moto,
        dir,
        &[
            "pipeline",
            "init",
            "-n",
            "release",
            "--url",
            "https://github.com/acme/chat",
            "-b",
            "main",
            "-e",
            "test,staging",
        ],
    );
    let first = run(&moto, dir, &["pipeline", "deploy", "-n", "release"]);
    assert!(first.contains("Uploaded"), "the first deploy uploads ferry: {first}");

    // What CodeBuild would get: the build project's variables, from the stack's parameters.
    let out = aws.cloudformation().describe_stacks().stack_name("pipeline-chat-release").send().await.unwrap();
    let parameters: std::collections::HashMap<String, String> = out.stacks()[0]
        .parameters()
        .iter()
        .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
        .collect();
    let bucket = parameters["ArtifactBucket"].clone();
    let key = parameters["FerryBinaryKey"].clone();
    let sha256 = parameters["FerryBinarySha256"].clone();
    assert!(key.starts_with(&format!("ferry/{}/{sha256}/", env!("CARGO_PKG_VERSION"))), "{key}");
    let object = aws.s3().get_object().bucket(&bucket).key(&key).send().await.expect("ferry is in the bucket");
    assert!(object.content_length().unwrap_or(0) > 1_000_000, "the whole binary was uploaded");
    let second = run(&moto, dir, &["pipeline", "deploy", "-n", "release"]);
    assert!(!second.contains("Uploaded") && second.contains("Unchanged"), "a second deploy uploads nothing: {second}");

    // The buildspec's phases, as one bash script that stops at the first failing command.
    let text = std::fs::read_to_string(dir.join("copilot/pipelines/release/buildspec.yml")).unwrap();
    let buildspec: Value = yaml_serde::from_str(&text).expect("the buildspec is YAML");
    let mut script = String::from("set -eo pipefail\n");
    for phase in ["install", "pre_build", "build"] {
        for command in buildspec["phases"][phase]["commands"].as_array().expect("commands") {
            script.push_str(command.as_str().expect("a command is a string"));
            script.push('\n');
        }
    }
    let bin = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .envs(moto.env())
        .envs(storage.env())
        .env("AWS_DEFAULT_REGION", "us-west-2")
        .env("CI", "true")
        .env("PATH", path)
        .env("TMPDIR", tmp.path())
        .env("FERRY_INSTALL_DIR", bin.path())
        .env("FERRY_ARTIFACT_BUCKET", &bucket)
        .env("FERRY_BINARY_KEY", &key)
        .env("FERRY_BINARY_SHA256", &sha256)
        .env("FERRY_ENVIRONMENTS", "test staging")
        .env("CODEBUILD_RESOLVED_SOURCE_VERSION", "0123456789abcdef0123456789abcdef01234567")
        .env("FERRY_ECR_REGISTRY", registry.address())
        .env("FERRY_BUILDER", "buildah")
        .env("FERRY_CACHE_DIR", common::workspace_root().join("target/test-plugin-cache"))
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the buildspec failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nregistry:\n{}",
        registry.log()
    );
    assert!(stdout.contains(": OK"), "sha256sum checked the binary: {stdout}");
    assert!(bin.path().join("ferry").is_file());

    // Images: pushed with the commit's tag, through the same code as `svc deploy`.
    for svc in ["frontend", "api"] {
        assert!(registry.manifest_digest(&format!("chat/{svc}"), "0123456").is_some(), "{svc} was pushed");
    }
    // Every template and configuration the deploy actions read is there.
    let infrastructure = dir.join("infrastructure");
    let out = dir.join("pipeline-out");
    run(&moto, dir, &["pipeline", "package", "-n", "release", "--output-dir", out.to_str().unwrap()]);
    let template: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("pipeline-chat-release.stack.json")).unwrap()).unwrap();
    let mut read = Vec::new();
    for stage in template["Resources"]["Pipeline"]["Properties"]["Stages"].as_array().unwrap() {
        for action in stage["Actions"].as_array().unwrap() {
            if action["ActionTypeId"]["Category"] != "Deploy" {
                continue;
            }
            for field in ["TemplatePath", "TemplateConfiguration"] {
                let path = action["Configuration"][field].as_str().unwrap();
                let file = path.strip_prefix("BuildOutput::").expect("read from the build's output");
                assert!(dir.join(file).is_file(), "{file} is missing; infrastructure/ has {:?}", ls(&infrastructure));
                read.push(file.to_string());
            }
        }
    }
    for name in ["api-test", "frontend-test", "report-test", "api-staging", "frontend-staging", "report-staging"] {
        assert!(read.contains(&format!("infrastructure/{name}.stack.json")), "a deploy reads {name}: {read:?}");
    }
    // Environment stacks are written too, for a stage that lists its environment under `deployments`.
    for env in ["test", "staging"] {
        assert!(infrastructure.join(format!("{env}.env.stack.json")).is_file(), "{:?}", ls(&infrastructure));
    }
    assert!(infrastructure.join("api.addons.stack.json").is_file(), "{:?}", ls(&infrastructure));
    // The pinned images and the uploaded addons are what the deploys get.
    let params: Value =
        serde_json::from_str(&std::fs::read_to_string(infrastructure.join("api-staging.params.json")).unwrap())
            .unwrap();
    let text = params.to_string();
    assert!(text.contains(&format!("{}/chat/api@sha256:", registry.address())), "{text}");
    let addons = params["Parameters"]["AddonsTemplateURL"].as_str().unwrap_or_default();
    assert!(addons.contains(&bucket), "api's addons were uploaded: {text}");
    let addons_key = addons.split(".amazonaws.com/").nth(1).unwrap();
    aws.s3().head_object().bucket(&bucket).key(addons_key).send().await.expect("the addons template is in the bucket");
}

fn ls(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default()
}
