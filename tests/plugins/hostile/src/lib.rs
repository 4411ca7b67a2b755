//! A hostile plugin for the sandbox tests. It implements the WIT exports
//! directly (not the SDK's `Plugin` trait) so it can also return output the
//! SDK would never produce. The manifest's `attack` field picks the attack.
//! Attacks a Rust crate cannot express are made from its built component by
//! the tests: tests/trust.rs appends core instances, each with its own
//! memory (many memories, or a large total), and rewrites its `info()` name
//! into a path.

use ferry_plugin_sdk::bindings::service::exports::ferry::plugin::service::Guest;
use ferry_plugin_sdk::bindings::wit::{
    Diagnostic, HostStep, HostStepKind, PluginInfo, PluginKind, RenderError, RenderInput, Rendered, S3Upload,
    UploadRule,
};

pub struct Hostile;

fn rendered(template: String) -> Result<Rendered, RenderError> {
    Ok(Rendered { template, parameters: "{}".into(), descriptions: Vec::new(), host_steps: Vec::new() })
}

/// The bucket the upload attacks aim at: one the plugin's stack does not create.
fn victim(manifest: &serde_json::Value) -> String {
    manifest["bucket"].as_str().unwrap_or("victim-bucket").to_string()
}

fn template_with(description: &str) -> String {
    serde_json::json!({
        "Description": description,
        "Resources": { "Topic": { "Type": "AWS::SNS::Topic" } }
    })
    .to_string()
}

/// Recurses until the stack runs out, on purpose.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let local = [depth; 64];
    std::hint::black_box(&local);
    recurse(depth + 1) + local[0]
}

impl Guest for Hostile {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            kind: PluginKind::Service,
            description: "attacks the sandbox (test fixture)".into(),
            manifest_types: vec!["Hostile Service".into()],
            manifest_schema: "{}".into(),
            manifest_template: String::new(),
            documentation: None,
            // Declared, so the host's own checks are what stop the upload attacks.
            host_steps: vec![HostStepKind::S3Upload],
        }
    }

    fn validate(_manifest: String) -> Vec<Diagnostic> {
        Vec::new()
    }

    fn render(input: RenderInput) -> Result<Rendered, RenderError> {
        let manifest: serde_json::Value = serde_json::from_str(&input.manifest).unwrap_or_default();
        match manifest["attack"].as_str().unwrap_or("none") {
            "fs" => {
                let secret = std::fs::read_to_string("/etc/passwd").expect("reading /etc/passwd");
                rendered(template_with(&secret))
            }
            "net" => {
                let port = manifest["port"].as_u64().unwrap_or(9) as u16;
                let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connecting to the host");
                drop(stream);
                rendered(template_with("connected"))
            }
            "env" => {
                let value = std::env::var("FERRY_HOSTILE_SECRET").expect("reading FERRY_HOSTILE_SECRET");
                rendered(template_with(&value))
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "stack" => rendered(template_with(&recurse(0).to_string())),
            "panic" => panic!("the hostile plugin panics on purpose"),
            // Talks through the host's log (shown with `ferry --verbose`), then renders.
            "log" => {
                ferry_plugin_sdk::log("rendering with two log lines");
                ferry_plugin_sdk::log("the second line");
                rendered(template_with("logged"))
            }
            "json" => Ok(Rendered {
                template: "{\"Resources\": not json".into(),
                parameters: "{}".into(),
                descriptions: Vec::new(),
                host_steps: Vec::new(),
            }),
            // The pre-0.3 way: an upload plan in template metadata whose
            // bucket output names someone else's bucket.
            "smuggle-upload" => rendered(
                serde_json::json!({
                    "Metadata": {"ferry:upload": {
                        "bucket_output": "Victim",
                        "files": [{"source": "loot", "destination": "/", "recursive": true}]
                    }},
                    "Resources": { "Topic": { "Type": "AWS::SNS::Topic" } },
                    "Outputs": { "Victim": { "Value": victim(&manifest) } }
                })
                .to_string(),
            ),
            // A declared upload step whose bucket is a name, not a bucket of its stack.
            "foreign-bucket" => Ok(Rendered {
                template: template_with("foreign bucket"),
                parameters: "{}".into(),
                descriptions: Vec::new(),
                host_steps: vec![HostStep::S3Upload(S3Upload {
                    bucket: victim(&manifest),
                    distribution: None,
                    files: vec![UploadRule {
                        source: "loot".into(),
                        destination: "/".into(),
                        recursive: true,
                        exclude: Vec::new(),
                        reinclude: Vec::new(),
                    }],
                })],
            }),
            "not-object" => rendered("[1, 2, 3]".into()),
            _ => rendered(template_with("harmless")),
        }
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::bindings::service::__ferry_export_service!(Hostile);
