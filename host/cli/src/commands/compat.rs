//! Copilot's flags that have no meaning for ferry: accepted, with one line
//! saying why (a script written for Copilot keeps working), and the small
//! helpers the Copilot-compatible flags share (credentials, tags, times).

use crate::cli::{
    AppCommand, Command, CredentialFlags, EnvCommand, JobCommand, LogsArgs, OverrideArgs, PipelineCommand, SvcCommand,
};
use crate::output::Output;
use anyhow::Result;
use ferry_core::Failure;
use indexmap::IndexMap;

/// Ends the command with this exit code and no error message (what it had
/// to say is printed), e.g. `package --diff`'s 1 for "there are changes".
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for Exit {}

const DOWNGRADE: &str = "ferry decides what to update by comparing templates, not versions";

/// The notes for the flags of `command` that ferry accepts without acting on them.
pub fn notes(command: &Command) -> Vec<String> {
    let mut notes = Vec::new();
    let mut note = |flag: &str, why: &str| notes.push(format!("note: {flag} has no effect in ferry: {why}"));
    match command {
        Command::App(AppCommand::Init { permissions_boundary: Some(_), .. }) => {
            note("--permissions-boundary", "ferry does not set permissions boundaries on the app's roles yet")
        }
        Command::Svc(SvcCommand::Init(a)) if a.downgrade.allow_downgrade => note("--allow-downgrade", DOWNGRADE),
        Command::Job(JobCommand::Init(a)) if a.downgrade.allow_downgrade => note("--allow-downgrade", DOWNGRADE),
        Command::Svc(SvcCommand::Package(a)) | Command::Job(JobCommand::Package(a)) if a.downgrade.allow_downgrade => {
            note("--allow-downgrade", DOWNGRADE)
        }
        Command::Svc(SvcCommand::Deploy(a)) | Command::Job(JobCommand::Deploy(a))
            if a.flags.downgrade.allow_downgrade =>
        {
            note("--allow-downgrade", DOWNGRADE)
        }
        Command::Svc(SvcCommand::Logs(a)) | Command::Job(JobCommand::Logs(a)) => log_notes(a, &mut note),
        Command::Svc(SvcCommand::Override(a))
        | Command::Job(JobCommand::Override(a))
        | Command::Env(EnvCommand::Override(a))
        | Command::Pipeline(PipelineCommand::Override(a)) => override_notes(a, &mut note),
        Command::Env(EnvCommand::Init(a)) => {
            if a.downgrade.allow_downgrade {
                note("--allow-downgrade", DOWNGRADE);
            }
            let c = &a.credentials;
            let given = [
                ("--profile", c.profile.is_some()),
                ("--region", c.region.is_some()),
                ("--aws-access-key-id", c.aws_access_key_id.is_some()),
                ("--aws-secret-access-key", c.aws_secret_access_key.is_some()),
                ("--aws-session-token", c.aws_session_token.is_some()),
            ];
            for (flag, _) in given.iter().filter(|(_, on)| *on) {
                note(
                    flag,
                    "`env init` only writes the manifest; `env deploy` uses the AWS credentials and region of its run",
                );
            }
        }
        Command::Env(EnvCommand::Package(a)) => {
            if a.downgrade.allow_downgrade {
                note("--allow-downgrade", DOWNGRADE);
            }
            if a.force {
                note("--force", "packaging changes nothing; `ferry env deploy --force` updates the stack");
            }
            if a.upload_assets {
                note("--upload-assets", "an environment stack has no assets to upload in ferry");
            }
        }
        Command::Env(EnvCommand::Deploy(a)) if a.flags.downgrade.allow_downgrade => {
            note("--allow-downgrade", DOWNGRADE)
        }
        Command::Deploy(a) => {
            if a.flags.downgrade.allow_downgrade {
                note("--allow-downgrade", DOWNGRADE);
            }
            if a.init_wkld {
                note("--init-wkld", "ferry needs no workload registration: the manifest in copilot/ is the record");
            }
        }
        Command::Pipeline(PipelineCommand::Deploy(a)) if a.flags.downgrade.allow_downgrade => {
            note("--allow-downgrade", DOWNGRADE)
        }
        Command::Pipeline(PipelineCommand::Delete(a)) if a.delete_secret => {
            note("--delete-secret", "ferry's pipelines reach their repository through a connection and keep no secret")
        }
        _ => {}
    }
    notes
}

fn log_notes(a: &LogsArgs, note: &mut impl FnMut(&str, &str)) {
    if a.last.is_some() {
        note("--last", "ferry reads logs by time; use --since or --start-time");
    }
}

fn override_notes(a: &OverrideArgs, note: &mut impl FnMut(&str, &str)) {
    if a.cdk_language.is_some() {
        note("--cdk-language", "ferry writes YAML patches only (--tool yamlpatch)");
    }
}

/// Makes `--profile`, `--region` and `--aws-*` the credentials of this run,
/// as the standard AWS variables every AWS call of ferry reads. Called
/// before any thread is started.
pub fn apply_credentials(c: &CredentialFlags) {
    let pairs = [
        ("AWS_PROFILE", &c.profile),
        ("AWS_REGION", &c.region),
        ("AWS_ACCESS_KEY_ID", &c.aws_access_key_id),
        ("AWS_SECRET_ACCESS_KEY", &c.aws_secret_access_key),
        ("AWS_SESSION_TOKEN", &c.aws_session_token),
    ];
    for (var, value) in pairs {
        if let Some(value) = value {
            // SAFETY: called from `dispatch` on the main thread before the
            // async runtime, the plugin runtime or any other thread exists.
            unsafe { std::env::set_var(var, value) };
        }
    }
    if c.aws_access_key_id.is_some() {
        // Explicit keys win over a profile of the environment.
        if c.profile.is_none() {
            // SAFETY: as above.
            unsafe { std::env::remove_var("AWS_PROFILE") };
        }
        if c.aws_session_token.is_none() {
            // SAFETY: as above.
            unsafe { std::env::remove_var("AWS_SESSION_TOKEN") };
        }
    }
}

/// Prints the notes (one line each) to standard error.
pub fn print_notes(out: &Output, command: &Command) {
    for line in notes(command) {
        out.note(&line);
    }
}

/// `key=value` pairs of `--resource-tags`.
pub fn parse_tags(flag: &str, pairs: &[String]) -> Result<IndexMap<String, String>> {
    let mut tags = IndexMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Failure::new(format!("{flag} `{pair}` is not key=value"))
                .hint(format!("{flag} team=chat,cost-center=42"))
                .into());
        };
        tags.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(tags)
}

/// Milliseconds since the Unix epoch of an RFC 3339 time
/// (`2026-01-02T15:04:05Z`, `...+01:00`, fractions of a second allowed).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_s) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (clock, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (clock, sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60))
    };
    let mut c = clock.split(':');
    let (h, min): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec_text = c.next()?;
    if c.next().is_some() || h > 23 || min > 59 {
        return None;
    }
    let (whole, frac) = sec_text.split_once('.').unwrap_or((sec_text, ""));
    let s: i64 = whole.parse().ok()?;
    if s > 60 || !frac.chars().all(|ch| ch.is_ascii_digit()) {
        return None;
    }
    let millis: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    // Days from the civil date (proleptic Gregorian), after Howard Hinnant.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + min * 60 + s) - offset_s) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn rfc3339_times_are_read_with_their_offset() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2006-01-02T15:04:05+00:00"), Some(1_136_214_245_000));
        assert_eq!(parse_rfc3339("2006-01-02T16:04:05+01:00"), Some(1_136_214_245_000));
        assert_eq!(parse_rfc3339("2006-01-02T15:04:05.5Z"), Some(1_136_214_245_500));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2006-13-02T15:04:05Z"), None);
    }
}
