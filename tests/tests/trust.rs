//! Trust boundaries, tried as an attacker would: a cloned repository cannot
//! make ferry run native code, a planted or swapped compile-cache entry is
//! never run, a plugin or a hand-edited lock cannot make ferry write or
//! delete outside `copilot/plugins/`, names follow Copilot's rule, and a
//! plugin's limits hold per call, not per part.

use crate::common;

use assert_cmd::Command;
use common::{ferry, workspace_root};
use ferry_tests::fixtures;
use serde_json::Value;
use std::path::{Path, PathBuf};

const WARNING: &str = "native plugins are NOT sandboxed";

/// One user of the machine: their own config directory (trust store and
/// compile-cache key). All test users share one fixed cache key, so they can
/// share one compile cache; the key is 0600 as ferry requires.
fn user() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cache-key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    dir
}

/// `ferry` in `dir` as the user whose config directory is `config`.
fn ferry_as(dir: &Path, config: &Path) -> Command {
    let mut cmd = ferry(dir);
    cmd.env("FERRY_CONFIG_DIR", config).env("FERRY_CACHE_DIR", workspace_root().join("target/test-plugin-cache-trust"));
    cmd
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A project with a `test` environment, an `api` Backend Service and a
/// `jobs` workload of the native fixture's type `Native Queue`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "copilot/.workspace", "application: demo\n");
    std::fs::create_dir_all(root.join("copilot/environments/test")).unwrap();
    std::fs::copy(
        workspace_root().join("examples/chat/copilot/environments/test/manifest.yml"),
        root.join("copilot/environments/test/manifest.yml"),
    )
    .unwrap();
    write(root, "copilot/api/manifest.yml", "name: api\ntype: Backend Service\nimage:\n  location: nginx:latest\n");
    write(root, "copilot/jobs/manifest.yml", "name: jobs\ntype: Native Queue\n\nvisibility_timeout: 60\n");
    dir
}

fn package(root: &Path, config: &Path, name: &str) -> std::process::Output {
    ferry_as(root, config)
        .args(["svc", "package", "--name", name, "--env", "test", "--output-dir"])
        .arg(root.join("out"))
        .output()
        .unwrap()
}

fn install_native(root: &Path, config: &Path) {
    let output =
        ferry_as(root, config).args(["plugin", "install", fixtures::NATIVE_SAMPLE, "--trust-native"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_cloned_lock_cannot_run_native_code_until_this_user_trusts_it() {
    let project = project();
    let root = project.path();
    let (alice, bob) = (user(), user());
    install_native(root, alice.path());
    let lock = std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap();
    assert!(lock.contains("\"trusted\": true"), "the lock says trusted, which alone must not be enough: {lock}");
    let trust_file = alice.path().join("trusted-native.json");
    let store: Value = serde_json::from_str(&std::fs::read_to_string(&trust_file).unwrap()).unwrap();
    assert_eq!(store["native"][0]["name"], "native-sample", "{store}");
    assert_eq!(
        PathBuf::from(store["native"][0]["workspace"].as_str().unwrap()),
        root.canonicalize().unwrap(),
        "{store}"
    );

    // Alice trusted it: it runs for her, saying so first.
    let output = package(root, alice.path(), "jobs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output).matches(WARNING).count(), 1, "{}", stderr(&output));

    // Bob has the same repository (lock `trusted: true` included) but never
    // trusted it. Listing and packaging a bundled type never open the library.
    let ls = ferry_as(root, bob.path()).args(["plugin", "ls"]).output().unwrap();
    assert!(ls.status.success(), "{}", stderr(&ls));
    assert!(!stderr(&ls).contains(WARNING), "plugin ls opened the library: {}", stderr(&ls));
    assert!(String::from_utf8_lossy(&ls.stdout).contains("NOT TRUSTED"), "{}", String::from_utf8_lossy(&ls.stdout));
    let ls = ferry_as(root, bob.path()).args(["plugin", "ls", "--json"]).output().unwrap();
    let plugins: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let native = plugins.as_array().unwrap().iter().find(|p| p["name"] == "native-sample").unwrap();
    assert_eq!((native["native"].clone(), native["trusted"].clone()), (Value::Bool(true), Value::Bool(false)));
    let output = package(root, bob.path(), "api");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains(WARNING), "a bundled type opened the library: {}", stderr(&output));

    // Routing to it is refused before anything is loaded.
    let output = package(root, bob.path(), "jobs");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("refusing to load native plugin `native-sample`")
            && message.contains("cannot grant that")
            && message.contains("ferry plugin trust native-sample"),
        "{message}"
    );
    assert!(!message.contains(WARNING), "refused before loading: {message}");

    // Bob approves it himself; then it runs for him, and stops when he withdraws.
    let output = ferry_as(root, bob.path()).args(["plugin", "trust", "native-sample"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(package(root, bob.path(), "jobs").status.success());
    let output = ferry_as(root, bob.path()).args(["plugin", "untrust", "native-sample"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(package(root, bob.path(), "jobs").status.code(), Some(1));

    // Alice's approval is for that checkout: a copy elsewhere is not trusted.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(root, copy.path());
    let output = package(copy.path(), alice.path(), "jobs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("you have not trusted it"), "{}", stderr(&output));

    // A library swapped in under the approved name is another digest: refused.
    let library = root.join(format!("copilot/plugins/native-sample.{}", std::env::consts::DLL_EXTENSION));
    let mut bytes = std::fs::read(&library).unwrap();
    bytes.extend_from_slice(b"tail");
    std::fs::write(&library, &bytes).unwrap();
    let output = ferry_as(root, alice.path()).args(["plugin", "trust", "native-sample"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("copilot/plugins.lock pins"), "{}", stderr(&output));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn a_workspace_others_can_write_is_refused_for_running_plugins() {
    use std::os::unix::fs::PermissionsExt;
    let project = project();
    let root = project.path();
    let alice = user();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = package(root, alice.path(), "api");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("refusing to load the plugins of the workspace")
            && message.contains("writable by everyone (mode 777)")
            && message.contains("chmod go-w"),
        "{message}"
    );
    // Also from a subdirectory, whose parent holds the planted `copilot/`.
    std::fs::create_dir_all(root.join("src/deep")).unwrap();
    let output = ferry_as(&root.join("src/deep"), alice.path()).args(["plugin", "ls"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = ferry_as(root, alice.path())
        .args(["plugin", "install", fixtures::NATIVE_SAMPLE, "--trust-native"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("writable by everyone"), "{}", stderr(&output));
    assert!(!root.join("copilot/plugins.lock").exists());
    // Group-writable `copilot/` is refused the same way.
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("copilot"), std::fs::Permissions::from_mode(0o775)).unwrap();
    let output = package(root, alice.path(), "api");
    assert!(stderr(&output).contains("writable by its group (mode 775)"), "{}", stderr(&output));
    std::fs::set_permissions(root.join("copilot"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(package(root, alice.path(), "api").status.success());
}

/// The cache entry of the plugin whose component has this sha256.
fn artifact(cache: &Path, sha256: &str) -> PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(sha256) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| panic!("no artifact for {sha256} in {}", cache.display()))
}

#[test]
fn a_swapped_compile_cache_entry_is_recompiled_not_run() {
    let project = project();
    let root = project.path();
    let alice = user();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("ferry-cache");
    let run =
        |args: &[&str]| ferry_as(root, alice.path()).env("FERRY_CACHE_DIR", &cache_dir).args(args).output().unwrap();
    // Bundled plugins never touch the cache (they are precompiled into the
    // binary): install copies of two, compiled and cached like any plugin.
    for name in ["worker-service", "backend-service"] {
        let bundled = ferry_bundled::BUNDLED.iter().find(|p| p.package == format!("ferry-plugin-{name}")).unwrap();
        let file = cache.path().join(format!("{name}.wasm"));
        std::fs::write(&file, bundled.wasm.bytes()).unwrap();
        let installed = run(&["plugin", "install", file.to_str().unwrap(), "--override-bundled"]);
        assert!(installed.status.success(), "{}", stderr(&installed));
    }
    let ls = run(&["plugin", "ls", "--json"]);
    assert!(ls.status.success(), "{}", stderr(&ls));
    let plugins: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let sha = |name: &str| {
        plugins.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["sha256"].as_str().unwrap().to_string()
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "ferry creates its cache private");
    }
    let (worker, backend) =
        (artifact(&cache_dir, &sha("worker-service")), artifact(&cache_dir, &sha("backend-service")));
    let worker_bytes = std::fs::read(&worker).unwrap();
    std::fs::write(&backend, &worker_bytes).unwrap();

    let output = ferry_as(root, alice.path())
        .env("FERRY_CACHE_DIR", &cache_dir)
        .args(["svc", "package", "--name", "api", "--env", "test", "--output-dir"])
        .arg(root.join("out"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let template: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/api-test.stack.json")).unwrap()).unwrap();
    let types: Vec<&str> =
        template["Resources"].as_object().unwrap().values().filter_map(|r| r["Type"].as_str()).collect();
    assert!(types.contains(&"AWS::ECS::Service"), "{types:?}");
    assert!(!types.contains(&"AWS::SQS::Queue"), "worker-service's code rendered the Backend Service: {types:?}");
    assert_ne!(std::fs::read(&backend).unwrap(), worker_bytes, "the swapped entry was replaced");

    // A planted entry (bytes nobody with the user's key wrote) is not run either.
    std::fs::write(&backend, b"FERRYCW2 planted machine code, long enough to pass any length check").unwrap();
    let output = ferry_as(root, alice.path())
        .env("FERRY_CACHE_DIR", &cache_dir)
        .args(["svc", "package", "--name", "api", "--env", "test", "--output-dir"])
        .arg(root.join("out"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    // A cache directory others can write is not used at all, with a warning.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let output = run(&["plugin", "inspect", "backend-service", "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("not using the plugin compile cache")
                && stderr(&output).contains("writable by everyone"),
            "{}",
            stderr(&output)
        );
    }
}

/// A copy of the hostile fixture whose `info()` name is `name` (same length
/// as `hostile`): what a plugin author can put there.
fn hostile_named(dir: &Path, name: &str, file: &str) -> PathBuf {
    assert_eq!(name.len(), "hostile".len());
    let mut bytes = std::fs::read(fixtures::HOSTILE).unwrap();
    let mut replaced = 0;
    let mut i = 0;
    while i + 7 <= bytes.len() {
        if &bytes[i..i + 7] == b"hostile" {
            bytes[i..i + 7].copy_from_slice(name.as_bytes());
            replaced += 1;
        }
        i += 1;
    }
    assert!(replaced > 0);
    let path = dir.join(file);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_plugin_name_that_is_a_path_is_refused_at_install() {
    let project = project();
    let root = project.path();
    let alice = user();
    let evil = hostile_named(root, "../../x", "evil.wasm");
    let output = ferry_as(root, alice.path()).arg("plugin").arg("install").arg(&evil).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("not a valid plugin name") && message.contains("lowercase letters"), "{message}");
    assert!(!root.join("x.wasm").exists(), "written outside copilot/plugins/");
    assert!(!root.join("copilot/plugins.lock").exists());
}

fn install_hostile(root: &Path, config: &Path) {
    let output = ferry_as(root, config).args(["plugin", "install", fixtures::HOSTILE]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

fn edit_lock(root: &Path, from: &str, to: &str) {
    common::edit(root, "copilot/plugins.lock", from, to);
}

#[test]
fn a_hand_edited_lock_cannot_point_outside_plugins_or_lie_about_its_plugin() {
    let project = project();
    let root = project.path();
    let alice = user();
    write(root, "copilot/hostile/manifest.yml", "name: hostile\ntype: Hostile Service\nattack: none\n");
    install_hostile(root, alice.path());
    let pristine = std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap();

    // `plugin remove` follows the lock's path: it must not delete a file outside.
    write(root, "victim.txt", "precious");
    edit_lock(root, "\"plugins/hostile.wasm\"", "\"plugins/../../victim.txt\"");
    let output = ferry_as(root, alice.path()).args(["plugin", "remove", "hostile"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("refusing plugin entry `hostile`"), "{}", stderr(&output));
    assert!(root.join("victim.txt").exists(), "plugin remove deleted a file outside copilot/plugins/");
    // Nor is an absolute path loaded.
    std::fs::write(root.join("copilot/plugins.lock"), &pristine).unwrap();
    edit_lock(root, "\"plugins/hostile.wasm\"", &format!("{:?}", fixtures::HOSTILE));
    let output = package(root, alice.path(), "api");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("must be a file inside plugins/"), "{}", stderr(&output));

    // The lock says another name than the plugin's own info(): refused.
    std::fs::write(root.join("copilot/plugins.lock"), &pristine).unwrap();
    edit_lock(root, "\"name\": \"hostile\"", "\"name\": \"friendly\"");
    let output = package(root, alice.path(), "hostile");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("info() says name `hostile`, but copilot/plugins.lock says `friendly`"), "{message}");

    // Or claims other manifest types to route them to it: refused.
    std::fs::write(root.join("copilot/plugins.lock"), &pristine).unwrap();
    edit_lock(root, "\"Hostile Service\"", "\"Hostile Service\", \"Worker Service\"");
    let output = package(root, alice.path(), "hostile");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("claims manifest types [Hostile Service]"), "{}", stderr(&output));

    // The pristine lock still works, and `plugin remove` deletes its file.
    std::fs::write(root.join("copilot/plugins.lock"), &pristine).unwrap();
    let output = package(root, alice.path(), "hostile");
    assert!(output.status.success(), "{}", stderr(&output));
    let output = ferry_as(root, alice.path()).args(["plugin", "remove", "hostile"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!root.join("copilot/plugins/hostile.wasm").exists());
}

#[test]
fn a_workload_directory_outside_the_name_rule_is_refused() {
    let project = project();
    let root = project.path();
    let alice = user();
    write(root, "copilot/Api_V2/manifest.yml", "type: Backend Service\nimage:\n  location: nginx:latest\n");
    let output = package(root, alice.path(), "Api_V2");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("invalid service or job name `Api_V2`") && message.contains("`api-v2`"), "{message}");
    let out = root.join("out");
    assert!(!out.join("Api_V2-test.stack.json").exists());
    // Packaging another workload of the same workspace is refused too: the
    // invalid one would be part of the environment's workload list.
    std::fs::remove_dir_all(root.join("copilot/Api_V2")).unwrap();
    write(root, "copilot/environments/Prod/manifest.yml", "name: Prod\ntype: Environment\n");
    let output = ferry_as(root, alice.path())
        .args(["svc", "package", "--name", "api", "--env", "Prod", "--output-dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("invalid environment name `Prod`"), "{}", stderr(&output));
}

/// The hostile fixture with `count` more core instances appended, each
/// with its own linear memory of `pages` 64 KiB pages: a component may
/// instantiate as many modules as it likes, each with its memory.
fn hostile_with_memories(dir: &Path, file: &str, count: u32, pages: u32) -> PathBuf {
    let component = std::fs::read(fixtures::HOSTILE).unwrap();
    assert_eq!(&component[..8], b"\0asm\x0d\0\x01\0", "a component");
    // Count the component's own core modules (section id 1) to know the new one's index.
    let mut modules = 0u32;
    let mut at = 8;
    while at < component.len() {
        let id = component[at];
        let (size, len) = leb(&component[at + 1..]);
        if id == 1 {
            modules += 1;
        }
        at += 1 + len + size as usize;
    }
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    let mut memory = vec![1, 0];
    memory.extend(uleb(pages));
    section(&mut module, 5, &memory);
    let mut out = component.clone();
    section(&mut out, 1, &module);
    let mut instances = uleb(count);
    for _ in 0..count {
        instances.push(0);
        instances.extend(uleb(modules));
        instances.push(0);
    }
    section(&mut out, 2, &instances);
    let path = dir.join(file);
    std::fs::write(&path, out).unwrap();
    path
}

fn uleb(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn leb(bytes: &[u8]) -> (u32, usize) {
    let (mut n, mut shift) = (0u32, 0);
    for (i, b) in bytes.iter().enumerate() {
        n |= ((b & 0x7f) as u32) << shift;
        if b & 0x80 == 0 {
            return (n, i + 1);
        }
        shift += 7;
    }
    panic!("truncated LEB128");
}

fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    out.extend(uleb(content.len() as u32));
    out.extend_from_slice(content);
}

#[test]
fn many_memories_or_a_large_total_is_stopped_with_the_plugins_name() {
    let project = project();
    let root = project.path();
    let alice = user();
    // Sixteen one-page memories: each is tiny, their number is not.
    let many = hostile_with_memories(root, "many-memories.wasm", 16, 1);
    let output = ferry_as(root, alice.path()).arg("plugin").arg("install").arg(&many).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("plugin `many-memories` exceeded a resource limit") && message.contains("count too high"),
        "{message}"
    );
    // Three memories of 100 MiB: each under the 256 MiB limit, together over it.
    let large = hostile_with_memories(root, "large-total.wasm", 3, 1600);
    let output = ferry_as(root, alice.path()).arg("plugin").arg("install").arg(&large).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("plugin `large-total` exceeded its memory limit of 256 MiB (all of its memories together)"),
        "{message}"
    );
    assert!(!root.join("copilot/plugins.lock").exists());
    // One extra small memory is within every limit: the wrapper itself is sound.
    let fine = hostile_with_memories(root, "one-more.wasm", 1, 1);
    let output = ferry_as(root, alice.path()).arg("plugin").arg("install").arg(&fine).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_workspace_others_can_write_is_never_deployed_from_or_written() {
    use std::os::unix::fs::PermissionsExt;
    let project = project();
    let root = project.path();
    let alice = user();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
    for args in [
        &["svc", "deploy", "--name", "api", "--env", "test"][..],
        &["deploy", "--env", "test"],
        &["env", "deploy", "--name", "test"],
        &["svc", "init", "--name", "other", "--type", "Backend Service", "--image", "nginx"],
    ] {
        let output = ferry_as(root, alice.path()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains("refusing to")
                && message.contains("writable by everyone")
                && message.contains("chmod go-w"),
            "{args:?}: {message}"
        );
    }
    assert!(!root.join("copilot/other").exists(), "nothing was written");
}
