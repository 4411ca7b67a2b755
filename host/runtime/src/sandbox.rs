//! The sandbox a plugin call runs in: a fresh store with an empty WASI
//! context (no files, environment, arguments, network or real clock),
//! stderr captured to quote panics, and memory/time limits.

use crate::wit;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Enough to hold a panic message and backtrace line, not to exhaust memory.
const STDERR_CAPACITY: usize = 64 * 1024;

/// Per-call state of one store.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
    pub stderr: MemoryOutputPipe,
    /// Messages the plugin logged through `ferry:plugin/host.log`.
    pub logs: Vec<String>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl State {
    /// Keeps a message the plugin logged through `ferry:plugin/host.log`
    /// (any ABI version). Bounded: a chatty plugin cannot grow the host's
    /// memory without limit.
    pub fn push_log(&mut self, level: &str, message: String) {
        if self.logs.len() < 1000 {
            self.logs.push(format!("{level}: {}", message.chars().take(4096).collect::<String>()));
        }
    }
}

/// Caps linear memory and tables, and remembers that the cap was hit so the
/// error can say "memory limit" rather than a bare trap.
pub struct MemoryLimiter {
    pub max_bytes: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A clock stuck at zero: rendering must not depend on the time.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The linker shared by all plugins: WASI (as Rust's std links it, but
/// backed by an empty context) and the `host` interface.
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // Every supported ABI version imports its own `host@x.y.z`.
    wit::v0_1::add_to_linker(&mut linker)?;
    wit::v0_2::add_to_linker(&mut linker)?;
    wit::v0_3::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// A fresh store for one call.
pub fn store(engine: &Engine, memory_bytes: usize, deadline_ticks: u64) -> Store<State> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .insecure_random_seed(0)
        .build();
    let state = State {
        wasi,
        table: ResourceTable::new(),
        limiter: MemoryLimiter { max_bytes: memory_bytes, hit: false },
        stderr,
        logs: Vec::new(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(deadline_ticks);
    store.epoch_deadline_trap();
    store
}
