//! `ferry init` on a fresh directory holding only a Dockerfile: with flags
//! only (no terminal, CI set) it creates the application, writes the
//! service's manifest and the `test` environment's, builds and pushes the
//! image (podman, a loopback registry standing in for ECR) and deploys both
//! stacks to the emulator. A redeploy then makes no mutating call, and
//! `ferry init` run again keeps what exists and succeeds. Without flags it
//! fails at once naming the flag, never waiting on a prompt.

use crate::common;

use common::{ferry, json_event};
use ferry_test_support::{ContainerStorage, Moto, Registry};
use std::path::Path;

/// moto's ECR hands out `AWS:<account>-auth-token`.
const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";

struct Setup {
    moto: Moto,
    registry: Registry,
    storage: ContainerStorage,
}

impl Setup {
    fn run(&self, dir: &Path, args: &[&str]) -> (bool, String, String) {
        let output = ferry(dir)
            .envs(self.moto.env())
            .envs(self.storage.env())
            .env("CI", "true")
            .env("FERRY_ECR_REGISTRY", self.registry.address())
            .env_remove("FERRY_BUILDER")
            .args(args)
            .output()
            .expect("run ferry");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> (String, String) {
        let (ok, stdout, stderr) = self.run(dir, args);
        assert!(ok, "ferry {} failed\nstdout:\n{stdout}\nstderr:\n{stderr}", args.join(" "));
        (stdout, stderr)
    }
}

/// A directory with nothing but a service: a Dockerfile, a static busybox
/// and a page.
fn fresh_service_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(
        root.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY www /www\nEXPOSE 8080\nCMD [\"/bin/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    )
    .unwrap();
    std::fs::copy("/bin/busybox", root.join("busybox")).expect("busybox-static is installed (scripts/setup.sh)");
    std::fs::create_dir_all(root.join("www")).unwrap();
    std::fs::write(root.join("www/index.html"), "<h1>hello</h1>\n").unwrap();
    dir
}

async fn stack_status(aws: &ferry_aws::AwsContext, stack: &str) -> Option<String> {
    let out = aws.cloudformation().describe_stacks().stack_name(stack).send().await.ok()?;
    out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn init_with_flags_only_deploys_a_fresh_directory_and_a_redeploy_changes_nothing() {
    let setup =
        Setup { moto: Moto::start(), registry: Registry::start(MOTO_ECR_PASSWORD), storage: ContainerStorage::new() };
    setup.moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = fresh_service_dir();
    let dir = ws.path();

    // No flags and no terminal: an error naming the flag, at once, nothing created.
    let (ok, _, stderr) = setup.run(dir, &["init"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("--app is required: there is no terminal to ask on"), "{stderr}");
    assert!(!dir.join("copilot").exists(), "nothing written before the flags are complete");
    let (ok, _, stderr) = setup.run(dir, &["init", "--app", "hello", "--name", "web"]);
    assert!(!ok && stderr.contains("--type is required"), "{stderr}");
    assert!(stderr.contains("Load Balanced Web Service"), "the hint lists the types: {stderr}");
    let (ok, _, stderr) =
        setup.run(dir, &["init", "-a", "hello", "-n", "web", "-t", "Load Balanced Web Service", "--retries", "2"]);
    assert!(!ok && stderr.contains("--retries, --timeout and --schedule are for jobs"), "{stderr}");

    let init = [
        "init",
        "--app",
        "hello",
        "--name",
        "web",
        "--type",
        "Load Balanced Web Service",
        "--dockerfile",
        "Dockerfile",
        "--port",
        "8080",
        "--tag",
        "v1",
        "--deploy",
    ];
    let (_, stderr) = setup.ok(dir, &init);
    assert!(stderr.contains("Deployed"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.join("copilot/.workspace")).unwrap(), "application: hello\n");
    let manifest = std::fs::read_to_string(dir.join("copilot/web/manifest.yml")).unwrap();
    assert!(manifest.contains("type: Load Balanced Web Service"), "{manifest}");
    assert!(manifest.contains("build: Dockerfile") && manifest.contains("port: 8080"), "{manifest}");
    assert!(dir.join("copilot/environments/test/manifest.yml").is_file());
    for stack in ["hello-test", "hello-test-web"] {
        let status = stack_status(&aws, stack).await;
        assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"), "{stack}\n{stderr}");
    }
    assert!(
        setup.registry.manifest_digest("hello/web", "v1").is_some(),
        "the image was pushed as hello/web:v1\n{stderr}\n{}",
        setup.registry.log()
    );

    // A redeploy of everything: up to date, not one mutating call.
    let (stdout, _) = setup.ok(dir, &["deploy", "-e", "test", "--tag", "v1", "--json"]);
    let calls = json_event(&stdout, "api_calls");
    assert_eq!(calls["mutating"], 0, "a redeploy after init mutated: {calls}\n{stdout}");

    // init again: keeps the manifests, deploys nothing new, succeeds.
    std::fs::write(dir.join("copilot/web/manifest.yml"), format!("{manifest}# edited by hand\n")).unwrap();
    let (_, stderr) = setup.ok(dir, &init);
    assert!(stderr.contains("keeping the manifest of web"), "{stderr}");
    assert!(
        std::fs::read_to_string(dir.join("copilot/web/manifest.yml")).unwrap().ends_with("# edited by hand\n"),
        "the user's manifest is kept"
    );
    let (ok, _, stderr) = setup.run(dir, &["init", "--app", "other", "--name", "web", "--type", "Backend Service"]);
    assert!(!ok && stderr.contains("this workspace belongs to application `hello`, not `other`"), "{stderr}");
}
