//! `secret init`: SecureStrings at `/copilot/<app>/<env>/secrets/<name>`,
//! tagged as Copilot tags them. Values come from stdin, a YAML file or
//! `--values`, and are never printed.

use super::aws::session;
use crate::cli::SecretInit;
use crate::context::CommandContext;
use anyhow::{Context, Result, bail};
use ferry_aws::metadata::ParameterStore;
use ferry_core::Failure;
use ferry_core::naming;
use indexmap::IndexMap;
use std::io::{IsTerminal, Read};

/// `NAME: {env: value, ...}` from a `--cli-input-yaml` file. Errors locate
/// the problem and never include a value (nor, from the sensitive read, the
/// file's text): serde's own messages would quote it.
fn secret_values(doc: &ferry_core::YamlDoc) -> Result<IndexMap<String, IndexMap<String, String>>> {
    use ferry_core::yaml::escape_segment;
    use ferry_core::{Error, Problem};
    use serde_json::Value;
    let shape = "expected `NAME: {env: value, ...}`";
    let problem = |pointer: &str, what: String, hint: &str| -> anyhow::Error {
        Error::problem(Problem::new(what).at(Some(doc.locate(pointer))).pointer(pointer).hint(hint)).into()
    };
    let Value::Object(names) = &doc.value else {
        return Err(problem(
            "",
            format!("{shape}: the file is not a map of secret names"),
            "see `ferry secret init --help`",
        ));
    };
    let mut secrets = IndexMap::new();
    for (name, envs) in names {
        let name_pointer = format!("/{}", escape_segment(name));
        let Value::Object(envs) = envs else {
            return Err(problem(
                &name_pointer,
                format!("{shape}: secret `{name}` is not a map of environments to values"),
                "indent the values under the secret's name, one `env: value` per line",
            ));
        };
        let mut values = IndexMap::new();
        for (env, value) in envs {
            let pointer = format!("{name_pointer}/{}", escape_segment(env));
            match value {
                Value::String(text) => {
                    values.insert(env.clone(), text.clone());
                }
                other => {
                    let kind = match other {
                        Value::Number(_) => "a number",
                        Value::Bool(_) => "a boolean",
                        Value::Null => "empty",
                        Value::Array(_) => "a list",
                        _ => "a map",
                    };
                    return Err(problem(
                        &pointer,
                        format!("the value of secret `{name}` for environment `{env}` is {kind}, not a string"),
                        "quote the value (`env: \"...\"`) so it is stored exactly as written",
                    ));
                }
            }
        }
        secrets.insert(name.clone(), values);
    }
    Ok(secrets)
}

pub fn init(args: SecretInit, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app.clone())?;
    // secret name → env → value
    let mut secrets: IndexMap<String, IndexMap<String, String>> = IndexMap::new();
    if let Some(path) = &args.cli_input_yaml {
        let doc = ferry_core::YamlDoc::read_sensitive(path)?;
        secrets.extend(secret_values(&doc)?);
    }
    if let Some(name) = &args.name {
        let mut values = IndexMap::new();
        for pair in &args.values {
            let Some((env, value)) = pair.split_once('=') else {
                return Err(Failure::new("--values expects env=value pairs")
                    .hint("--values test=abc,prod=xyz (or pipe the value on stdin with -e <env>)")
                    .into());
            };
            values.insert(env.trim().to_string(), value.to_string());
        }
        if values.is_empty() {
            if args.envs.is_empty() {
                return Err(Failure::new(
                    "which environments? give --values env=value, or -e <env> and the value on stdin",
                )
                .hint(format!("printf %s \"$VALUE\" | ferry secret init -n {name} -e test -e prod"))
                .into());
            }
            if std::io::stdin().is_terminal() {
                return Err(Failure::new(format!("pipe the value of {name} on standard input (it is never echoed)"))
                    .hint(format!("printf %s \"$VALUE\" | ferry secret init -n {name} -e {}", args.envs.join(" -e ")))
                    .into());
            }
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value).context("cannot read the secret from stdin")?;
            let value = value.strip_suffix('\n').unwrap_or(&value).to_string();
            if value.is_empty() {
                bail!("standard input was empty: no value for secret {name}");
            }
            for env in &args.envs {
                values.insert(env.clone(), value.clone());
            }
        }
        secrets.entry(name.clone()).or_default().extend(values);
    }
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let mut skipped = Vec::new();
        for (name, values) in &secrets {
            for (env, value) in values {
                session.require_env(&app, env).await?;
                let path = naming::ssm_secret(&app, env, name);
                let tags = [(naming::tags::APPLICATION, app.as_str()), (naming::tags::ENVIRONMENT, env.as_str())];
                if session.meta.store().put_secure(&path, value, &tags, args.overwrite).await? {
                    out.status("Stored", &format!("{path} (SecureString)"));
                } else {
                    skipped.push(path);
                }
            }
        }
        if !skipped.is_empty() {
            return Err(Failure::new(format!("these secrets exist and were left unchanged: {}", skipped.join(", ")))
                .hint("pass --overwrite to replace them")
                .into());
        }
        Ok(())
    })
}
