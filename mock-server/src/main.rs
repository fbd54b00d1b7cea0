//! `mock-server`: the mock HTTP API on its own, for `concbench run --target`
//! or for any load generator (oha, wrk).

use clap::Parser;

/// A mock HTTP API with deterministic payloads and precise latency.
///
/// GET /work?id=N&latency_us=US&bytes=B&seed=S answers B deterministic bytes after US µs;
/// GET /stats reports counters, lateness and the server's CPU; GET /health answers ok.
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
