//! The sandbox a plugin call runs in: a fresh store with an empty WASI
//! context (no files, environment, arguments, network or real clock),
//! stderr captured to quote panics, randomness from a fixed seed (a render
//! is reproducible), and limits per call: total memory across all linear
//! memories, few instances, memories and tables, and time.

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
    pub logs: Vec<(String, String)>,
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
            self.logs.push((level.to_string(), message.chars().take(4096).collect::<String>()));
        }
    }
}

/// Caps the memory of one call, summed over every linear memory the call
/// creates (not per memory), the number of instances, memories and tables,
/// and table sizes; remembers that a cap was hit so the error can say which
/// limit rather than a bare trap.
pub struct MemoryLimiter {
    pub max_bytes: usize,
    /// Bytes of linear memory granted so far in this store.
    pub used_bytes: usize,
    pub hit: bool,
    pub limits: crate::Limits,
}

impl MemoryLimiter {
    pub fn new(limits: crate::Limits) -> Self {
        MemoryLimiter { max_bytes: limits.memory_bytes, used_bytes: 0, hit: false, limits }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        match self.used_bytes.checked_add(growth) {
            Some(total) if total <= self.max_bytes => {
                self.used_bytes = total;
                Ok(true)
            }
            _ => {
                self.hit = true;
                Ok(false)
            }
        }
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= self.limits.table_elements)
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.tables
    }

    fn memories(&self) -> usize {
        self.limits.memories
    }
}

/// The randomness a plugin sees: the same stream on every call (SplitMix64
/// from a fixed seed), so a render never differs run to run. Plugins render
/// templates; they have no use for secrets.
pub struct FixedRandom(u64);

impl FixedRandom {
    pub fn new() -> Self {
        FixedRandom(0x6665_7272_7921_2121)
    }
}

impl rand_core::TryRng for FixedRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
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
    wit::v0_4::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// A fresh store for one call.
pub fn store(engine: &Engine, limits: crate::Limits, deadline_ticks: u64) -> Store<State> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(FixedRandom::new())
        .insecure_random(FixedRandom::new())
        .insecure_random_seed(0)
        .max_random_size(1 << 20)
        .build();
    let state =
        State { wasi, table: ResourceTable::new(), limiter: MemoryLimiter::new(limits), stderr, logs: Vec::new() };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(deadline_ticks);
    store.epoch_deadline_trap();
    store
}
