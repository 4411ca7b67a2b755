//! Plugin call costs: warm render (the hot path of every package/deploy),
//! loading a compiled plugin from the cache, and a cold compile.

use criterion::{Criterion, criterion_group, criterion_main};
use ferry_runtime::{Registry, Runtime, RuntimeConfig};
use std::sync::Arc;

/// The allocator the `ferry` binary runs with, so the figures are its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MANIFEST: &str = r#"{"name":"frontend","type":"Load Balanced Web Service","http":{"path":"/","healthcheck":"/healthz"},"image":{"build":"Dockerfile","port":8080},"cpu":256,"memory":512,"count":{"range":"1-10","cpu_percentage":70},"exec":true,"variables":{"LOG_LEVEL":"info"},"secrets":{"DB_PASSWORD":"DB_PASSWORD"}}"#;
const CONTEXT: &str = r#"{"app":"chat","env":"test","name":"frontend"}"#;

fn registry(cache: &std::path::Path) -> Registry {
    let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache.to_path_buf()), ..Default::default() }).unwrap();
    let mut registry = Registry::new(Arc::new(runtime));
    ferry_bundled::add_all(&mut registry);
    registry
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().unwrap();
    let warm = registry(cache.path());
    let plugin = warm.for_manifest_type("Load Balanced Web Service").unwrap();
    plugin.render(MANIFEST, CONTEXT).unwrap();
    c.bench_function("lbws render (warm, fresh store per call)", |b| {
        b.iter(|| plugin.render(MANIFEST, CONTEXT).unwrap())
    });
    c.bench_function("lbws validate (warm)", |b| b.iter(|| plugin.validate(MANIFEST).unwrap()));
    c.bench_function("load lbws from the compile cache", |b| {
        b.iter(|| registry(cache.path()).for_manifest_type("Load Balanced Web Service").unwrap())
    });
    let mut group = c.benchmark_group("cold");
    group.sample_size(10);
    group.bench_function("compile lbws (empty cache)", |b| {
        b.iter(|| {
            let empty = tempfile::tempdir().unwrap();
            registry(empty.path()).for_manifest_type("Load Balanced Web Service").unwrap()
        })
    });
    group.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
