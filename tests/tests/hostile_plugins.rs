//! A buggy or hostile plugin cannot read files, the environment or the
//! network, cannot hang or exhaust the host: it fails alone, with its name in
//! the error, and the next render in the same process still works.

use ferry_runtime::{Limits, Plugin, PluginErrorKind, Registry, RenderOutcome, Runtime, RuntimeConfig};
use ferry_tests::fixtures;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One registry for the whole test binary: the hostile fixture plus the
/// bundled plugins, with tight limits so the limit tests are quick.
fn registry() -> &'static Registry {
    // The temp dir lives in the static, so it outlives every test.
    static REGISTRY: OnceLock<(tempfile::TempDir, Registry)> = OnceLock::new();
    let (_, registry) = REGISTRY.get_or_init(|| {
        let cache = tempfile::tempdir().expect("temp cache dir");
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            limits: Limits { time: Duration::from_secs(1), memory_bytes: 64 << 20, ..Limits::default() },
            ..Default::default()
        })
        .expect("runtime");
        let mut registry = Registry::new(Arc::new(runtime));
        for plugin in ferry_bundled::BUNDLED {
            registry.add_bundled(plugin.package, plugin.wasm, plugin.sha256);
        }
        registry.add_file(Path::new(fixtures::HOSTILE)).expect("fixture readable");
        (cache, registry)
    });
    registry
}

fn hostile() -> Plugin {
    registry().for_manifest_type("Hostile Service").expect("hostile fixture loads")
}

fn attack(attack: &str, extra: serde_json::Value) -> ferry_runtime::PluginError {
    let mut manifest = serde_json::json!({ "name": "x", "type": "Hostile Service", "attack": attack });
    if let (Some(m), Some(e)) = (manifest.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    let result = hostile().render(&manifest.to_string(), "{\"app\":\"a\",\"env\":\"e\",\"name\":\"x\"}");
    let err = match result {
        Err(err) => err,
        Ok(outcome) => panic!("attack `{attack}` should fail, got {outcome:?}"),
    };
    let message = err.to_string();
    assert!(message.contains("`hostile`"), "error must name the plugin: {message}");
    assert!(!message.contains('\n'), "error must be one paragraph: {message}");
    still_works();
    err
}

/// After any attack, the same process renders normally: the harmless mode of
/// the same plugin and a bundled plugin.
fn still_works() {
    let ok = hostile()
        .render("{\"attack\":\"none\"}", "{\"app\":\"a\",\"env\":\"e\",\"name\":\"x\"}")
        .expect("harmless render");
    assert!(matches!(ok, RenderOutcome::Rendered(_)));
    let env = registry().for_manifest_type("Environment").expect("environment plugin");
    let context = serde_json::json!({"app": "chat", "env": "test", "name": "test"}).to_string();
    let outcome = env.render("{\"name\":\"test\",\"type\":\"Environment\"}", &context).expect("bundled plugin renders");
    assert!(matches!(outcome, RenderOutcome::Rendered(_)), "{outcome:?}");
}

#[test]
fn reading_a_file_fails_without_leaking_it() {
    let err = attack("fs", serde_json::json!({}));
    let message = err.to_string();
    assert!(matches!(err.kind, PluginErrorKind::Crashed { panic: Some(_), .. }), "{message}");
    assert!(message.contains("reading /etc/passwd"), "the plugin's own panic message is quoted: {message}");
    assert!(!message.contains("root:"), "file contents leaked: {message}");
}

#[test]
fn opening_a_socket_fails_and_nothing_connects() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let err = attack("net", serde_json::json!({ "port": port }));
    assert!(err.to_string().contains("connecting to the host"), "{err}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the plugin reached the host's socket: {other:?}"),
    }
}

#[test]
fn reading_the_environment_sees_nothing() {
    // SAFETY: no other thread of this test binary reads this variable.
    unsafe { std::env::set_var("FERRY_HOSTILE_SECRET", "hunter2-secret") };
    let err = attack("env", serde_json::json!({}));
    let message = err.to_string();
    assert!(message.contains("reading FERRY_HOSTILE_SECRET"), "{message}");
    assert!(!message.contains("hunter2"), "environment leaked: {message}");
}

#[test]
fn looping_forever_hits_the_time_limit() {
    let err = attack("loop", serde_json::json!({}));
    assert!(matches!(err.kind, PluginErrorKind::Timeout { limit_ms: 1000 }), "{err}");
    assert!(err.to_string().contains("time limit of 1000 ms"), "{err}");
}

#[test]
fn allocating_without_bound_hits_the_memory_limit() {
    let err = attack("alloc", serde_json::json!({}));
    assert!(matches!(err.kind, PluginErrorKind::OutOfMemory { .. }), "{err}");
    assert!(err.to_string().contains("memory limit of 64 MiB"), "{err}");
}

#[test]
fn unbounded_recursion_is_a_crash_not_a_host_stack_overflow() {
    let err = attack("stack", serde_json::json!({}));
    // Rust's shadow stack lives in linear memory: running off it is an
    // out-of-bounds access inside the sandbox, never the host's stack.
    assert!(matches!(err.kind, PluginErrorKind::Crashed { .. }), "{err}");
    assert!(err.to_string().contains("crashed"), "{err}");
}

#[test]
fn panicking_is_reported_with_the_panic_message() {
    let err = attack("panic", serde_json::json!({}));
    assert!(err.to_string().contains("the hostile plugin panics on purpose"), "{err}");
}

#[test]
fn malformed_json_output_is_refused() {
    let err = attack("json", serde_json::json!({}));
    assert!(matches!(err.kind, PluginErrorKind::BadOutput(_)), "{err}");
    assert!(err.to_string().contains("template is not JSON"), "{err}");
    let err = attack("not-object", serde_json::json!({}));
    assert!(err.to_string().contains("not a JSON object"), "{err}");
}

#[test]
fn unknown_wit_major_is_refused_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache.path().into()), ..Default::default() }).unwrap();
    let mut registry = Registry::new(Arc::new(runtime));
    registry.add_file(Path::new(fixtures::WIT_MAJOR)).unwrap();
    let err = match registry.list() {
        Err(err) => err,
        Ok(_) => panic!("a plugin for ABI 9.0.0 must be refused"),
    };
    let message = err.to_string();
    assert!(matches!(err.kind, PluginErrorKind::UnsupportedAbi { .. }), "{message}");
    assert!(message.contains("ferry_test_plugin_wit_major"), "names the plugin file: {message}");
    assert!(message.contains("plugin API 9.0.0") && message.contains("0.1.x"), "{message}");
    still_works();
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.wasm");
    std::fs::write(&path, b"\0asm definitely not a component").unwrap();
    let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(dir.path().into()), ..Default::default() }).unwrap();
    let mut registry = Registry::new(Arc::new(runtime));
    registry.add_file(&path).unwrap();
    let err = registry.get("garbage").err().expect("refused");
    assert!(matches!(err.kind, PluginErrorKind::Compile(_)), "{err}");
    assert!(err.to_string().contains("`garbage`"), "{err}");
}

#[test]
fn info_with_a_schema_that_is_not_json_is_refused_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache.path().into()), ..Default::default() }).unwrap();
    let mut registry = Registry::new(Arc::new(runtime));
    registry.add_file(Path::new(fixtures::BAD_INFO)).unwrap();
    let err = registry.for_manifest_type("Bad Info Service").err().expect("refused");
    let message = err.to_string();
    assert!(matches!(err.kind, PluginErrorKind::BadOutput(_)), "{message}");
    assert!(message.contains("`bad-info`") && message.contains("schema is not JSON"), "{message}");
    assert!(cache.path().read_dir().unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("info")));
    still_works();
}
