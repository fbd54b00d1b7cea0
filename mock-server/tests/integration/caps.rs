//! The safety caps: an oversized request head is answered 431 (or its
//! connection closed) and the server carries on; bodies, latencies and drips
//! beyond the caps, and bad fault values, are answered 400.

use std::time::{Duration, Instant};

use mock_server::ServerConfig;

use crate::common::{agent, get, start};
use crate::raw::{raw_get, raw_request, End};

#[test]
fn oversized_request_heads_are_refused_with_431_and_the_server_carries_on() {
    let server = start(ServerConfig::default());
    let timeout = Duration::from_secs(5);
    let long_header = format!(
        "GET /work?id=1 HTTP/1.1\r\nhost: test\r\nx-big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let headers = |n: usize| {
        format!(
            "GET /work?id=1&bytes=10 HTTP/1.1\r\nhost: test\r\nconnection: close\r\n{}\r\n",
            (0..n).map(|i| format!("x-h{i}: v\r\n")).collect::<String>()
        )
    };
    let many_headers = headers(120);
    // A head that never ends, far beyond every bound.
    let endless = format!(
        "GET /work?id=1 HTTP/1.1\r\nhost: test\r\nx-big: {}",
        "a".repeat(200 * 1024)
    );
    for (what, request) in [
        ("a 20 KiB header", &long_header),
        ("120 headers", &many_headers),
        ("a 200 KiB unfinished head", &endless),
    ] {
        let started = Instant::now();
        let raw = raw_request(server.addr(), request, timeout);
        println!("{what}: {:?} after {:?}", raw.outcome(), started.elapsed());
        assert_ne!(
            raw.end,
            End::TimedOut,
            "{what}: the server must not wait forever"
        );
        assert!(
            raw.status == Some(431) || raw.status.is_none(),
            "{what}: 431 or a closed connection, got {:?}",
            raw.status
        );
    }
    let stats = server.stats();
    assert_eq!(stats.served, 0);
    assert_eq!(
        server.fault_stats().requests,
        0,
        "no /work request got through"
    );
    // Ordinary requests are still served.
    let raw = raw_get(server.addr(), "/work?id=1&bytes=10", timeout);
    assert_eq!(raw.outcome(), "200");

    // A lower header count is honoured too.
    let strict = start(ServerConfig {
        max_headers: 8,
        ..Default::default()
    });
    assert_eq!(
        raw_request(strict.addr(), &headers(4), timeout).outcome(),
        "200"
    );
    let raw = raw_request(strict.addr(), &headers(12), timeout);
    assert_ne!(raw.end, End::TimedOut);
    assert!(raw.status == Some(431) || raw.status.is_none(), "{raw:?}");
}

#[test]
fn oversized_bytes_latency_and_drip_and_bad_fault_values_are_refused_with_400() {
    let server = start(ServerConfig {
        max_bytes: 1_000,
        max_latency: Duration::from_millis(100),
        max_drip: Duration::from_millis(100),
        ..Default::default()
    });
    let agent = agent();
    let cases = [
        (
            "bytes=1001",
            "bytes=1001 is above this server's cap of 1000",
        ),
        (
            "bytes=10&latency_us=100001",
            "latency_us=100001 is above this server's cap of 100ms",
        ),
        (
            "bytes=10&drip_us=100001",
            "drip_us=100001 is above this server's cap of 100ms",
        ),
        (
            "bytes=10&error_rate=1.5",
            "error_rate=1.5 is not a fraction",
        ),
        ("bytes=10&reset_rate=x", "reset_rate=x is not a fraction"),
        ("bytes=10&stall_rate=-1", "stall_rate=-1 is not a fraction"),
        ("bytes=10&drip_rate=2", "drip_rate=2 is not a fraction"),
        ("bytes=10&drip_us=1ms", "drip_us=1ms is not a whole number"),
        (
            "bytes=10&attempt=first",
            "attempt=first is not a whole number",
        ),
    ];
    for (query, message) in cases {
        let reply = get(&agent, &format!("{}/work?id=1&{query}", server.url()));
        assert_eq!(reply.status, 400, "{query}");
        let text = String::from_utf8(reply.body).expect("UTF-8");
        assert!(text.contains(message), "{query}: {text:?}");
        assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    }
    // The drip cap itself is allowed.
    let at_cap = get(
        &agent,
        &format!("{}/work?id=1&bytes=10&drip_us=100000", server.url()),
    );
    assert_eq!(at_cap.status, 200);
    let stats = server.stats();
    assert_eq!(stats.bad_requests, cases.len() as u64);
    assert_eq!(server.fault_stats().requests, cases.len() as u64 + 1);
    assert_eq!(server.fault_stats().faults.drip, 1);
}
