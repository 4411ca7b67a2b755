//! One cancellation path for the process: SIGINT (Ctrl-C) and SIGTERM.
//!
//! A command that changes AWS holds a [`Guard`] while it works. The first
//! signal then only *cancels*: queued work does not start, in-flight stack
//! changes are undone as each deploy path decides, and the command ends
//! with a message saying what was left in which state. A second signal, or
//! a signal while no guard is held, exits at once (status 130 for SIGINT,
//! 143 for SIGTERM), after removing this process's registry credentials.
//!
//! The listener is installed on the first guard only: tokio replaces the
//! default disposition of a signal for the rest of the process once it
//! listens, so commands that never take a guard keep the default.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::watch;

struct Cancel {
    sender: watch::Sender<Option<Signal>>,
    guards: AtomicUsize,
}

/// The signal that cancelled the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    fn exit_status(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
        }
    }
}

static CANCEL: OnceLock<Cancel> = OnceLock::new();

fn cancel() -> &'static Cancel {
    CANCEL.get_or_init(|| Cancel { sender: watch::channel(None).0, guards: AtomicUsize::new(0) })
}

/// While held, the first signal cancels instead of exiting. Must be taken
/// inside the tokio runtime (the listener runs on it).
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        cancel().guards.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn guard() -> Guard {
    static LISTENING: OnceLock<()> = OnceLock::new();
    let state = cancel();
    state.guards.fetch_add(1, Ordering::SeqCst);
    LISTENING.get_or_init(|| {
        tokio::spawn(listen());
    });
    Guard(())
}

/// True once a signal asked the process to stop.
pub fn is_cancelled() -> bool {
    cancel().sender.borrow().is_some()
}

/// Resolves when a signal asks the process to stop.
pub async fn cancelled() -> Signal {
    let mut receiver = cancel().sender.subscribe();
    let signal = receiver.wait_for(Option::is_some).await.ok().and_then(|seen| *seen);
    match signal {
        Some(signal) => signal,
        // The sender lives in a static: it is never dropped.
        None => std::future::pending().await,
    }
}

async fn listen() {
    loop {
        let signal = next_signal().await;
        let state = cancel();
        let first = state.sender.borrow().is_none();
        if first && state.guards.load(Ordering::SeqCst) > 0 {
            state.sender.send_replace(Some(signal));
            eprintln!(
                "{}: stopping — nothing new starts, changes in flight are undone; {} again to exit at once",
                signal.name(),
                if signal == Signal::Interrupt { "press Ctrl-C" } else { "send SIGTERM" }
            );
            continue;
        }
        ferry_image::sweep_registry_credentials(Some(std::process::id()));
        eprintln!(
            "{}: exiting now; a stack CloudFormation is changing carries on: check its state in CloudFormation, then run the command again",
            signal.name()
        );
        std::process::exit(signal.exit_status());
    }
}

#[cfg(unix)]
async fn next_signal() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return Signal::Interrupt;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Signal::Interrupt,
        _ = terminate.recv() => Signal::Terminate,
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Signal {
    let _ = tokio::signal::ctrl_c().await;
    Signal::Interrupt
}
