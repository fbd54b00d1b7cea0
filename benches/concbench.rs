//! `cargo bench`: concbench's own hot paths (the single entry point; criterion,
//! `harness = false`). Whole-run benches per workload and strategy come with
//! the benchmark issue; these show a regression in the harness itself.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mock_server::payload;

fn hot_paths(c: &mut Criterion) {
    let mut g = c.benchmark_group("harness");
    for len in [4 * 1024usize, 64 * 1024] {
        let body = payload::generate(1, 2, len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(
            BenchmarkId::new("payload_generate", len),
            &len,
            |b, &len| b.iter(|| payload::generate(black_box(1), black_box(2), len)),
        );
        g.bench_with_input(BenchmarkId::new("checksum", len), &body, |b, body| {
            b.iter(|| payload::checksum(black_box(body)))
        });
    }
    let body = payload::generate(1, 2, 16 * 1024);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("cpu_kernel_100k_units", |b| {
        b.iter(|| concbench::kernel::cpu_work(black_box(&body), 100_000, 7))
    });
    g.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
