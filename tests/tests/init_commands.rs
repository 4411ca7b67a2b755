//! `svc init`, `job init`, `env init` without a terminal: flags only, and
//! the manifest they write renders.

use crate::common;

use common::{example_copy, ferry};

#[test]
fn svc_init_takes_the_port_from_the_dockerfile_and_renders() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "web", "-t", "Load Balanced Web Service", "--dockerfile", "frontend/Dockerfile"])
        .assert()
        .success();
    let text = std::fs::read_to_string(ws.path().join("copilot/web/manifest.yml")).unwrap();
    assert!(text.contains("name: web\n"), "{text}");
    assert!(text.contains("build: frontend/Dockerfile"), "{text}");
    assert!(text.contains("port: 8080"), "EXPOSE 8080 is used: {text}");
    assert!(text.lines().any(|l| l.trim_start().starts_with('#')), "the manifest is commented");
    ferry(ws.path()).args(["svc", "package", "-n", "web", "-e", "test"]).assert().success();
}

#[test]
fn svc_init_with_an_image_writes_location() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args([
            "svc",
            "init",
            "-n",
            "proxy",
            "-t",
            "Load Balanced Web Service",
            "--image",
            "nginx:1.27",
            "--port",
            "80",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(ws.path().join("copilot/proxy/manifest.yml")).unwrap();
    assert!(text.contains("location: nginx:1.27") && !text.contains("build:"), "{text}");
    ferry(ws.path()).args(["svc", "package", "-n", "proxy", "-e", "prod"]).assert().success();
}

#[test]
fn missing_flags_without_a_terminal_name_the_flag() {
    let ws = example_copy("chat");
    let output = ferry(ws.path()).env("CI", "true").args(["svc", "init", "-n", "web"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--type is required"), "{stderr}");
    assert!(stderr.contains("Load Balanced Web Service"), "the hint lists the types: {stderr}");
    let output = ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "web", "-t", "Load Balanced Web Service"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--dockerfile is required"), "{stderr}");
    assert!(!ws.path().join("copilot/web").exists(), "nothing is written on error");
}

#[test]
fn existing_manifest_and_bad_names_are_refused() {
    let ws = example_copy("chat");
    let output = ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "api", "-t", "Load Balanced Web Service", "--image", "x", "--port", "80"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already has a manifest"));
    let output = ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "Web_1", "-t", "Load Balanced Web Service", "--image", "x", "--port", "80"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid service name `Web_1`"));
}

#[test]
fn env_init_writes_a_manifest_that_packages() {
    let ws = example_copy("chat");
    ferry(ws.path()).env("CI", "true").args(["env", "init", "-n", "staging"]).assert().success();
    assert!(ws.path().join("copilot/environments/staging/manifest.yml").is_file());
    ferry(ws.path()).args(["package", "-e", "staging", "--output-dir"]).arg(ws.path().join("out")).assert().success();
}
