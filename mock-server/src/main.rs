//! `mock-server`: the mock HTTP API on its own, for `concbench run --target`
//! or for any load generator (oha, wrk).

use clap::Parser;

/// A mock HTTP API with deterministic payloads, precise latency and seeded faults.
///
/// GET /work?id=N&latency_us=US&bytes=B&seed=S answers B deterministic bytes after US µs;
/// GET /stats reports counters, faults, lateness and the server's CPU; GET /stats/ids?below=N
/// lists the ids 0..N requested zero times or more than once since the last reset (POST
/// /stats/reset); GET /health answers ok.
///
/// Faults (the flags below set every request's default) are drawn from each request's
/// seed, id and attempt (attempt=0 first, 1, 2, ... on retries), so every client meets the
/// same ones. A request may override them with error_rate=F, reset_rate=F, stall_rate=F,
/// drip_us=US and drip_rate=F. The rate limit alone is time-based and not seeded.
#[derive(Parser)]
#[command(name = "mock-server", version)]
struct Cli {
    #[command(flatten)]
    server: mock_server::cli::ServerArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match mock_server::cli::run_foreground(&cli.server) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
