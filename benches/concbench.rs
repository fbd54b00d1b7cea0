//! `cargo bench`: the one criterion entry point (`harness = false`).
//!
//! - Whole runs: a group per workload (pure I/O, pure CPU, mixed), one bench
//!   per strategy, the mock server started once per group; `iter_custom`, so
//!   one iteration is one whole run of the plan, verified.
//! - The harness's own hot paths: per-request dispatch, IPC framing, the body
//!   checksum and the CPU-work kernel, so a regression in concbench itself shows.
//! - `per_request`: one instant 16-byte request on each client against an
//!   in-process mock server: the blocking client (ureq) and the async client
//!   one at a time (a loopback round trip and the client's own path), and
//!   the async client with 50 in flight on two runtime threads (its path
//!   amortised, as in `scripts/compare-load-generators.sh`).
//!
//! `cargo bench -- --test` runs every bench once, as a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use concbench::http::{self, AsyncClient, BlockingClient};
use concbench::strategy::{RunContext, StrategyKind};
use concbench::sys::clock::mono_now_ns;
use concbench::task::{self, kernel, TaskOutcome, TaskSpec};
use concbench::worker::protocol::{self as ipc, FromWorker};
use concbench::workload::{CpuWork, TaskPlan, Workload};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use mock_server::{payload, MockServer, ServerConfig};

fn workload(tasks: usize, latency: &str, cpu: Duration) -> Workload {
    Workload {
        tasks,
        latency: latency.parse().expect("latency"),
        bytes: 16 * 1024,
        cpu: CpuWork::Time(cpu),
        concurrency: 20,
        seed: 3,
        work: Default::default(),
        arrival: Default::default(),
    }
}

fn whole_runs(c: &mut Criterion) {
    mock_server::raise_fd_limit();
    let units_per_us = kernel::calibrate(Duration::from_millis(20));
    let groups = [
        ("pure_io", workload(60, "5ms", Duration::ZERO)),
        ("pure_cpu", workload(60, "0", Duration::from_millis(1))),
        ("mixed", workload(60, "5ms", Duration::from_millis(1))),
    ];
    for (name, w) in groups {
        let server = MockServer::start(ServerConfig::default()).expect("mock server starts");
        let plan = TaskPlan::build(&w, units_per_us);
        let mut ctx = RunContext::new(
            server.url(),
            w.concurrency,
            concbench::bench::available_cores(),
        );
        ctx.options.worker_exe = Some(env!("CARGO_BIN_EXE_concbench").into());
        let mut group = c.benchmark_group(name);
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(w.tasks as u64));
        for &kind in StrategyKind::ALL {
            let strategy = kind.create();
            group.bench_function(kind.name(), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let run = strategy.run(&plan, &ctx).expect("the strategy runs");
                        total += start.elapsed();
                        let v = plan.verify(&run.outcomes);
                        assert_eq!(v.tasks_failed, 0, "{kind}: {:?}", v.first_failure);
                    }
                    total
                })
            });
        }
        group.finish();
        server.shutdown();
    }
}

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
        b.iter(|| kernel::cpu_work(black_box(&body), 100_000, 7))
    });

    // IPC framing: one outcome through a frame and back.
    g.throughput(Throughput::Elements(1));
    let outcome = FromWorker::Outcome(TaskOutcome {
        id: 42,
        result: Ok(task::Completed::from_body(&body, 0)),
        latency_us: 1234,
        server_lateness_us: Some(12),
        phases: Default::default(),
        attempts: 1,
        unreached: 0,
    });
    g.bench_function("ipc_frame_round_trip", |b| {
        let mut buf = Vec::with_capacity(256);
        b.iter(|| {
            buf.clear();
            ipc::write_frame(&mut buf, black_box(&outcome)).unwrap();
            let back: FromWorker = ipc::read_frame(&mut &buf[..]).unwrap().unwrap();
            black_box(back)
        })
    });

    // Per-request dispatch: one keep-alive request of 16 KiB with no latency, checksummed.
    let server = MockServer::start(ServerConfig::default()).expect("mock server starts");
    let url = server.url();
    let session = std::sync::Arc::new(concbench::http::Session::new(
        &url,
        3,
        mono_now_ns(),
        Default::default(),
    ));
    let client = BlockingClient::new(1, Default::default(), session);
    let spec = TaskSpec {
        id: 1,
        latency_us: 0,
        bytes: 16 * 1024,
        cpu_units: 0,
    };
    g.bench_function("blocking_request_16KiB", |b| {
        b.iter(|| http::run_blocking(&client, &spec))
    });
    g.finish();
    server.shutdown();
}

fn per_request(c: &mut Criterion) {
    mock_server::raise_fd_limit();
    let server = MockServer::start(ServerConfig::default()).expect("mock server starts");
    let session = || {
        std::sync::Arc::new(concbench::http::Session::new(
            &server.url(),
            3,
            mono_now_ns(),
            Default::default(),
        ))
    };
    let spec = |id| TaskSpec {
        id,
        latency_us: 0,
        bytes: 16,
        cpu_units: 0,
    };
    let ok = |o: &TaskOutcome| assert!(o.result.is_ok(), "{:?}", o.result);
    let mut g = c.benchmark_group("per_request");
    g.throughput(Throughput::Elements(1));

    let blocking = BlockingClient::new(1, Default::default(), session());
    g.bench_function("blocking_one_at_a_time", |b| {
        b.iter(|| ok(&http::run_blocking(&blocking, &spec(1))))
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let one = AsyncClient::new(1, Default::default(), session()).expect("a client");
    g.bench_function("async_one_at_a_time", |b| {
        b.iter(|| ok(&rt.block_on(http::run_async(&one, &spec(1)))))
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let many = AsyncClient::new(50, Default::default(), session()).expect("a client");
    g.bench_function("async_50_in_flight", |b| {
        b.iter_custom(|iters| {
            let specs: Vec<TaskSpec> = (0..iters).map(spec).collect();
            let client = many.clone();
            let start = Instant::now();
            let outcomes = rt.block_on(task::guard::run_bounded(
                &specs,
                50,
                || None,
                move |s| {
                    let client = client.clone();
                    async move { http::run_async(&client, &s).await }
                },
            ));
            let took = start.elapsed();
            outcomes.iter().for_each(ok);
            took
        })
    });
    g.finish();
    drop(rt);
    server.shutdown();
}

criterion_group!(benches, whole_runs, hot_paths, per_request);
criterion_main!(benches);
