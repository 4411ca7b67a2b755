//! Native plugins (a `cdylib` built with `export_native_plugin!`, loaded
//! with libloading): installed only with `--trust-native`, pinned in the
//! lock and trusted in the user's own store, loudly not sandboxed, and the
//! same interface as a component all the way to a cfn-lint-clean stack.
//! (How a repository cannot grant that trust: tests/trust.rs.)

use crate::common;

use common::workspace_root;
use ferry_tests::fixtures;
use serde_json::Value;
use std::path::Path;

/// A fresh user config directory (trust store, cache key) at `dir`.
fn user(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let key = dir.join("cache-key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// `ferry` in `dir` as the user of the project's `.user` config directory.
fn ferry(dir: &Path) -> assert_cmd::Command {
    let mut cmd = common::ferry(dir);
    let mut config = dir.to_path_buf();
    while !config.join(".user").is_dir() && config.pop() {}
    cmd.env("FERRY_CONFIG_DIR", config.join(".user"))
        .env("FERRY_CACHE_DIR", workspace_root().join("target/test-plugin-cache-trust"));
    cmd
}

/// A project with a `test` environment and a `jobs` service of type
/// `Native Queue`; its user's config directory is `<project>/.user`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    user(&dir.path().join(".user"));
    let copilot = dir.path().join("copilot");
    std::fs::create_dir_all(copilot.join("environments/test")).unwrap();
    std::fs::create_dir_all(copilot.join("jobs")).unwrap();
    std::fs::write(copilot.join(".workspace"), "application: demo\n").unwrap();
    std::fs::copy(
        workspace_root().join("examples/chat/copilot/environments/test/manifest.yml"),
        copilot.join("environments/test/manifest.yml"),
    )
    .unwrap();
    std::fs::write(copilot.join("jobs/manifest.yml"), "name: jobs\ntype: Native Queue\n\nvisibility_timeout: 60\n")
        .unwrap();
    dir
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn install(root: &Path, extra: &[&str]) -> std::process::Output {
    ferry(root).args(["plugin", "install", fixtures::NATIVE_SAMPLE]).args(extra).output().unwrap()
}

fn package(root: &Path) -> std::process::Output {
    ferry(root)
        .args(["svc", "package", "--name", "jobs", "--env", "test", "--output-dir"])
        .arg(root.join("out"))
        .output()
        .unwrap()
}

const WARNING: &str = "native plugins are NOT sandboxed";

#[test]
fn a_trusted_native_plugin_installs_lists_and_packages_a_clean_stack() {
    let project = project();
    let root = project.path();
    let output = install(root, &["--trust-native", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let installed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(installed["name"], "native-sample");
    assert_eq!(installed["native"], true);
    let extension = std::env::consts::DLL_EXTENSION;
    assert_eq!(installed["path"], format!("copilot/plugins/native-sample.{extension}"));
    assert_eq!(stderr(&output).matches(WARNING).count(), 1, "{}", stderr(&output));

    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap()).unwrap();
    let entry = &lock["plugins"][0];
    assert_eq!((entry["native"].clone(), entry["trusted"].clone()), (Value::Bool(true), Value::Bool(true)));
    assert_eq!(entry["sha256"], installed["sha256"]);
    assert_eq!(entry["witVersion"], "native-1");

    let output = package(root);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output).matches(WARNING).count(), 1, "warned once per command: {}", stderr(&output));
    let stack = root.join("out/jobs-test.stack.json");
    let template: Value = serde_json::from_str(&std::fs::read_to_string(&stack).unwrap()).unwrap();
    assert_eq!(template["Resources"]["Queue"]["Properties"]["VisibilityTimeout"], 60);
    assert_eq!(template["Resources"]["DeadLetterQueue"]["Type"], "AWS::SQS::Queue");
    ferry_test_support::cfn_lint_files(&[stack]).expect("cfn-lint clean");

    let ls = ferry(root).args(["plugin", "ls", "--json"]).output().unwrap();
    let plugins: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let mine = plugins.as_array().unwrap().iter().find(|p| p["name"] == "native-sample").expect("listed");
    assert_eq!((mine["native"].clone(), mine["bundled"].clone()), (Value::Bool(true), Value::Bool(false)));
    assert_eq!(mine["sha256"], installed["sha256"]);
    let ls = ferry(root).args(["plugin", "ls"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("(native, not sandboxed)"));

    // A bad value is the plugin's diagnostic at its manifest line, like a component's.
    common::edit(root, "copilot/jobs/manifest.yml", "visibility_timeout: 60", "visibility_timeout: 99999");
    let output = package(root);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("99999 seconds is outside 0 to 43200") && message.contains("manifest.yml:4"), "{message}");

    // A panic inside the library is caught at the ABI: an error naming the plugin, not an abort.
    common::edit(root, "copilot/jobs/manifest.yml", "visibility_timeout: 99999", "panic: true");
    let output = package(root);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message
            .contains("native plugin `native-sample` failed in `render`: panicked: native-sample was asked to panic"),
        "{message}"
    );
}

#[test]
fn a_native_library_without_trust_native_is_refused() {
    let project = project();
    let root = project.path();
    let output = install(root, &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("it is a native library")
            && message.contains("not sandboxed")
            && message.contains("--trust-native"),
        "{message}"
    );
    assert!(!root.join("copilot/plugins.lock").exists(), "nothing written on refusal");
    assert!(!message.contains(WARNING), "an untrusted library is never loaded: {message}");

    // The flag means nothing for a component, so it is refused there too.
    let output = ferry(root).args(["plugin", "install", fixtures::WIT_PREVIOUS, "--trust-native"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not a native library"), "{}", stderr(&output));
}

#[test]
fn a_library_this_user_has_not_trusted_or_that_changed_is_refused() {
    let project = project();
    let root = project.path();
    assert!(install(root, &["--trust-native"]).status.success());
    let lock_path = root.join("copilot/plugins.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let store = root.join(".user/trusted-native.json");
    let trusted = std::fs::read_to_string(&store).unwrap();

    // The user withdraws their trust: the lock's own `trusted: true` does not count.
    assert!(lock.contains("\"trusted\": true"), "{lock}");
    let output = ferry(root).args(["plugin", "untrust", "native-sample"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let output = package(root);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("refusing to load native plugin `native-sample`")
            && message.contains("you have not trusted it")
            && message.contains("not sandboxed")
            && message.contains("ferry plugin trust native-sample"),
        "{message}"
    );
    assert!(!message.contains(WARNING), "refused before loading: {message}");

    // Passed off as a component in the lock: the bytes decide, still refused.
    let as_component = lock.replace(",\n      \"native\": true,\n      \"trusted\": true", "");
    assert!(!as_component.contains("native\""), "{as_component}");
    std::fs::write(&lock_path, as_component).unwrap();
    let output = package(root);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("you have not trusted it"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(WARNING), "{}", stderr(&output));

    // Trusted, but the library changed since it was pinned.
    std::fs::write(&lock_path, &lock).unwrap();
    std::fs::write(&store, &trusted).unwrap();
    assert!(package(root).status.success(), "trusted again");
    let library = root.join(format!("copilot/plugins/native-sample.{}", std::env::consts::DLL_EXTENSION));
    let mut bytes = std::fs::read(&library).unwrap();
    bytes.push(0);
    std::fs::write(&library, bytes).unwrap();
    let output = package(root);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("refusing to load plugin `native-sample`") && message.contains("copilot/plugins.lock pins"),
        "{message}"
    );
    assert!(!message.contains(WARNING), "refused before loading: {message}");
}

/// A native plugin's answers pass the same checks as a component's: asking
/// for a host step it never declared is refused, and its kind decides what
/// it may render (a service plugin is no environment's).
#[test]
fn a_native_plugin_is_checked_like_a_component() {
    let project = project();
    let root = project.path();
    assert!(install(root, &["--trust-native"]).status.success());

    common::edit(root, "copilot/jobs/manifest.yml", "visibility_timeout: 60", "undeclared_upload: true");
    let output = package(root);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("plugin `native-sample` returned malformed output")
            && message.contains("it asked for a `s3-upload` host step it did not declare in info() (declared: none)"),
        "{message}"
    );

    let env = "copilot/environments/test/manifest.yml";
    common::edit(root, env, "type: Environment", "type: Native Queue");
    let line = common::line_of(root, env, "type:");
    let output = ferry(root).args(["env", "package", "-n", "test"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("`Native Queue` is a service type, not an environment type"), "{message}");
    assert!(message.contains(&format!("{env}:{line}:1")), "{message}");
}
