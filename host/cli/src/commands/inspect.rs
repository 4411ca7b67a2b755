//! Read commands over deployed state: `env ls|show`, `svc|job ls|show`,
//! `svc status`. Each has `--json`.

use super::aws::session;
use crate::cli::{EnvShow, ListArgs, ShowWorkload, StatusArgs};
use crate::context::CommandContext;
use anyhow::Result;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::metadata::WorkloadRecord;
use ferry_core::Failure;
use ferry_core::naming;
use serde_json::{Value, json};

/// Services or jobs: the two halves of the app's workload records.
#[derive(Clone, Copy, PartialEq)]
pub enum Family {
    Services,
    Jobs,
}

impl Family {
    fn holds(self, w: &WorkloadRecord) -> bool {
        let job = w.kind.ends_with("Job");
        if self == Family::Jobs { job } else { !job }
    }

    fn noun(self) -> &'static str {
        if self == Family::Jobs { "job" } else { "service" }
    }
}

pub fn env_ls(args: ListArgs, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let mut envs = session.meta.envs(&app).await?;
        if args.local {
            let here = cx.workspace(None)?.environment_names();
            envs.retain(|e| here.contains(&e.name));
        }
        if args.json {
            out.json(&json!({ "environments": envs }));
        } else {
            let rows =
                envs.iter().map(|e| vec![e.name.clone(), e.region.clone(), e.account_id.clone()]).collect::<Vec<_>>();
            out.table(&["Name", "Region", "Account"], &rows);
        }
        Ok(())
    })
}

/// The resources of a deployed stack, as JSON rows.
async fn resources_of(session: &ferry_aws::app::Session, stack: &str) -> Result<Vec<Value>> {
    Ok(session
        .cfn
        .stack_resources(stack)
        .await?
        .into_iter()
        .map(|r| json!({"logical_id": r.logical_id, "type": r.resource_type, "physical_id": r.physical_id, "status": r.status}))
        .collect())
}

fn resource_table(out: &crate::output::Output, resources: &[Value]) {
    let cell = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    let rows = resources
        .iter()
        .map(|r| vec![cell(r, "logical_id"), cell(r, "type"), cell(r, "physical_id")])
        .collect::<Vec<_>>();
    out.table(&["Resource", "Type", "Physical ID"], &rows);
}

pub fn env_show(args: EnvShow, cx: &CommandContext) -> Result<()> {
    let EnvShow { name, app, json, manifest, resources } = args;
    let out = &cx.out;
    if manifest {
        let ws = cx.workspace(app.as_deref())?;
        let path = ws.copilot_dir.join("environments").join(&name).join("manifest.yml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Failure::new(format!("environment `{name}` has no manifest here ({e})"))
                .hint(format!("`ferry env init -n {name}` writes one"))
        })?;
        out.data(&text);
        return Ok(());
    }
    let app = cx.app_name(app)?;
    cx.block_on(async {
        let session = session(false).await?;
        let record = session.require_env(&app, &name).await?;
        let stack = session.cfn.describe_stack(&naming::environment_stack(&app, &name)).await?;
        let status = stack.as_ref().map(|s| s.status.clone()).unwrap_or_else(|| "NOT_DEPLOYED".into());
        let deployed = stack.is_some();
        let outputs = stack.map(|s| s.outputs).unwrap_or_default();
        let listed = if resources && deployed {
            resources_of(&session, &naming::environment_stack(&app, &name)).await?
        } else {
            Vec::new()
        };
        if json {
            let mut value = json!({ "environment": record, "stack_status": status, "outputs": outputs });
            if resources {
                value["resources"] = Value::Array(listed);
            }
            out.json(&value);
            return Ok(());
        }
        out.data(&format!(
            "Environment {name} of {app}\n  region  {}\n  account {}\n  stack   {} ({status})\n",
            record.region,
            record.account_id,
            naming::environment_stack(&app, &name)
        ));
        let rows = outputs.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect::<Vec<_>>();
        out.table(&["Output", "Value"], &rows);
        if resources {
            out.data("");
            resource_table(out, &listed);
        }
        Ok(())
    })
}

pub fn workload_ls(args: ListArgs, family: Family, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let mut list: Vec<WorkloadRecord> =
            session.meta.workloads(&app).await?.into_iter().filter(|w| family.holds(w)).collect();
        if args.local {
            let here = cx.workspace(None)?.workload_names();
            list.retain(|w| here.contains(&w.name));
        }
        if args.json {
            let key = if family == Family::Jobs { "jobs" } else { "services" };
            out.json(&json!({ key: list }));
        } else {
            let rows = list.iter().map(|w| vec![w.name.clone(), w.kind.clone()]).collect::<Vec<_>>();
            out.table(&["Name", "Type"], &rows);
        }
        Ok(())
    })
}

/// `--manifest ENV`: the manifest as it applies to that environment.
fn print_effective_manifest(args: &ShowWorkload, env: &str, cx: &CommandContext) -> Result<()> {
    let ws = cx.workspace(args.app.as_deref())?;
    let manifest = ws.load_workload(&args.name)?;
    let effective = manifest.effective(&ws.app, env, &ferry_render::process_env)?;
    cx.out.data(&yaml_serde::to_string(&effective.value)?);
    Ok(())
}

pub fn workload_show(args: ShowWorkload, family: Family, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    if let Some(env) = &args.manifest {
        return print_effective_manifest(&args, env, cx);
    }
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        let Some(record) = session.meta.workloads(&app).await?.into_iter().find(|w| w.name == args.name) else {
            return Err(Failure::new(format!("no {} named `{}` in application {app}", family.noun(), args.name))
                .hint(format!("`ferry {} ls` lists them", if family == Family::Jobs { "job" } else { "svc" }))
                .into());
        };
        let mut deployments = Vec::new();
        for env in session.meta.envs(&app).await? {
            let stack_name = naming::workload_stack(&app, &env.name, &args.name);
            let Some(stack) = session.cfn.describe_stack(&stack_name).await? else { continue };
            let mut entry = json!({
                "environment": env.name, "stack": stack_name, "status": stack.status,
                "parameters": stack.parameters, "outputs": stack.outputs,
            });
            if let Some(url) = endpoint(&session, &app, &env.name, &stack.parameters).await? {
                entry["url"] = Value::String(url);
            } else if let Some(url) = stack.outputs.get("ServiceURL") {
                // Services with their own endpoint (App Runner, ECS Express Mode).
                entry["url"] = Value::String(url.clone());
            }
            if args.resources {
                entry["resources"] = Value::Array(resources_of(&session, &stack_name).await?);
            }
            deployments.push(entry);
        }
        if args.json {
            out.json(
                &json!({ "name": record.name, "type": record.kind, "application": app, "deployments": deployments }),
            );
            return Ok(());
        }
        out.data(&format!("{} {} ({})\n", family.noun(), record.name, record.kind));
        let rows = deployments
            .iter()
            .map(|d| {
                vec![
                    d["environment"].as_str().unwrap_or_default().to_string(),
                    d["status"].as_str().unwrap_or_default().to_string(),
                    d["url"].as_str().unwrap_or("-").to_string(),
                ]
            })
            .collect::<Vec<_>>();
        out.table(&["Environment", "Stack status", "URL"], &rows);
        if args.resources {
            for d in &deployments {
                out.data(&format!("\nResources in {}", d["environment"].as_str().unwrap_or_default()));
                resource_table(out, d["resources"].as_array().map(Vec::as_slice).unwrap_or_default());
            }
        }
        Ok(())
    })
}

/// A web service's URL: the environment's load balancer plus the rule path.
async fn endpoint(
    session: &ferry_aws::app::Session,
    app: &str,
    env: &str,
    parameters: &indexmap::IndexMap<String, String>,
) -> Result<Option<String>> {
    let Some(path) = parameters.get("RulePath") else { return Ok(None) };
    let Some(env_stack) = session.cfn.describe_stack(&naming::environment_stack(app, env)).await? else {
        return Ok(None);
    };
    let https = parameters.get("HTTPSEnabled").is_some_and(|v| v == "true");
    Ok(env_stack.outputs.get("PublicLoadBalancerDNS").map(|dns| {
        let path = if path == "/" { String::new() } else { format!("/{}", path.trim_start_matches('/')) };
        format!("{}://{dns}{path}", if https { "https" } else { "http" })
    }))
}

pub fn svc_status(args: StatusArgs, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        let Some(status) = session.service_status(&app, &args.env, &args.name).await? else {
            return Err(Failure::new(format!("service `{}` is not deployed to environment {}", args.name, args.env))
                .hint(format!("deploy it with `ferry svc deploy -n {} -e {}`", args.name, args.env))
                .into());
        };
        if args.json {
            out.json(&serde_json::to_value(&status)?);
            return Ok(());
        }
        out.data(&format!("Service {} in {} ({}: {})\n", args.name, args.env, status.stack, status.stack_status));
        if let Some(s) = &status.service {
            out.data(&format!(
                "ECS service {}\n  desired {}  running {}  pending {}  rollout {}\n",
                s.status,
                s.desired,
                s.running,
                s.pending,
                s.rollout.as_deref().unwrap_or("-")
            ));
        }
        let tasks = status
            .tasks
            .iter()
            .map(|t| vec![t.id.clone(), t.last_status.clone(), t.health.clone(), t.task_definition.clone()])
            .collect::<Vec<_>>();
        out.table(&["Task", "Status", "Health", "Task definition"], &tasks);
        if !status.targets.is_empty() {
            out.data("");
            let rows = status
                .targets
                .iter()
                .map(|t| vec![t.id.clone(), t.port.map(|p| p.to_string()).unwrap_or_default(), t.state.clone()])
                .collect::<Vec<_>>();
            out.table(&["Target", "Port", "Health"], &rows);
        }
        if !status.alarms.is_empty() {
            out.data("");
            let rows = status.alarms.iter().map(|a| vec![a.name.clone(), a.state.clone()]).collect::<Vec<_>>();
            out.table(&["Alarm", "State"], &rows);
        }
        Ok(())
    })
}
