//! A plugin author's path, end to end through the binary: `plugin new` →
//! `plugin build` → `plugin install` → `svc package` → cfn-lint; and the
//! refusals that keep installing a plugin safe.

use crate::common;

use common::{ferry, workspace_root};
use ferry_tests::fixtures;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TYPE: &str = "Queue Processor";

/// The scaffolded plugin, built once per test binary: (crate dir, component).
fn scaffolded() -> (&'static Path, &'static Path) {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    let (_, dir, wasm) = BUILT.get_or_init(|| {
        let started = Instant::now();
        let tmp = tempfile::tempdir().expect("tempdir");
        ferry(tmp.path()).args(["plugin", "new", "queue-processor", "--kind", "service"]).assert().success();
        let dir = tmp.path().join("queue-processor");
        for file in ["Cargo.toml", "src/lib.rs", "src/template.yml", "tests/render.rs", "README.md"] {
            assert!(dir.join(file).is_file(), "plugin new did not write {file}");
        }
        let cargo_toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo_toml.contains("ferry-plugin-sdk = { path = "), "in a checkout the SDK is a path dependency");
        let output = build(&dir).output().unwrap();
        assert!(output.status.success(), "plugin build failed:\n{}", String::from_utf8_lossy(&output.stderr));
        let built: Value = serde_json::from_slice(&output.stdout).expect("build --json");
        assert_eq!(built["name"], "queue-processor");
        assert_eq!(built["kind"], "service");
        assert_eq!(built["manifestTypes"], serde_json::json!([TYPE]));
        assert_eq!(built["witVersion"], "0.4.0", "new plugins target the newest ABI");
        let wasm = PathBuf::from(built["path"].as_str().unwrap());
        let size = built["sizeBytes"].as_u64().unwrap();
        assert_eq!(std::fs::metadata(&wasm).unwrap().len(), size);
        eprintln!("plugin new + build: {:.1?}, component {size} bytes", started.elapsed());
        (tmp, dir, wasm)
    });
    // The temp dir lives in the static, so the paths outlive every test.
    (dir.as_path(), wasm.as_path())
}

/// `ferry plugin build --offline --json`, sharing one target directory
/// across runs so only the plugin crate itself compiles on a warm machine.
fn build(dir: &Path) -> assert_cmd::Command {
    let mut cmd = ferry(dir);
    cmd.args(["plugin", "build", "--offline", "--json"])
        .env("CARGO_TARGET_DIR", workspace_root().join("target/scaffold-plugins"))
        .timeout(Duration::from_secs(900));
    cmd
}

/// A project with a `test` environment (from the chat example).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copilot = dir.path().join("copilot");
    std::fs::create_dir_all(copilot.join("environments/test")).unwrap();
    std::fs::write(copilot.join(".workspace"), "application: demo\n").unwrap();
    std::fs::copy(
        workspace_root().join("examples/chat/copilot/environments/test/manifest.yml"),
        copilot.join("environments/test/manifest.yml"),
    )
    .unwrap();
    dir
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn install(project: &Path, source: &str, extra: &[&str]) -> std::process::Output {
    ferry(project).args(["plugin", "install", source]).args(extra).output().unwrap()
}

/// One test for everything that needs the scaffolded plugin: nextest runs
/// each test in its own process, and building the crate is the slow part.
#[test]
fn scaffolded_plugin_new_build_install_package_and_refusals() {
    let started = Instant::now();
    let (_, wasm) = scaffolded();
    new_build_install_init_package_passes_cfn_lint(wasm);
    eprintln!("plugin new → first successful package (incl. cfn-lint): {:.1?}", started.elapsed());
    a_tampered_plugin_is_refused_at_every_load(wasm);
    install_over_http_from_loopback_checks_the_published_digest(wasm);
}

fn new_build_install_init_package_passes_cfn_lint(wasm: &Path) {
    let started = Instant::now();
    let project = project();
    let root = project.path();
    let output = install(root, wasm.to_str().unwrap(), &["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let installed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(installed["path"], "copilot/plugins/queue-processor.wasm");

    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap()).unwrap();
    let entry = &lock["plugins"][0];
    assert_eq!(entry["name"], "queue-processor");
    assert_eq!(entry["sha256"], installed["sha256"]);
    assert_eq!(entry["path"], "plugins/queue-processor.wasm");

    ferry(root).args(["svc", "init", "--type", TYPE, "--name", "orders"]).assert().success();
    let manifest = std::fs::read_to_string(root.join("copilot/orders/manifest.yml")).unwrap();
    assert!(manifest.contains("type: Queue Processor") && manifest.contains("name: orders"), "{manifest}");

    let out_dir = root.join("out");
    let output = ferry(root)
        .args(["svc", "package", "--name", "orders", "--env", "test", "--output-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stack = out_dir.join("orders-test.stack.json");
    let text = std::fs::read_to_string(&stack).unwrap_or_else(|e| panic!("{}: {e}", stack.display()));
    assert!(text.contains("AWS::SQS::Queue"), "{text}");
    ferry_test_support::cfn_lint_files(&[stack]).expect("cfn-lint clean");
    eprintln!("install + init + package + lint: {:.1?}", started.elapsed());

    // plugin ls shows it as installed, with where it came from and its digest.
    let ls = ferry(root).args(["plugin", "ls", "--json"]).output().unwrap();
    let plugins: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let mine = plugins.as_array().unwrap().iter().find(|p| p["name"] == "queue-processor").expect("listed");
    assert_eq!(mine["bundled"], false);
    assert_eq!(mine["sha256"], installed["sha256"]);
    assert_eq!(mine["source"], wasm.canonicalize().unwrap().display().to_string());
    assert_eq!(mine["witVersion"], "0.4.0");

    // Remove: gone from the lock and the directory, and the type with it.
    ferry(root).args(["plugin", "remove", "queue-processor"]).assert().success();
    assert!(!root.join("copilot/plugins/queue-processor.wasm").exists());
    let output = ferry(root).args(["svc", "package", "--name", "orders", "--env", "test"]).output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("unknown manifest type `Queue Processor`"), "{}", stderr(&output));
    let output = ferry(root).args(["plugin", "remove", "queue-processor"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("no plugin named `queue-processor` is installed"), "{}", stderr(&output));
}

fn a_tampered_plugin_is_refused_at_every_load(wasm: &Path) {
    let project = project();
    let root = project.path();
    assert!(install(root, wasm.to_str().unwrap(), &[]).status.success());
    let installed = root.join("copilot/plugins/queue-processor.wasm");
    let mut bytes = std::fs::read(&installed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&installed, &bytes).unwrap();
    for args in [&["plugin", "ls"][..], &["env", "package", "--name", "test"][..]] {
        let output = ferry(root).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?} must refuse");
        let message = stderr(&output);
        assert!(
            message.contains("refusing to load plugin `queue-processor`")
                && message.contains("copilot/plugins.lock pins")
                && message.contains("ferry plugin install"),
            "{message}"
        );
    }
}

fn install_over_http_from_loopback_checks_the_published_digest(wasm: &Path) {
    let bytes = std::fs::read(wasm).unwrap();
    let digest = {
        let output = install(project().path(), wasm.to_str().unwrap(), &["--json"]);
        let v: Value = serde_json::from_slice(&output.stdout).unwrap();
        v["sha256"].as_str().unwrap().to_string()
    };
    let (url, server) = serve_once_then_redirect(bytes);
    let project = project();
    let wrong = "0".repeat(64);
    let output = install(project.path(), &url, &["--sha256", &wrong]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(&format!("its sha256 is {digest}")), "{}", stderr(&output));
    assert!(!project.path().join("copilot/plugins.lock").exists(), "nothing written on refusal");
    let output = install(project.path(), &url, &["--sha256", &digest]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = std::fs::read_to_string(project.path().join("copilot/plugins.lock")).unwrap();
    assert!(lock.contains(&url) && lock.contains(&digest), "{lock}");
    drop(server);

    let output = install(project.path(), "oci://ghcr.io/acme/queue-processor:1.0", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("OCI registries are not supported yet"), "{}", stderr(&output));
}

/// A loopback HTTP server: `/old.wasm` redirects to `/plugin.wasm`, which is
/// served chunked. Serves until dropped.
fn serve_once_then_redirect(body: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let request = String::from_utf8_lossy(&request);
            if request.starts_with("GET /old.wasm ") {
                let _ = stream.write_all(
                    b"HTTP/1.1 302 Found\r\nLocation: /plugin.wasm\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            } else if request.starts_with("GET /plugin.wasm ") {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                for chunk in body.chunks(10_000) {
                    let _ = write!(stream, "{:x}\r\n", chunk.len());
                    let _ = stream.write_all(chunk);
                    let _ = stream.write_all(b"\r\n");
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            } else {
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    (format!("http://127.0.0.1:{port}/old.wasm"), handle)
}

#[test]
fn a_type_already_claimed_is_refused_unless_the_workspace_overrides_it() {
    let project = project();
    let root = project.path();
    // The bundled environment plugin, as if someone republished it.
    let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("-environment")).unwrap();
    let copy = root.join("my-environment.wasm");
    std::fs::write(&copy, env.wasm.bytes()).unwrap();
    let output = install(root, copy.to_str().unwrap(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("claims manifest type `Environment`")
            && message.contains("bundled plugin `environment`")
            && message.contains("--override-bundled"),
        "{message}"
    );
    assert!(!root.join("copilot/plugins.lock").exists());

    let output = install(root, copy.to_str().unwrap(), &["--override-bundled"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap();
    assert!(lock.contains("\"overrideBundled\": true"), "{lock}");
    // The override routes: the environment still packages.
    ferry(root).args(["env", "package", "--name", "test"]).assert().success();
    let ls = ferry(root).args(["plugin", "ls"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("(overrides bundled)"));

    // Without the flag in the lock, the same files are a clash naming both.
    std::fs::write(
        root.join("copilot/plugins.lock"),
        lock.replace("\"overrideBundled\": true,\n", "").replace(",\n      \"overrideBundled\": true", ""),
    )
    .unwrap();
    let output = ferry(root).args(["env", "package", "--name", "test"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("both claim manifest type `Environment`") && message.contains("(bundled)"), "{message}");
}

#[test]
fn a_component_exporting_another_world_is_refused() {
    let project = project();
    let output = install(project.path(), fixtures::WRONG_WORLD, &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("is not a ferry plugin") && message.contains("acme:widgets/render@1.0.0"), "{message}");
    assert!(!project.path().join("copilot/plugins").exists());
}

#[test]
fn a_plugin_for_another_abi_major_is_refused() {
    let project = project();
    let output = install(project.path(), fixtures::WIT_MAJOR, &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("plugin API 9.0.0") && message.contains("0.1.x, 0.2.x"), "{message}");
}

#[test]
fn a_plugin_built_for_the_previous_abi_installs_and_packages() {
    let project = project();
    let root = project.path();
    let output = install(root, fixtures::WIT_PREVIOUS, &["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let installed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(installed["witVersion"], "0.1.0");
    std::fs::create_dir_all(root.join("copilot/legacy")).unwrap();
    std::fs::write(root.join("copilot/legacy/manifest.yml"), "name: legacy\ntype: Legacy Queue\n").unwrap();
    let output = ferry(root).args(["svc", "package", "--name", "legacy", "--env", "test"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("AWS::SQS::Queue"));
}

#[test]
fn plugin_new_refuses_bad_names_and_existing_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let output = ferry(tmp.path()).args(["plugin", "new", "Queue_Processor"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not a valid plugin name"), "{}", stderr(&output));
    std::fs::create_dir_all(tmp.path().join("taken")).unwrap();
    std::fs::write(tmp.path().join("taken/file"), "x").unwrap();
    let output = ferry(tmp.path()).args(["plugin", "new", "taken"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("already exists and is not empty"), "{}", stderr(&output));
    // Outside a checkout (explicit bogus SDK path) the error says where it looked.
    let output = ferry(tmp.path()).args(["plugin", "new", "fresh", "--sdk-path", "/nonexistent"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("no ferry-plugin-sdk there"), "{}", stderr(&output));
}

/// examples/custom-plugin: a company's own `Lambda Function` type, built from
/// the example crate, installed into a copy of the example workspace and
/// packaged (with its `environments.test` override) into a cfn-lint-clean stack.
#[test]
fn the_custom_plugin_example_builds_installs_and_packages() {
    let example = workspace_root().join("examples/custom-plugin");
    let output = build(&example.join("lambda-function")).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let built: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(built["manifestTypes"], serde_json::json!(["Lambda Function"]));
    let project = common::example_copy("custom-plugin");
    let root = project.path();
    let output = install(root, built["path"].as_str().unwrap(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let inspect = ferry(root).args(["plugin", "inspect", "lambda-function", "--json"]).output().unwrap();
    let info: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert!(info["documentation"].as_str().is_some_and(|u| u.starts_with("https://")), "ABI 0.2 field: {info}");

    let out_dir = root.join("out");
    let output = ferry(root)
        .args(["svc", "package", "--name", "thumbnailer", "--env", "test", "--output-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stack_path = out_dir.join("thumbnailer-test.stack.json");
    let stack: Value = serde_json::from_str(&std::fs::read_to_string(&stack_path).unwrap()).unwrap();
    let function = &stack["Resources"]["Function"];
    assert_eq!(function["Type"], "AWS::Lambda::Function");
    assert_eq!(function["Properties"]["MemorySize"], 256, "the environments.test override applies");
    assert_eq!(stack["Resources"]["Schedule"]["Properties"]["ScheduleExpression"], "rate(5 minutes)");
    ferry_test_support::cfn_lint_files(&[stack_path]).expect("cfn-lint clean");

    deploy_on_moto(root);

    // A bad value is reported at its manifest line by the plugin's own check.
    common::edit(root, "copilot/thumbnailer/manifest.yml", "runtime: python3.12", "runtime: java21");
    let output = ferry(root).args(["svc", "package", "--name", "thumbnailer", "--env", "test"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("`java21` cannot run inline code") && message.contains("manifest.yml:"), "{message}");
}

/// The example's custom type deploys like any bundled one: app, environment,
/// then the `thumbnailer` stack with its function, schedule and log group,
/// recorded as a workload of the app; a redeploy changes nothing.
fn deploy_on_moto(root: &Path) {
    let moto = ferry_test_support::Moto::start();
    let run = |args: &[&str]| {
        let output = ferry(root).envs(moto.env()).env("CI", "true").args(args).output().unwrap();
        assert!(output.status.success(), "ferry {}: {}", args.join(" "), stderr(&output));
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    run(&["app", "init"]);
    run(&["env", "deploy", "-n", "test"]);
    let stream = run(&["svc", "deploy", "-n", "thumbnailer", "-e", "test", "--json"]);
    assert!(stream.contains(r#""outcome":"created""#), "{stream}");
    let show: Value = serde_json::from_str(&run(&["svc", "show", "-n", "thumbnailer", "--json"])).unwrap();
    assert_eq!(show["type"], "Lambda Function", "{show}");
    assert_eq!(show["deployments"][0]["status"], "CREATE_COMPLETE", "{show}");
    let arn = show["deployments"][0]["outputs"]["FunctionArn"].as_str().unwrap_or_default();
    assert!(arn.starts_with("arn:aws:lambda:us-west-2:123456789012:function:"), "{show}");

    moto.export_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let resources = runtime.block_on(async {
        let aws = ferry_aws::AwsContext::load(None).await;
        let out = aws.cloudformation().describe_stack_resources().stack_name("media-test-thumbnailer").send().await;
        out.unwrap()
            .stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.resource_type().unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    });
    for (id, kind) in [("Function", "AWS::Lambda::Function"), ("Schedule", "AWS::Events::Rule")] {
        assert!(resources.iter().any(|(i, k)| i == id && k == kind), "no {id} ({kind}) among {resources:?}");
    }
    let again = run(&["svc", "deploy", "-n", "thumbnailer", "-e", "test", "--json"]);
    assert!(again.contains(r#""outcome":"up to date""#), "{again}");
}
