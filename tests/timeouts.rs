//! A server that never answers cannot hang a run: every request gives up
//! after the timeout and fails with cause `timeout`, for a blocking, an
//! async and a process strategy.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use concbench::runner::{run_workload, RunOptions};
use concbench::strategy::StrategyKind;

/// Answers the control endpoints; `/work` requests are read and never answered.
fn stalling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut header = String::new();
                    while reader.read_line(&mut header).unwrap_or(0) > 2 {
                        header.clear();
                    }
                    let target = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .to_string();
                    let body: &[u8] = if target.starts_with("/health") {
                        b"ok\n"
                    } else if target.starts_with("/stats") {
                        br#"{"pid":0,"served":0,"in_flight":0,"max_in_flight":0,"bytes_sent":0,"bad_requests":0,"lateness_us":{"count":0,"mean":0.0,"p50":0,"p99":0,"max":0},"cpu_user_s":0.0,"cpu_sys_s":0.0,"threads":1,"uptime_s":0.0}"#
                    } else {
                        // Stall: hold the connection, say nothing.
                        std::thread::sleep(Duration::from_secs(20));
                        return;
                    };
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    if out
                        .write_all(head.as_bytes())
                        .and_then(|_| out.write_all(body))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_stalled_server_fails_requests_with_timeout_instead_of_hanging() {
    let url = stalling_server();
    let mut w = common::small(4, "1ms");
    w.concurrency = 4;
    let options = RunOptions {
        timeout: Some(Duration::from_millis(300)),
        ..common::options()
    };
    let kinds = [
        StrategyKind::Sequential,
        StrategyKind::Async,
        StrategyKind::ProcessPool,
    ];
    let started = Instant::now();
    let report = run_workload(&w, &kinds, &common::target(&url), &options).unwrap();
    // Sequential alone waits 4 × 0.3 s; nothing may wait for the 20 s stall.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (0, 4), "{}", r.strategy);
        assert_eq!(
            r.failures.get("timeout"),
            Some(&4),
            "{}: {:?}",
            r.strategy,
            r.failures
        );
        let msg = r.first_failure.as_deref().unwrap();
        assert!(msg.contains("timeout"), "{}: {msg}", r.strategy);
    }
}
