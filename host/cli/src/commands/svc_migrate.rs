//! `svc migrate`: rewrites a Request-Driven Web Service (AWS App Runner,
//! which takes no new customers since 2026-04-30) into an Express Web
//! Service (ECS Express Mode). Every field is carried over or listed with
//! why it has no equivalent; environment overrides are converted the same
//! way. The old manifest stays beside the new one as `manifest.rdws.yml`.
//!
//! The rewrite is [`migrate`], a pure function over the manifest's JSON
//! value, so its rules are tested without a workspace.

use super::aws::report_calls;
use super::deploy::{self, Ctx};
use crate::cli::SvcMigrate;
use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_aws::cfn::CloudFormationApi;
use ferry_core::Failure;
use ferry_core::{Problem, YamlDoc, naming};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The type `svc migrate` reads.
pub const FROM: &str = "Request-Driven Web Service";
/// The type it writes.
pub const TO: &str = "Express Web Service";
/// Where the old manifest is kept.
pub const KEPT_AS: &str = "manifest.rdws.yml";

/// App Runner's instance size when the manifest names none (Copilot's
/// defaults); written out because an Express service's defaults are smaller.
const RDWS_CPU: u64 = 1024;
const RDWS_MEMORY: u64 = 2048;

/// A field of the old manifest that the new one does not carry, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dropped {
    /// Dotted manifest path, e.g. `http.alias` or `environments.prod.count`.
    pub field: String,
    pub why: String,
}

/// The rewritten manifest and what did not carry over.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Migration {
    pub manifest: Value,
    pub dropped: Vec<Dropped>,
    /// Behaviour that changes although nothing was dropped.
    pub notes: Vec<String>,
}

/// Rewrites a Request-Driven Web Service manifest (as parsed) into an
/// Express Web Service manifest.
pub fn migrate(old: &Value) -> Migration {
    let mut dropped = Vec::new();
    let mut notes = Vec::new();
    let Some(fields) = old.as_object() else {
        return Migration { manifest: old.clone(), dropped, notes };
    };
    let mut manifest = convert(fields, "", true, &mut dropped);
    if let Some(envs) = fields.get("environments").and_then(Value::as_object) {
        let mut converted = Map::new();
        for (env, overrides) in envs {
            match overrides.as_object() {
                Some(o) => {
                    let prefix = format!("environments.{env}.");
                    converted.insert(env.clone(), Value::Object(convert(o, &prefix, false, &mut dropped)));
                }
                None => {
                    converted.insert(env.clone(), overrides.clone());
                }
            }
        }
        manifest.insert("environments".into(), Value::Object(converted));
    }
    if !fields.contains_key("count") {
        notes.push(
            "App Runner scaled between 1 and 25 instances by default; the Express service runs 1 task unless `count` sets a range and a target, e.g. `count: {range: 1-10, requests: 100}`".into(),
        );
    }
    if fields.get("image").and_then(|i| i.get("location")).is_some() {
        notes.push("`image.location` is used as is: ECS pulls from any registry the execution role can reach".into());
    }
    Migration { manifest: Value::Object(manifest), dropped, notes }
}

fn drop(dropped: &mut Vec<Dropped>, prefix: &str, field: &str, why: &str) {
    dropped.push(Dropped { field: format!("{prefix}{field}"), why: why.to_string() });
}

/// Converts the top level (`top`) or one environment's overrides.
fn convert(fields: &Map<String, Value>, prefix: &str, top: bool, dropped: &mut Vec<Dropped>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut network_private = false;
    for (key, value) in fields {
        match key.as_str() {
            "name" | "image" | "variables" | "secrets" | "tags" | "publish" | "command" | "cpu" | "memory" => {
                out.insert(key.clone(), value.clone());
            }
            "type" => {
                out.insert(key.clone(), json!(TO));
            }
            "environments" if top => {}
            "http" => {
                if let Some(http) = convert_http(value, prefix, dropped, &mut network_private) {
                    out.insert("http".into(), http);
                }
            }
            "platform" => {
                let x86 = value.as_str().is_some_and(|p| p == "linux/x86_64" || p == "linux/amd64");
                let why = if x86 {
                    "Express services always run linux/x86_64 on Fargate: nothing to set"
                } else {
                    "Express services run linux/x86_64 on Fargate only"
                };
                drop(dropped, prefix, key, why);
            }
            "network" => drop(
                dropped,
                prefix,
                "network.vpc.placement",
                "Express tasks always run in the environment's VPC, so they reach its resources without a VPC connector; `placement: private` would also make the endpoint internal, so it is not carried over",
            ),
            "observability" => drop(
                dropped,
                prefix,
                "observability.tracing",
                "an Express service runs no X-Ray daemon; send traces with the AWS Distro for OpenTelemetry SDK from the application",
            ),
            "count" => drop(
                dropped,
                prefix,
                "count",
                "it names an App Runner auto scaling configuration; set `count: {range: <min>-<max>, requests: <per task>}` (or `cpu_percentage`) for the Express service",
            ),
            other => drop(dropped, prefix, other, "not a Request-Driven Web Service field; left out"),
        }
    }
    if top {
        out.entry("cpu").or_insert(json!(RDWS_CPU));
        out.entry("memory").or_insert(json!(RDWS_MEMORY));
    }
    if network_private {
        out.insert("network".into(), json!({"vpc": {"placement": "private"}}));
    }
    // Keep the manifest's usual order: name, type, image, http first.
    let order = ["name", "type", "image", "http", "cpu", "memory", "command", "network", "variables", "secrets"];
    let mut sorted = Map::new();
    for key in order {
        if let Some(v) = out.remove(key) {
            sorted.insert(key.into(), v);
        }
    }
    sorted.extend(out);
    sorted
}

fn convert_http(value: &Value, prefix: &str, dropped: &mut Vec<Dropped>, private: &mut bool) -> Option<Value> {
    let http = value.as_object()?;
    let mut out = Map::new();
    for (key, value) in http {
        match key.as_str() {
            "healthcheck" => match value {
                Value::String(path) => {
                    out.insert("healthcheck".into(), json!(path));
                }
                Value::Object(args) => {
                    if let Some(path) = args.get("path") {
                        out.insert("healthcheck".into(), path.clone());
                    }
                    for field in args.keys().filter(|k| *k != "path") {
                        drop(
                            dropped,
                            prefix,
                            &format!("http.healthcheck.{field}"),
                            "ECS Express Mode sets the load balancer's health check thresholds and timings itself",
                        );
                    }
                }
                _ => {}
            },
            "alias" => drop(
                dropped,
                prefix,
                "http.alias",
                "AWS::ECS::ExpressGatewayService takes no custom domain: the service is served on the endpoint ECS gives it (keep the App Runner service until clients use the new endpoint)",
            ),
            "private" => {
                let on = match value {
                    Value::Bool(b) => *b,
                    Value::Object(args) => {
                        if args.contains_key("endpoint") {
                            drop(
                                dropped,
                                prefix,
                                "http.private.endpoint",
                                "a private Express service is reached through an internal load balancer in the VPC, not an App Runner VPC endpoint",
                            );
                        }
                        true
                    }
                    _ => false,
                };
                // Private ingress becomes private placement: the Express
                // service's load balancer is then internal.
                *private |= on;
            }
            other => {
                drop(dropped, prefix, &format!("http.{other}"), "not a Request-Driven Web Service field; left out")
            }
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The manifest text: a header saying where it came from and what was
/// left out, then the YAML.
pub fn manifest_text(name: &str, migration: &Migration) -> Result<String> {
    let mut text = format!(
        "# The manifest for the \"{name}\" service, migrated by `ferry svc migrate` from a {FROM}\n# (AWS App Runner) to an {TO} (ECS Express Mode). The old manifest is {KEPT_AS}.\n"
    );
    if !migration.dropped.is_empty() {
        text.push_str("#\n# Not carried over:\n");
        for d in &migration.dropped {
            text.push_str(&format!("#   {}: {}\n", d.field, d.why));
        }
    }
    text.push('\n');
    text.push_str(&yaml_serde::to_string(&migration.manifest).context("cannot write the migrated manifest as YAML")?);
    Ok(text)
}

/// `ferry svc migrate -n <name> --to "Express Web Service"`.
pub fn run(args: SvcMigrate, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    if args.to != TO {
        return Err(Failure::new(format!("ferry migrates a {FROM} to `{TO}`, not to `{}`", args.to))
            .hint(format!("pass --to \"{TO}\""))
            .into());
    }
    let dir = ws.copilot_dir.join(&args.name);
    let kept = dir.join(KEPT_AS);
    if kept.exists() && !args.dry_run {
        return Err(Failure::new(format!("{} already exists: `{}` was migrated before", out.path(&kept), args.name))
            .hint(format!("delete {} once the old App Runner service is gone, then migrate again", out.path(&kept)))
            .into());
    }
    let manifest = ws.load_workload(&args.name)?;
    if manifest.kind != FROM {
        return Err(Failure::new(format!(
            "`{}` is a {}, and `svc migrate` converts a {FROM}",
            args.name, manifest.kind
        ))
        .hint(format!("migrate a service whose manifest has `type: {FROM}`"))
        .into());
    }
    let migration = migrate(&manifest.doc.value);
    let text = manifest_text(&args.name, &migration)?;

    // The new manifest must be one the Express plugin accepts, overrides included.
    let plugin = cx.registry()?.for_manifest_type(TO)?;
    let new_path = dir.join("manifest.yml");
    let doc = YamlDoc::parse(&new_path, text.clone())?;
    let errors: Vec<_> = plugin
        .validate(&doc.value.to_string())?
        .into_iter()
        .filter(|d| d.severity == ferry_runtime::Severity::Error)
        .collect();
    if let Some(d) = errors.first() {
        return Err(Failure::new(format!(
            "the migrated manifest is not a valid {TO}: {} at {} ({})",
            d.message,
            d.path,
            out.path(&manifest.doc.path)
        ))
        .hint(format!("fix the field in {} and migrate again", out.path(&manifest.doc.path)))
        .into());
    }

    if args.flags.json {
        out.json(&json!({
            "name": args.name, "from": FROM, "to": TO, "dry_run": args.dry_run,
            "manifest": migration.manifest, "dropped": migration.dropped, "notes": migration.notes,
        }));
    } else {
        out.status("Plan", &format!("{} from {FROM} to {TO}", args.name));
        for d in &migration.dropped {
            out.warning(&Problem::new(format!("`{}` is not carried over", d.field)).why(d.why.clone()).warning());
        }
        for n in &migration.notes {
            out.note(n);
        }
    }
    if args.dry_run {
        if !args.flags.json {
            out.data(&text);
        }
        return Ok(());
    }
    std::fs::rename(&new_path, &kept)
        .with_context(|| format!("cannot keep the old manifest as {}", out.path(&kept)))?;
    std::fs::write(&new_path, &text).with_context(|| format!("cannot write {}", out.path(&new_path)))?;
    if !args.flags.json {
        out.status("Wrote", &format!("{} ({TO})", out.path(&new_path)));
        out.status("Kept", &format!("{} (delete it once the App Runner service is gone)", out.path(&kept)));
    }
    match &args.deploy {
        Some(env) => deploy_beside(&args, env, cx),
        None => {
            out.note(&format!(
                "next: ferry svc migrate's --deploy <env>, or ferry svc deploy -n {} -e <env> (the stack then replaces the App Runner service with the Express one at once)",
                args.name
            ));
            Ok(())
        }
    }
}

/// Merges what the deployed template has and the new one lacks (the App
/// Runner service, its roles, parameters and conditions) into the new
/// template, so one stack update starts the Express service beside the old
/// one. Parameters taken over keep their deployed values; outputs and
/// metadata are the new template's.
pub fn beside(
    old: &Value,
    old_values: &IndexMap<String, String>,
    new: &mut Value,
    values: &mut IndexMap<String, String>,
) {
    let Some(new) = new.as_object_mut() else { return };
    for section in ["Parameters", "Conditions", "Resources"] {
        let Some(old_section) = old.get(section).and_then(Value::as_object) else { continue };
        let Some(target) = new.entry(section).or_insert_with(|| json!({})).as_object_mut() else { continue };
        for (id, body) in old_section {
            if target.contains_key(id) {
                continue;
            }
            target.insert(id.clone(), body.clone());
            if section == "Parameters"
                && let Some(v) = old_values.get(id)
            {
                values.entry(id.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

/// `--deploy <env>`: the Express service beside the App Runner one, a wait
/// until ECS runs its tasks, then (asked, or `--yes`) the stack without the
/// App Runner service.
fn deploy_beside(args: &SvcMigrate, env_name: &str, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    cx.block_on(async {
        let ctx = Ctx::new(cx, ws, &args.flags).await?;
        let lease = ctx.lock(env_name).await?;
        let result = async {
            let app = ctx.ws.app.clone();
            let env = ctx.session.require_env(&app, env_name).await?;
            let stack = naming::workload_stack(&app, env_name, &args.name);
            let live = ctx.session.cfn.describe_stack(&stack).await?;
            let old = match &live {
                Some(state) => {
                    let text = ctx.session.cfn.get_template(&stack).await?;
                    let template: Value = serde_json::from_str(&text)
                        .with_context(|| format!("the deployed template of {stack} is not JSON"))?;
                    let app_runner = template["Resources"]
                        .as_object()
                        .is_some_and(|r| r.values().any(|r| r["Type"] == "AWS::AppRunner::Service"));
                    app_runner.then(|| (template, state.parameters.clone()))
                }
                None => None,
            };
            let Some((old_template, old_values)) = old else {
                // Nothing runs on App Runner here: a plain deploy.
                deploy::workload_adjusted(&ctx, &env, &args.name, &args.image, &|_, _| {}).await?;
                return Ok(());
            };
            let keep = |t: &mut Value, p: &mut IndexMap<String, String>| beside(&old_template, &old_values, t, p);
            deploy::workload_adjusted(&ctx, &env, &args.name, &args.image, &keep).await?;
            wait_healthy(&ctx, &app, env_name, &args.name).await?;
            let question = format!(
                "The Express service `{}` runs in {env_name}. Delete its App Runner service now?",
                args.name
            );
            if !(args.flags.yes || {
                let _turn = out.turn();
                out.confirm(&question, false) == Some(true)
            }) {
                out.note(&format!(
                    "the App Runner service keeps running beside the Express one; `ferry svc deploy -n {} -e {env_name}` deletes it",
                    args.name
                ));
                return Ok(());
            }
            deploy::workload_adjusted(&ctx, &env, &args.name, &args.image, &|_, _| {}).await?;
            out.status("Deleted", &format!("the App Runner service of `{}` in {env_name}", args.name));
            Ok(())
        }
        .await;
        ctx.unlock(lease).await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result
    })
}

/// Waits until the Express service runs as many tasks as it wants (ECS
/// starts them behind its load balancer's health checks).
async fn wait_healthy(ctx: &Ctx, app: &str, env: &str, name: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15 * 60);
    loop {
        if let Some(s) = ctx.session.service_status(app, env, name).await?.and_then(|s| s.service)
            && s.desired > 0
            && s.running >= s.desired
        {
            ctx.out.status("Healthy", &format!("{name} in {env}: {} of {} tasks running", s.running, s.desired));
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failure::new(format!("the Express service `{name}` in {env} did not start its tasks within 15 minutes; the App Runner service keeps running")).hint(format!("`ferry svc status -n {name} -e {env}` shows the tasks, `ferry svc logs -n {name} -e {env}` their output")).into());
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_keeps_the_old_service_and_its_parameters() {
        let old = json!({
            "Parameters": {"AppName": {"Type": "String"}, "InstanceCPU": {"Type": "String"}},
            "Conditions": {"NeedsAccessRole": true},
            "Resources": {"Service": {"Type": "AWS::AppRunner::Service"}, "orders": {"Type": "AWS::SNS::Topic", "old": 1}},
            "Outputs": {"ServiceURL": {"Value": "old"}},
        });
        let mut new = json!({
            "Parameters": {"AppName": {"Type": "String"}},
            "Resources": {"ExpressService": {"Type": "AWS::ECS::ExpressGatewayService"}, "orders": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"ServiceURL": {"Value": "new"}},
        });
        let old_values: IndexMap<String, String> =
            [("AppName", "shop"), ("InstanceCPU", "1024")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let mut values: IndexMap<String, String> = [("AppName".to_string(), "shop".to_string())].into_iter().collect();
        beside(&old, &old_values, &mut new, &mut values);
        let ids: Vec<&String> = new["Resources"].as_object().unwrap().keys().collect();
        assert_eq!(ids, ["ExpressService", "orders", "Service"]);
        assert_eq!(new["Resources"]["orders"], json!({"Type": "AWS::SNS::Topic"}), "the new definition wins");
        assert_eq!(new["Conditions"]["NeedsAccessRole"], true);
        assert_eq!(values["InstanceCPU"], "1024");
        assert_eq!(new["Outputs"]["ServiceURL"]["Value"], "new");
    }

    #[test]
    fn healthcheck_map_keeps_the_path_and_lists_the_timings() {
        let m = migrate(&json!({
            "name": "web", "type": FROM,
            "http": {"healthcheck": {"path": "/_health", "interval": "10s", "timeout": "5s"}, "private": {"endpoint": "vpce-1"}},
            "image": {"build": "Dockerfile", "port": 8080},
        }));
        assert_eq!(m.manifest["type"], TO);
        assert_eq!(m.manifest["http"], json!({"healthcheck": "/_health"}));
        assert_eq!(m.manifest["network"], json!({"vpc": {"placement": "private"}}));
        assert_eq!(m.manifest["cpu"], 1024, "App Runner's default size, written out");
        let fields: Vec<&str> = m.dropped.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["http.healthcheck.interval", "http.healthcheck.timeout", "http.private.endpoint"]);
        let keys: Vec<&String> = m.manifest.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "type", "image", "http", "cpu", "memory", "network"]);
    }

    #[test]
    fn overrides_are_converted_with_their_environment_in_the_path() {
        let m = migrate(&json!({
            "name": "web", "type": FROM, "image": {"build": "Dockerfile"}, "cpu": 2048, "memory": 4096,
            "environments": {"prod": {"count": "high-availability", "variables": {"LOG_LEVEL": "warn"}, "cpu": 4096, "memory": 8192}},
        }));
        assert_eq!(
            m.manifest["environments"]["prod"],
            json!({"cpu": 4096, "memory": 8192, "variables": {"LOG_LEVEL": "warn"}})
        );
        assert_eq!(m.dropped[0].field, "environments.prod.count");
        assert!(m.manifest["environments"]["prod"].get("type").is_none(), "no default written into overrides");
    }
}
