//! One deploy at a time per application and environment.
//!
//! Two `ferry deploy -e test` at once would interleave StackSet and stack
//! updates. The lease lives where every ferry of the team can see it, in
//! the app's own account: an SSM parameter `/ferry/leases/<app>/<env>`,
//! created with `Overwrite: false` so exactly one writer wins. The holder
//! renews it while it works; a holder that dies stops renewing and its
//! lease expires (at once when the holder was a process of this machine
//! that no longer exists). The path is outside `/copilot/`, so Copilot and
//! ferry's own listings of the app never see it.
//!
//! Lease calls go through their own SSM client, outside the command's
//! request tally: the tally proves what a deploy changed in the app, and
//! the lease is bookkeeping about the deploy itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{AwsContext, AwsError, AwsErrorKind};

/// How long a lease lives without renewal.
pub const TTL: Duration = Duration::from_secs(120);
/// How often the holder renews (a quarter of the TTL: three renewals may
/// fail before the lease lapses).
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// How often a waiter looks again.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// Who holds a lease: what the message of whoever waits names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Unique per acquisition: a holder recognises its own lease by it.
    pub token: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// The command line that took the lease (`ferry deploy -e test`).
    pub command: String,
    /// Seconds since the Unix epoch.
    pub acquired_at: u64,
    pub expires_at: u64,
}

impl Holder {
    fn new(command: &str) -> Holder {
        let now = now();
        let host = hostname();
        let pid = std::process::id();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        Holder {
            token: format!("{host}:{pid}:{now}.{nanos:09}"),
            user: std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into()),
            host,
            pid,
            command: command.to_string(),
            acquired_at: now,
            expires_at: now + TTL.as_secs(),
        }
    }

    /// True once the holder can no longer be working: its lease lapsed, or
    /// it was a process of this machine that is gone (a kill -9, a crash).
    pub fn is_stale(&self, now: u64) -> bool {
        self.expires_at <= now || (self.host == hostname() && !process_alive(self.pid))
    }

    /// `alice@build-7 (pid 4242) running `ferry deploy -e test` since 12:01:03 UTC`
    pub fn describe(&self) -> String {
        format!(
            "{}@{} (pid {}) running `{}` since {} UTC",
            self.user,
            self.host,
            self.pid,
            self.command,
            clock(self.acquired_at)
        )
    }
}

/// A held lease; [`Lease::release`] it when the work is done. Dropping it
/// without release stops the renewals, so it lapses within [`TTL`].
pub struct Lease {
    client: aws_sdk_ssm::Client,
    name: String,
    holder: Holder,
    renewal: tokio::task::JoinHandle<()>,
}

/// What `acquire` does when another run holds the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenHeld {
    /// Refuse at once, naming the holder.
    Refuse,
    /// Wait until the holder releases or its lease lapses.
    Wait,
}

/// Another run holds the lease and the caller did not want to wait.
#[derive(Debug, thiserror::Error)]
#[error("environment `{env}` of app `{app}` is being deployed by {}", holder.describe())]
pub struct Held {
    pub app: String,
    pub env: String,
    pub holder: Holder,
}

impl ferry_core::Explain for Held {
    fn hint(&self) -> Option<String> {
        Some(format!(
            "wait for it to finish, or pass --wait-for-lock to queue behind it; if that run died, its lock lapses by {} UTC",
            clock(self.holder.expires_at)
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(transparent)]
    Held(#[from] Held),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The SSM parameter holding the lease of `app`/`env`.
pub fn parameter_name(app: &str, env: &str) -> String {
    format!("/ferry/leases/{app}/{env}")
}

/// Takes the lease of `app`/`env` for `command`. With [`WhenHeld::Wait`],
/// `on_wait` is told who holds it (once per holder) while this waits.
pub async fn acquire(
    aws: &AwsContext,
    app: &str,
    env: &str,
    command: &str,
    when_held: WhenHeld,
    on_wait: &(dyn Fn(&Holder) + Send + Sync),
) -> Result<Lease, LeaseError> {
    let client = aws_sdk_ssm::Client::from_conf(aws_sdk_ssm::config::Builder::from(&aws.config).build());
    let name = parameter_name(app, env);
    let mut told: Option<String> = None;
    loop {
        let mine = Holder::new(command);
        if put(&client, &name, &mine, false).await? {
            return Ok(Lease::start(client, name, mine));
        }
        let Some(current) = read(&client, &name).await? else {
            continue; // released between our write and our read: try again
        };
        if current.is_stale(now()) {
            // Take a lapsed lease over, then read back: of two runs taking it
            // over at once, the one whose write landed last holds it.
            put(&client, &name, &mine, true).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            if read(&client, &name).await?.is_some_and(|h| h.token == mine.token) {
                return Ok(Lease::start(client, name, mine));
            }
            continue;
        }
        if when_held == WhenHeld::Refuse {
            return Err(Held { app: app.to_string(), env: env.to_string(), holder: current }.into());
        }
        if told.as_deref() != Some(current.token.as_str()) {
            on_wait(&current);
            told = Some(current.token.clone());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

impl Lease {
    fn start(client: aws_sdk_ssm::Client, name: String, holder: Holder) -> Lease {
        let renewal = {
            let (client, name, holder) = (client.clone(), name.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    // Renew only what is still ours; a lease taken over
                    // while this process was stalled is not taken back.
                    match read(&client, &name).await {
                        Ok(Some(current)) if current.token == holder.token => {
                            let renewed = Holder { expires_at: now() + TTL.as_secs(), ..holder.clone() };
                            let _ = put(&client, &name, &renewed, true).await;
                        }
                        Ok(_) => return,
                        Err(_) => {} // transient: the next tick tries again
                    }
                }
            })
        };
        Lease { client, name, holder, renewal }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Gives the lease back (only if it is still this run's).
    pub async fn release(self) -> Result<(), AwsError> {
        self.renewal.abort();
        if read(&self.client, &self.name).await?.is_some_and(|h| h.token == self.holder.token) {
            match self.client.delete_parameter().name(&self.name).send().await {
                Ok(_) => {}
                Err(e) => {
                    let e = AwsError::from_sdk("ssm:DeleteParameter", Some(&self.name), e);
                    if e.kind != AwsErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// Writes `holder`; `false` when `overwrite` is off and a lease exists.
async fn put(client: &aws_sdk_ssm::Client, name: &str, holder: &Holder, overwrite: bool) -> Result<bool, AwsError> {
    let value = serde_json::to_string(holder).expect("a holder serialises");
    let sent = client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(overwrite)
        .description("ferry: the run deploying this environment now (deleted when it ends)")
        .send()
        .await;
    match sent {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_already_exists()) => Ok(false),
        Err(e) => Err(AwsError::from_sdk("ssm:PutParameter", Some(name), e)),
    }
}

async fn read(client: &aws_sdk_ssm::Client, name: &str) -> Result<Option<Holder>, AwsError> {
    match client.get_parameter().name(name).send().await {
        Ok(out) => {
            let value = out.parameter().and_then(|p| p.value()).unwrap_or_default();
            // An unreadable value (written by hand, or by a newer ferry) is
            // treated as held until it lapses by its own modification time.
            Ok(Some(serde_json::from_str(value).unwrap_or_else(|_| {
                let modified = out
                    .parameter()
                    .and_then(|p| p.last_modified_date())
                    .map(|d| d.secs().max(0) as u64)
                    .unwrap_or_else(now);
                Holder {
                    token: value.to_string(),
                    user: "unknown".into(),
                    host: "unknown".into(),
                    pid: 0,
                    command: "unknown".into(),
                    acquired_at: modified,
                    expires_at: modified + TTL.as_secs(),
                }
            })))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("ssm:GetParameter", Some(name), e)),
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `HH:MM:SS` of a Unix time, UTC.
fn clock(secs: u64) -> String {
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether a process of this machine still runs. Where that cannot be
/// told, it is assumed to (the lease then lapses by its TTL).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { std::path::Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_stale_when_it_lapsed_or_its_local_process_is_gone() {
        let mut h = Holder::new("ferry deploy -e test");
        let now = now();
        assert!(!h.is_stale(now), "a fresh lease of this live process holds");
        assert!(h.is_stale(h.expires_at), "it lapses at its expiry");
        h.pid = u32::MAX - 7; // no such process
        assert!(h.is_stale(now), "a dead local holder frees it at once");
        h.host = "some-other-machine".into();
        assert!(!h.is_stale(now), "a holder on another machine is trusted until it lapses");
    }

    #[test]
    fn the_holder_is_named_with_its_command_and_start() {
        let h = Holder {
            token: "t".into(),
            user: "alice".into(),
            host: "build-7".into(),
            pid: 4242,
            command: "ferry deploy -e test".into(),
            acquired_at: 43_263,
            expires_at: 43_383,
        };
        assert_eq!(h.describe(), "alice@build-7 (pid 4242) running `ferry deploy -e test` since 12:01:03 UTC");
        let held = Held { app: "chat".into(), env: "test".into(), holder: h };
        assert!(held.to_string().starts_with("environment `test` of app `chat` is being deployed by alice@build-7"));
        let hint = ferry_core::Explain::hint(&held).unwrap();
        assert!(hint.contains("--wait-for-lock") && hint.contains("12:03:03"), "{hint}");
    }

    #[test]
    fn leases_live_outside_copilots_parameters() {
        assert_eq!(parameter_name("chat", "test"), "/ferry/leases/chat/test");
        assert!(!parameter_name("chat", "test").starts_with("/copilot/"));
    }
}
