//! `cargo run --release -p concbench-example-file-scan -- --help`: the
//! example task under every strategy, with concbench's table, results file
//! (`--out results.json`, then `concbench report results.json`) and exit codes.

use std::process::ExitCode;

use concbench_example_file_scan::FileScan;

/// Files scanned (task i reads file i mod 64) and lines per file (about 2 MiB each).
const FILES: u64 = 64;
const LINES: usize = 50_000;

fn main() -> ExitCode {
    concbench::user::main(|| {
        FileScan::new(FILES, LINES).unwrap_or_else(|e| {
            eprintln!("Error: cannot write the example's log files: {e}");
            std::process::exit(1)
        })
    })
}
