//! `ferry svc deploy` building examples/chat's frontend image with a real
//! engine (podman or buildah from Debian: vfs storage, chroot isolation, a
//! private storage directory), pushing it to Debian's docker-registry on
//! 127.0.0.1 standing in for ECR (logged in with the token moto's ECR
//! issues), and deploying it to moto pinned by digest. Then: an unchanged
//! redeploy builds from cache and changes no stack; a failing build, an
//! unreachable registry, a refused token and a machine without an engine
//! each fail clearly and leave the deployed stack as it was.

use crate::common;

use common::{edit, example_copy, ferry};
use ferry_test_support::{ContainerStorage, Moto, Registry, free_port};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

/// moto's ECR hands out `AWS:<account>-auth-token`.
const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";
const STACK: &str = "chat-test-frontend";

struct Setup {
    moto: Moto,
    registry: Registry,
    storage: ContainerStorage,
}

impl Setup {
    /// Moto (this process's SDK pointed at it), a loopback registry, a
    /// private container store, and a copy of examples/chat.
    async fn start() -> (Setup, ferry_aws::AwsContext, tempfile::TempDir) {
        let setup = Setup {
            moto: Moto::start(),
            registry: Registry::start(MOTO_ECR_PASSWORD),
            storage: ContainerStorage::new(),
        };
        setup.moto.export_env();
        (setup, ferry_aws::AwsContext::load(None).await, example_copy("chat"))
    }

    fn ferry(&self, dir: &Path, args: &[&str], extra: &[(&str, String)]) -> (bool, String, String) {
        let mut cmd = ferry(dir);
        cmd.envs(self.moto.env())
            .envs(self.storage.env())
            .env("CI", "true")
            .env("FERRY_ECR_REGISTRY", self.registry.address())
            .env_remove("FERRY_BUILDER")
            .args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let output = cmd.output().expect("run ferry");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> (String, String) {
        let (ok, stdout, stderr) = self.ferry(dir, args, &[]);
        assert!(
            ok,
            "ferry {} failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nregistry log:\n{}",
            args.join(" "),
            self.registry.log()
        );
        (stdout, stderr)
    }

    /// Runs a deploy that must fail; returns its stderr.
    fn fails(&self, dir: &Path, extra: &[(&str, String)]) -> String {
        let (ok, stdout, stderr) =
            self.ferry(dir, &["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v2"], extra);
        assert!(!ok, "the deploy should have failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

fn events(stream: &str) -> Vec<Value> {
    stream.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

/// The deployed stack's ContainerImage parameter and last change time.
async fn deployed(aws: &ferry_aws::AwsContext) -> (String, String) {
    let out = aws.cloudformation().describe_stacks().stack_name(STACK).send().await.expect("DescribeStacks");
    let stack = &out.stacks()[0];
    let image = stack
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("ContainerImage"))
        .and_then(|p| p.parameter_value())
        .unwrap_or_default()
        .to_string();
    let changed = format!("{:?} {:?}", stack.last_updated_time(), stack.stack_status());
    (image, changed)
}

/// The image of the main container in the task definition the stack made.
async fn task_definition_image(aws: &ferry_aws::AwsContext) -> String {
    let resources =
        aws.cloudformation().list_stack_resources().stack_name(STACK).send().await.expect("ListStackResources");
    let arn = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.resource_type() == Some("AWS::ECS::TaskDefinition"))
        .and_then(|r| r.physical_resource_id())
        .expect("a task definition in the stack")
        .to_string();
    let td = aws.ecs().describe_task_definition().task_definition(&arn).send().await.expect("DescribeTaskDefinition");
    let containers = td.task_definition().expect("task definition").container_definitions();
    let main = containers.iter().find(|c| c.name() == Some("frontend")).expect("the frontend container");
    main.image().unwrap_or_default().to_string()
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=ferry-test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn builds_pushes_and_deploys_by_digest() {
    let (setup, aws, ws) = Setup::start().await;
    let dir = ws.path();
    // The Dockerfile copies a static busybox from its context; a clean git
    // checkout gives the image its short-SHA tag.
    std::fs::copy("/bin/busybox", dir.join("frontend/busybox"))
        .expect("busybox-static is installed (scripts/setup.sh)");
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "chat"]);
    let sha = String::from_utf8(
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    setup.ok(dir, &["app", "init"]);
    setup.ok(dir, &["env", "deploy", "-n", "test"]);

    // 1. Build, push, deploy: the stack runs exactly the digest the registry holds.
    let started = Instant::now();
    let (stream, stderr) = setup.ok(dir, &["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v1", "--json"]);
    eprintln!("first deploy (build, push, create stack): {:?}", started.elapsed());
    assert!(stderr.contains("[frontend] STEP 1/"), "engine output is prefixed per service:\n{stderr}");
    let events = events(&stream);
    let pushed = events.iter().find(|e| e["event"] == "image_pushed").expect("an image_pushed event");
    let digest = pushed["digest"].as_str().expect("digest").to_string();
    let registry_digest =
        setup.registry.manifest_digest("chat/frontend", "v1").expect("the registry has chat/frontend:v1");
    assert_eq!(registry_digest, digest);
    assert_eq!(setup.registry.manifest_digest("chat/frontend", &sha).as_deref(), Some(digest.as_str()), "git SHA tag");
    let pinned = format!("{}/chat/frontend@{registry_digest}", setup.registry.address());
    let (image, first_change) = deployed(&aws).await;
    assert_eq!(image, pinned);
    assert_eq!(task_definition_image(&aws).await, pinned);
    assert!(events.iter().any(|e| e["event"] == "stack_finished" && e["outcome"] == "created"), "{stream}");
    // The repository is the app's StackSet's (ferry never makes one itself).
    let repos = aws.ecr().describe_repositories().repository_names("chat/frontend").send().await.expect("repository");
    assert_eq!(repos.repositories().len(), 1);
    let cfn = aws.cloudformation();
    let instances = cfn.list_stack_instances().stack_set_name("chat-infrastructure").send().await.expect("instances");
    let stack = instances.summaries()[0].stack_id().expect("instance stack").to_string();
    let held = cfn.describe_stack_resource().stack_name(stack).logical_resource_id("ECRRepoFrontend").send().await;
    assert!(
        held.is_ok_and(|r| r.stack_resource_detail().and_then(|d| d.physical_resource_id()) == Some("chat/frontend"))
    );

    // 3. Unchanged tree: every step from the engine's cache, the same digest, no stack change.
    let started = Instant::now();
    let (stream, stderr) = setup.ok(dir, &["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v1", "--json"]);
    let elapsed = started.elapsed();
    eprintln!("unchanged redeploy (build from cache, push, no-op stack): {elapsed:?}");
    let steps = stderr.lines().filter(|l| l.starts_with("[frontend] STEP ") && !l.contains(": FROM ")).count();
    let cached = stderr.matches("Using cache").count();
    assert!(steps > 0 && cached == steps, "{cached} of {steps} steps came from the cache:\n{stderr}");
    let events_again = self::events(&stream);
    let pushed = events_again.iter().find(|e| e["event"] == "image_pushed").expect("an image_pushed event");
    assert_eq!(pushed["digest"], digest.as_str());
    let finished: Vec<&Value> = events_again.iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["outcome"], "up to date", "{stream}");
    let calls = events_again.iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls");
    assert_eq!(calls["mutating"], 0, "an unchanged redeploy mutated: {calls}");
    assert_eq!(deployed(&aws).await, (pinned.clone(), first_change.clone()));

    // 2. Failures leave the deployed stack alone. A content change first, so
    // that a deploy which got through would change the stack.
    edit(dir, "frontend/www/index.html", "<", "<!-- v2 -->\n<");

    let stderr = setup.fails(dir, &[("PATH", tempfile::tempdir().unwrap().path().display().to_string())]);
    assert!(
        stderr.contains("no container engine to build images with; tried docker (not on PATH), podman (not on PATH), buildah (not on PATH)"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: install docker"), "{stderr}");
    assert_eq!(deployed(&aws).await, (pinned.clone(), first_change.clone()));

    let stderr = setup.fails(dir, &[("FERRY_ECR_REGISTRY", format!("127.0.0.1:{}", free_port()))]);
    assert!(stderr.contains("cannot reach the registry 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("connection refused"), "the engine's own words:\n{stderr}");
    assert!(stderr.contains("FERRY_ECR_REGISTRY is set"), "{stderr}");
    assert_eq!(deployed(&aws).await, (pinned.clone(), first_change.clone()));

    let other = Registry::start("a-different-token");
    let stderr = setup.fails(dir, &[("FERRY_ECR_REGISTRY", other.address())]);
    assert!(stderr.contains("refused ECR's authorization token"), "{stderr}");
    assert!(stderr.contains("the token is expired or invalid"), "{stderr}");
    assert_eq!(deployed(&aws).await, (pinned.clone(), first_change.clone()));

    edit(
        dir,
        "frontend/Dockerfile",
        "COPY www /www",
        "COPY www /www\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo ferry-test: the build broke >&2; exit 7\"]",
    );
    let stderr = setup.fails(dir, &[]);
    assert!(stderr.contains("image build of `frontend` failed"), "{stderr}");
    assert!(stderr.contains("  | ferry-test: the build broke"), "the build's own error lines:\n{stderr}");
    assert!(stderr.contains("frontend/Dockerfile"), "{stderr}");
    assert_eq!(deployed(&aws).await, (pinned, first_change));
    assert_eq!(setup.registry.manifest_digest("chat/frontend", "v2"), None, "nothing was pushed");
}

/// Bad `--tag`s and `image.build` values ferry cannot build from are
/// reported before anything is built, the latter at their manifest line.
#[test]
fn a_missing_dockerfile_is_reported_at_the_manifest_line() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    let run = |args: &[&str]| {
        let mut cmd = ferry(dir);
        cmd.envs(moto.env()).env("CI", "true").args(args);
        cmd.output().expect("run ferry")
    };
    assert!(run(&["app", "init"]).status.success());
    assert!(run(&["env", "deploy", "-n", "test"]).status.success());
    let output = run(&["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v1:bad"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--tag `v1:bad` is not a valid image tag"), "{stderr}");
    let output = run(&["svc", "deploy", "-n", "frontend", "-e", "test", "--no-build"]);
    assert!(!output.status.success(), "--no-build needs --tag");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tag"));

    edit(dir, "copilot/frontend/manifest.yml", "build: frontend/Dockerfile", "build: web/Dockerfile");
    let output = run(&["svc", "deploy", "-n", "frontend", "-e", "test"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("copilot/frontend/manifest.yml:13:"), "{stderr}");
    assert!(stderr.contains("web/Dockerfile does not exist"), "{stderr}");
    assert!(stderr.contains("relative to the workspace root"), "{stderr}");
}

/// `ferry deploy` builds both services of examples/chat with buildah (named
/// by FERRY_BUILDER; one build at a time in the shared store, pushes
/// concurrently), each line prefixed with its service, and deploys each
/// pinned to the digest the registry holds.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_builds_and_pushes_every_service_with_buildah() {
    let (setup, aws, ws) = Setup::start().await;
    let dir = ws.path();
    for svc in ["frontend", "api"] {
        std::fs::copy("/bin/busybox", dir.join(svc).join("busybox")).expect("busybox-static is installed");
    }
    setup.ok(dir, &["app", "init"]);
    setup.ok(dir, &["env", "deploy", "-n", "test"]);
    let mut secret = ferry(dir);
    secret.envs(setup.moto.env()).env("CI", "true").args(["secret", "init", "-n", "DB_PASSWORD", "-e", "test"]);
    assert!(secret.write_stdin("pw\n").output().unwrap().status.success());

    let (ok, stream, stderr) =
        setup.ferry(dir, &["deploy", "-e", "test", "--tag", "v1", "--json"], &[("FERRY_BUILDER", "buildah".into())]);
    assert!(ok, "stdout:\n{stream}\nstderr:\n{stderr}\nregistry log:\n{}", setup.registry.log());
    assert!(stderr.contains("with buildah"), "{stderr}");
    assert!(stderr.contains("tagged v1"), "{stderr}");
    let events = events(&stream);
    for svc in ["frontend", "api"] {
        assert!(stderr.contains(&format!("[{svc}] STEP 1/")), "{svc}'s build output is prefixed:\n{stderr}");
        let pushed = events
            .iter()
            .find(|e| e["event"] == "image_pushed" && e["workload"] == svc)
            .unwrap_or_else(|| panic!("{svc} was pushed: {stream}"));
        let digest = setup.registry.manifest_digest(&format!("chat/{svc}"), "v1").expect("pushed tag");
        assert_eq!(pushed["digest"], digest.as_str());
        let out = aws
            .cloudformation()
            .describe_stacks()
            .stack_name(format!("chat-test-{svc}"))
            .send()
            .await
            .expect("DescribeStacks");
        let image = out.stacks()[0]
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some("ContainerImage"))
            .and_then(|p| p.parameter_value())
            .unwrap_or_default()
            .to_string();
        assert_eq!(image, format!("{}/chat/{svc}@{digest}", setup.registry.address()));
    }
    // The job names its image (`image.location`): deployed as written, nothing built.
    assert!(!events.iter().any(|e| e["event"] == "image_pushed" && e["workload"] == "report"), "{stream}");

    // Again, unchanged: both builds entirely from the cache (they share
    // their first steps), same digests, no stack change.
    let started = Instant::now();
    let (ok, stream, stderr) =
        setup.ferry(dir, &["deploy", "-e", "test", "--tag", "v1", "--json"], &[("FERRY_BUILDER", "buildah".into())]);
    eprintln!("unchanged `ferry deploy` of env + 2 built services + 1 job: {:?}", started.elapsed());
    assert!(ok, "stdout:\n{stream}\nstderr:\n{stderr}");
    let steps = stderr.lines().filter(|l| l.contains("] STEP ") && !l.contains(": FROM ")).count();
    let cached = stderr.matches("Using cache").count();
    assert!(steps == 10 && cached == steps, "{cached} of {steps} steps came from the cache:\n{stderr}");
    let again = self::events(&stream);
    let finished: Vec<&Value> = again.iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(finished.len(), 4, "{stream}");
    assert!(finished.iter().all(|e| e["outcome"] == "up to date"), "{stream}");
    let calls = again.iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls");
    assert_eq!(calls["mutating"], 0, "an unchanged redeploy mutated: {calls}");
}

/// A sidecar with `image.build` is built and pushed to the workload's
/// repository under Copilot's `<sidecar>-<tag>` tags, and its container in
/// the deployed task definition runs that image pinned by digest.
#[tokio::test(flavor = "multi_thread")]
async fn sidecar_images_are_built_pushed_and_pinned() {
    let (setup, aws, ws) = Setup::start().await;
    let dir = ws.path();
    std::fs::copy("/bin/busybox", dir.join("frontend/busybox")).expect("busybox-static is installed");
    let manifest = dir.join("copilot/frontend/manifest.yml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\nsidecars:\n  proxy:\n    port: 9090\n    image:\n      build:\n        dockerfile: frontend/Dockerfile\n        context: frontend\n"),
    )
    .unwrap();
    setup.ok(dir, &["app", "init"]);
    setup.ok(dir, &["env", "deploy", "-n", "test"]);
    let (stream, stderr) = setup.ok(dir, &["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v1", "--json"]);
    assert!(stderr.contains("[frontend/proxy] STEP 1/"), "the sidecar's build output is prefixed:\n{stderr}");
    let digest = setup.registry.manifest_digest("chat/frontend", "proxy-v1").expect("the sidecar's tag was pushed");
    let pushed = events(&stream)
        .into_iter()
        .find(|e| e["event"] == "image_pushed" && e["sidecar"] == "proxy")
        .unwrap_or_else(|| panic!("the sidecar was pushed: {stream}"));
    assert_eq!(pushed["digest"], digest.as_str());
    assert!(setup.registry.manifest_digest("chat/frontend", "v1").is_some(), "the main image too");

    let resources =
        aws.cloudformation().list_stack_resources().stack_name(STACK).send().await.expect("ListStackResources");
    let arn = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.resource_type() == Some("AWS::ECS::TaskDefinition"))
        .and_then(|r| r.physical_resource_id())
        .expect("a task definition")
        .to_string();
    let td = aws.ecs().describe_task_definition().task_definition(&arn).send().await.expect("DescribeTaskDefinition");
    let containers = td.task_definition().expect("task definition").container_definitions();
    let proxy = containers.iter().find(|c| c.name() == Some("proxy")).expect("the proxy container");
    assert_eq!(proxy.image(), Some(format!("{}/chat/frontend@{digest}", setup.registry.address()).as_str()));
}

/// `svc package --tag --registry` names a built sidecar's image as deploy
/// pushes it, `<registry>/<app>/<svc>:<sidecar>-<tag>`, offline.
#[test]
fn package_names_sidecar_images_by_tag() {
    let ws = example_copy("chat");
    let dir = ws.path();
    let manifest = dir.join("copilot/frontend/manifest.yml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\nsidecars:\n  proxy:\n    image:\n      build: frontend/Dockerfile\n"))
        .unwrap();
    let registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
    let out = ferry(dir)
        .args(["svc", "package", "-n", "frontend", "-e", "test", "--tag", "v7", "--registry", registry])
        .assert()
        .success();
    let template: Value = serde_json::from_slice(&out.get_output().stdout).expect("template JSON");
    let containers = &template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    let proxy = containers.as_array().unwrap().iter().find(|c| c["Name"] == "proxy").expect("proxy container");
    assert_eq!(proxy["Image"], format!("{registry}/chat/frontend:proxy-v7").as_str());
}

/// `task run --dockerfile` through the binary: the image is built with the
/// engine ferry finds, pushed (`latest` and `--tag`) to the group's ECR
/// repository `copilot-<group>` the task stack made, and the task
/// definition runs it pinned by digest (`--build-args` reach the build);
/// a missing Dockerfile is refused
/// before anything is deployed.
#[tokio::test(flavor = "multi_thread")]
async fn task_run_builds_its_dockerfile_and_runs_the_pushed_digest() {
    let (setup, aws, _chat) = Setup::start().await;
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("jobs/busybox")).expect("busybox-static is installed");
    std::fs::write(
        dir.join("jobs/Dockerfile.seed"),
        "FROM scratch\nARG SEED_FILE\nCOPY ${SEED_FILE} /bin/busybox\nCMD [\"/bin/busybox\", \"echo\", \"seeded\"]\n",
    )
    .unwrap();

    let (ok, _, stderr) =
        setup.ferry(dir, &["task", "run", "-n", "seed", "--default", "--dockerfile", "nope/Dockerfile"], &[]);
    assert!(!ok && stderr.contains("there is no Dockerfile at") && stderr.contains("--image"), "{stderr}");
    let none = aws.cloudformation().describe_stacks().stack_name("task-seed").send().await;
    assert!(none.is_err(), "nothing is deployed for a missing Dockerfile");

    aws.ecs().create_cluster().cluster_name("default").send().await.expect("the default cluster");
    let (stream, stderr) = setup.ok(
        dir,
        &[
            "task",
            "run",
            "-n",
            "seed",
            "--default",
            "--dockerfile",
            "jobs/Dockerfile.seed",
            "--build-args",
            "SEED_FILE=busybox",
            "--tag",
            "v7",
            "--json",
        ],
    );
    assert!(stderr.contains("[seed] STEP 1/"), "the engine's build output, prefixed by the group:\n{stderr}");
    let digest = setup.registry.manifest_digest("copilot-seed", "latest").expect("copilot-seed:latest was pushed");
    assert_eq!(setup.registry.manifest_digest("copilot-seed", "v7").as_deref(), Some(digest.as_str()), "--tag");
    let pinned = format!("{}/copilot-seed@{digest}", setup.registry.address());

    let out = aws.cloudformation().describe_stacks().stack_name("task-seed").send().await.expect("the task stack");
    let image = out.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("ContainerImage"))
        .and_then(|p| p.parameter_value())
        .map(str::to_string);
    assert_eq!(image.as_deref(), Some(pinned.as_str()));
    let td = aws.ecs().describe_task_definition().task_definition("copilot-seed").send().await.expect("definition");
    let container = &td.task_definition().unwrap().container_definitions()[0];
    assert_eq!(container.image(), Some(pinned.as_str()), "the task runs the pushed digest");
    // The repository is the one the task stack made, Copilot's name.
    let repos = aws.ecr().describe_repositories().repository_names("copilot-seed").send().await.expect("repository");
    assert_eq!(repos.repositories().len(), 1);
    let started: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "task_started").collect();
    assert_eq!(started.len(), 1, "{stream}");
}
