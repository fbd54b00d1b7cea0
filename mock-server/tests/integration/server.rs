//! The server's ordinary work: routes, deterministic payloads, precise
//! latency, `/stats` and its reset, in-flight counts, runtime threads and
//! graceful shutdown.

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use mock_server::payload;
use mock_server::{ServerConfig, ServerHandle, ServerStats};

use crate::common::{agent, get, post, start, wait_until};

/// `GET /stats`, deserialised.
fn http_stats(agent: &ureq::Agent, server: &ServerHandle) -> ServerStats {
    let reply = get(agent, &format!("{}/stats", server.url()));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    serde_json::from_slice(&reply.body).expect("/stats is a ServerStats in JSON")
}

#[test]
fn work_answers_exactly_the_deterministic_payload_of_its_seed_id_and_length() {
    let server = start(ServerConfig::default());
    let agent = agent();
    let url = |id: u64, bytes: usize, seed: u64| {
        format!("{}/work?id={id}&bytes={bytes}&seed={seed}", server.url())
    };

    for (id, bytes, seed) in [(7, 12_345, 42), (0, 1, 0), (3, 0, 9), (1 << 40, 100_000, 1)] {
        let reply = get(&agent, &url(id, bytes, seed));
        assert_eq!(reply.status, 200, "id={id} bytes={bytes} seed={seed}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(
            reply.header("content-length"),
            Some(bytes.to_string().as_str())
        );
        let lateness: u64 = reply
            .header("x-lateness-us")
            .expect("every /work answer says how late it was")
            .parse()
            .expect("x-lateness-us is a whole number");
        assert!(lateness < 1_000_000, "lateness {lateness} µs");
        assert_eq!(reply.body.len(), bytes);
        assert!(
            reply.body == payload::generate(seed, id, bytes),
            "the body of id={id} bytes={bytes} seed={seed} is not payload::generate's"
        );
    }

    let first = get(&agent, &url(7, 4096, 42)).body;
    let again = get(&agent, &url(7, 4096, 42)).body;
    let other_id = get(&agent, &url(8, 4096, 42)).body;
    let other_seed = get(&agent, &url(7, 4096, 43)).body;
    assert_eq!(first, again, "the same request gives the same bytes");
    assert_ne!(first, other_id, "another id gives other bytes");
    assert_ne!(first, other_seed, "another seed gives other bytes");
}

#[test]
fn a_request_is_never_answered_before_its_latency_and_is_late_by_under_a_millisecond() {
    let server = start(ServerConfig::default());
    let agent = agent();
    // Warm the keep-alive connection so the batches below measure only the wait.
    assert_eq!(get(&agent, &format!("{}/health", server.url())).status, 200);

    for (latency_us, requests) in [(200u64, 30u64), (2_000, 20), (50_000, 5)] {
        server.reset_stats();
        let latency = Duration::from_micros(latency_us);
        let mut least_margin = Duration::MAX;
        for id in 0..requests {
            let url = format!(
                "{}/work?id={id}&latency_us={latency_us}&bytes=256",
                server.url()
            );
            let started = Instant::now();
            let reply = get(&agent, &url);
            let elapsed = started.elapsed();
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, payload::generate(0, id, 256));
            assert!(
                elapsed >= latency,
                "latency_us={latency_us} answered after only {elapsed:?}"
            );
            least_margin = least_margin.min(elapsed - latency);
        }
        let lateness = server.stats().lateness_us;
        println!(
            "latency {latency_us:>6} µs: server lateness p50 {} µs, p99 {} µs, max {} µs, \
             mean {:.1} µs over {} answers; least client-side margin {:?}",
            lateness.p50, lateness.p99, lateness.max, lateness.mean, lateness.count, least_margin
        );
        assert_eq!(
            lateness.count, requests,
            "the reset window holds exactly this batch"
        );
        assert!(
            lateness.p50 < 1_000,
            "latency_us={latency_us}: lateness p50 {} µs is not below 1 ms",
            lateness.p50
        );
    }
}

#[test]
fn requests_without_latency_us_wait_the_configured_default_latency_and_bytes() {
    let server = start(ServerConfig {
        default_latency: "20ms".parse().unwrap(),
        default_bytes: 100,
        ..Default::default()
    });
    let agent = agent();
    for id in 0..3 {
        let started = Instant::now();
        let reply = get(&agent, &format!("{}/work?id={id}", server.url()));
        let elapsed = started.elapsed();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, payload::generate(0, id, 100));
        assert!(
            elapsed >= Duration::from_millis(20),
            "the default latency of 20ms was cut short: {elapsed:?}"
        );
    }
    // An explicit latency_us overrides the default.
    let started = Instant::now();
    let reply = get(&agent, &format!("{}/work?id=9&latency_us=0", server.url()));
    assert_eq!(reply.status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(20),
        "latency_us=0 still waited the default: {:?}",
        started.elapsed()
    );
    let stats = server.stats();
    assert_eq!(stats.served, 4);
    assert_eq!(stats.bytes_sent, 400);
    assert_eq!(stats.lateness_us.count, 4);
}

#[test]
fn health_answers_ok_and_unknown_paths_and_methods_answer_404() {
    let server = start(ServerConfig::default());
    let agent = agent();

    let health = get(&agent, &format!("{}/health", server.url()));
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), "ok\n");

    for path in ["/", "/nope", "/work/1", "/health/x"] {
        let reply = get(&agent, &format!("{}{path}", server.url()));
        assert_eq!(reply.status, 404, "GET {path}");
        assert!(
            reply.text().contains("/work"),
            "the 404 points the way: {}",
            reply.text()
        );
    }
    assert_eq!(
        post(&agent, &format!("{}/work?id=1", server.url())).status,
        404
    );
    assert_eq!(
        get(&agent, &format!("{}/stats/reset", server.url())).status,
        404
    );

    let stats = server.stats();
    assert_eq!(stats.bad_requests, 0, "a 404 is not a bad request");
    assert_eq!(stats.served, 0, "no /work was served");
}

#[test]
fn kind_json_answers_the_deterministic_document_of_posts_as_json() {
    let server = start(ServerConfig::default());
    let agent = agent();
    let reply = get(
        &agent,
        &format!("{}/work?id=4&bytes=5000&seed=2&kind=json", server.url()),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, mock_server::posts::generate(2, 4, 5000));
    let posts: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert!(posts.as_array().is_some_and(|a| !a.is_empty()), "{posts}");
    assert_eq!(
        payload::checksum(&reply.body),
        payload::Kind::Json.expected_checksum(2, 4, 5000)
    );
}

#[test]
fn malformed_or_oversized_work_requests_are_refused_with_400_and_counted() {
    let server = start(ServerConfig {
        max_bytes: 1_000,
        max_latency: Duration::from_millis(100),
        ..Default::default()
    });
    let agent = agent();
    let url = |query: &str| format!("{}/work{query}", server.url());

    let cases: [(&str, &str); 10] = [
        (
            "?id=1&bytes=10&kind=xml",
            "kind=xml is not a body kind: use bytes or json",
        ),
        (
            "?id=1&bytes=1&kind=json",
            "bytes=1 is too short for kind=json",
        ),
        ("", "id is required"),
        ("?latency_us=5&bytes=10", "id is required"),
        ("?id=abc", "id=abc is not a whole number"),
        ("?id=1&bytes=-3", "bytes=-3 is not a whole number"),
        (
            "?id=1&bytes=1001",
            "bytes=1001 is above this server's cap of 1000",
        ),
        // The default body length (4096) is held to the cap too.
        ("?id=1", "bytes=4096 is above this server's cap of 1000"),
        (
            "?id=1&bytes=10&latency_us=100001",
            "latency_us=100001 is above this server's cap of 100ms",
        ),
        (
            "?id=1&bytes=10&latency_us=18446744073709551615",
            "is above this server's cap",
        ),
    ];
    for (query, message) in cases {
        let reply = get(&agent, &url(query));
        assert_eq!(reply.status, 400, "GET /work{query}");
        let text = reply.text();
        assert!(
            text.contains(message),
            "GET /work{query}: {text:?} does not say {message:?}"
        );
    }

    // The caps themselves are allowed.
    let at_caps = get(&agent, &url("?id=1&bytes=1000&latency_us=100000"));
    assert_eq!(at_caps.status, 200);
    assert_eq!(at_caps.body, payload::generate(0, 1, 1000));

    let stats = http_stats(&agent, &server);
    assert_eq!(stats.bad_requests, cases.len() as u64);
    assert_eq!(stats.served, 1, "refused requests are not served");
    assert_eq!(stats.bytes_sent, 1000);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(
        stats.lateness_us.count, 1,
        "refused requests have no lateness"
    );
}

#[test]
fn stats_json_counts_served_requests_and_bytes_exactly_and_reset_clears_lateness() {
    let server = start(ServerConfig::default());
    let agent = agent();

    let before = http_stats(&agent, &server);
    assert_eq!(
        before.pid,
        std::process::id(),
        "the server runs in this process"
    );
    assert_eq!(
        (
            before.served,
            before.bytes_sent,
            before.bad_requests,
            before.in_flight
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(before.lateness_us.count, 0);

    let sizes = [10usize, 100, 1_000, 4_096, 0, 12_345];
    for (id, &bytes) in sizes.iter().enumerate() {
        let reply = get(
            &agent,
            &format!("{}/work?id={id}&bytes={bytes}&latency_us=300", server.url()),
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body.len(), bytes);
    }

    let stats = http_stats(&agent, &server);
    assert_eq!(stats.pid, std::process::id());
    assert_eq!(stats.served, sizes.len() as u64);
    assert_eq!(stats.bytes_sent, sizes.iter().sum::<usize>() as u64);
    assert_eq!(stats.bad_requests, 0);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.max_in_flight, 1, "one sequential client");
    assert_eq!(stats.lateness_us.count, sizes.len() as u64);
    assert!(
        stats.lateness_us.p50 <= stats.lateness_us.p99
            && stats.lateness_us.p99 <= stats.lateness_us.max
    );
    assert!(
        stats.threads >= 2,
        "a runtime thread and the timer thread, got {}",
        stats.threads
    );
    assert!(stats.cpu_user_s >= 0.0 && stats.cpu_sys_s >= 0.0);
    assert!(stats.uptime_s > 0.0 && stats.uptime_s >= before.uptime_s);

    // The handle's snapshot agrees with the JSON one; the mean to within a
    // rounding (serde_json's float parsing may differ from the value
    // printed by one unit in the last place).
    let direct = server.stats();
    let without_mean = |s: &mock_server::ServerStats| mock_server::LatenessSummary {
        mean: 0.0,
        ..s.lateness_us
    };
    assert_eq!(
        (
            direct.pid,
            direct.served,
            direct.bytes_sent,
            without_mean(&direct)
        ),
        (
            stats.pid,
            stats.served,
            stats.bytes_sent,
            without_mean(&stats)
        )
    );
    assert!(
        (direct.lateness_us.mean - stats.lateness_us.mean).abs()
            <= 1e-9 * direct.lateness_us.mean.abs().max(1.0),
        "{} against {}",
        direct.lateness_us.mean,
        stats.lateness_us.mean
    );

    let reset = post(&agent, &format!("{}/stats/reset", server.url()));
    assert_eq!(reset.status, 200);
    assert_eq!(reset.text(), "reset\n");
    let after = http_stats(&agent, &server);
    assert_eq!(
        after.lateness_us.count, 0,
        "reset starts a new lateness window"
    );
    assert_eq!(after.lateness_us, mock_server::LatenessSummary::default());
    assert_eq!(after.max_in_flight, 0, "nothing is in flight at the reset");
    assert_eq!(after.served, stats.served, "counters are monotonic");
    assert_eq!(after.bytes_sent, stats.bytes_sent, "counters are monotonic");

    let reply = get(&agent, &format!("{}/work?id=1&bytes=5", server.url()));
    assert_eq!(reply.status, 200);
    let last = http_stats(&agent, &server);
    assert_eq!(last.lateness_us.count, 1);
    assert_eq!(last.served, stats.served + 1);
    assert_eq!(last.bytes_sent, stats.bytes_sent + 5);
}

#[test]
fn concurrent_requests_are_counted_in_flight_and_in_max_in_flight() {
    const CLIENTS: u64 = 20;
    let server = start(ServerConfig::default());
    let url = server.url();
    let barrier = Arc::new(Barrier::new(CLIENTS as usize));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let url = url.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                let reply = get(
                    &agent,
                    &format!("{url}/work?id={id}&latency_us=250000&bytes=64"),
                );
                assert_eq!(reply.status, 200);
                assert_eq!(reply.body, payload::generate(0, id, 64));
            })
        })
        .collect();

    // While they wait, all of them are in flight at once.
    wait_until("every client to be in flight", || {
        server.stats().in_flight == CLIENTS
    });
    for client in clients {
        client.join().expect("client thread");
    }
    let elapsed = started.elapsed();

    let stats = server.stats();
    assert_eq!(stats.max_in_flight, CLIENTS);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.served, CLIENTS);
    assert_eq!(stats.bytes_sent, 64 * CLIENTS);
    assert!(
        elapsed < Duration::from_millis(250 * CLIENTS / 2),
        "the waits overlapped: {elapsed:?}"
    );

    server.reset_stats();
    assert_eq!(
        server.stats().max_in_flight,
        0,
        "reset lowers max_in_flight to in_flight"
    );
}

#[test]
fn a_request_abandoned_by_its_client_leaves_in_flight_and_is_not_counted_as_served() {
    let server = start(ServerConfig::default());
    let mut conn = TcpStream::connect(server.addr()).expect("connect");
    conn.write_all(b"GET /work?id=1&latency_us=1000000&bytes=10 HTTP/1.1\r\nhost: test\r\n\r\n")
        .expect("send the request head");
    wait_until("the request to be in flight", || {
        server.stats().in_flight == 1
    });
    let dropped = Instant::now();
    drop(conn);
    wait_until("the abandoned request to leave in_flight", || {
        server.stats().in_flight == 0
    });
    assert!(
        dropped.elapsed() < Duration::from_millis(500),
        "in_flight only fell when the 1 s wait ended: {:?}",
        dropped.elapsed()
    );
    // Well past the request's deadline, nothing was served on its behalf.
    thread::sleep(Duration::from_millis(1_100));
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 1);
    assert_eq!((stats.served, stats.bytes_sent), (0, 0));
    assert_eq!(stats.lateness_us.count, 0);
}

#[test]
fn shutdown_of_a_server_holding_only_idle_keep_alive_connections_is_prompt() {
    let server = start(ServerConfig::default());
    let agents: Vec<_> = (0..3).map(|_| agent()).collect();
    for agent in &agents {
        // Each agent keeps its connection open in its pool afterwards.
        assert_eq!(
            get(agent, &format!("{}/work?id=1&bytes=3", server.url())).status,
            200
        );
    }
    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    println!("shutdown with 3 idle keep-alive connections took {took:?}");
    assert!(
        took < Duration::from_secs(1),
        "idle connections held shutdown for {took:?}"
    );
}

#[test]
fn shutdown_lets_the_request_in_flight_finish_and_then_refuses_connections() {
    let server = start(ServerConfig::default());
    let addr = server.addr();
    let url = format!("{}/work?id=5&latency_us=300000&bytes=2048", server.url());
    let client = thread::spawn(move || get(&agent(), &url));
    wait_until("the request to be in flight", || {
        server.stats().in_flight == 1
    });

    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();

    let reply = client.join().expect("client thread");
    assert_eq!(reply.status, 200, "the request in flight is answered");
    assert_eq!(reply.body, payload::generate(0, 5, 2048));
    println!("shutdown with one 300ms request in flight took {took:?}");
    assert!(
        took >= Duration::from_millis(150),
        "shutdown did not wait for the request in flight: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");

    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        .expect_err("nothing listens after shutdown");
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused}"
    );
}

#[test]
fn shutdown_gives_up_on_a_request_still_waiting_after_five_seconds() {
    let server = start(ServerConfig::default());
    let url = format!("{}/work?id=1&latency_us=30000000", server.url());
    let client = thread::spawn(move || {
        let started = Instant::now();
        let outcome = agent().get(&url).call().map(|r| r.status().as_u16());
        (outcome, started.elapsed())
    });
    wait_until("the request to be in flight", || {
        server.stats().in_flight == 1
    });

    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    println!("shutdown with one 30s request in flight took {took:?}");
    assert!(
        took >= Duration::from_millis(4_500),
        "shutdown did not give the request its grace period: {took:?}"
    );
    assert!(
        took < Duration::from_secs(7),
        "shutdown is not bounded: {took:?}"
    );

    let (outcome, waited) = client.join().expect("client thread");
    assert!(
        outcome.is_err(),
        "the abandoned request cannot have been answered: {outcome:?}"
    );
    assert!(
        waited < Duration::from_secs(9),
        "the client waited {waited:?}"
    );
}

#[test]
fn a_server_with_two_runtime_threads_serves_correctly() {
    let server = start(ServerConfig {
        threads: 2,
        ..Default::default()
    });
    let url = server.url();
    let clients: Vec<_> = (0..8u64)
        .map(|id| {
            let url = url.clone();
            thread::spawn(move || {
                let agent = agent();
                for round in 0..5u64 {
                    let (id, bytes) = (id * 100 + round, 1_000 + id as usize);
                    let latency = Duration::from_micros(2_000);
                    let started = Instant::now();
                    let reply = get(
                        &agent,
                        &format!("{url}/work?id={id}&latency_us=2000&bytes={bytes}&seed=3"),
                    );
                    assert!(started.elapsed() >= latency);
                    assert_eq!(reply.status, 200);
                    assert_eq!(reply.body, payload::generate(3, id, bytes));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }

    let agent = agent();
    assert_eq!(get(&agent, &format!("{url}/health")).text(), "ok\n");
    let stats = http_stats(&agent, &server);
    assert_eq!(stats.served, 40);
    assert_eq!(
        stats.bytes_sent,
        (0..8u64).map(|id| 5 * (1_000 + id)).sum::<u64>()
    );
    assert_eq!(stats.in_flight, 0);
    assert!(stats.max_in_flight >= 2 && stats.max_in_flight <= 8);
    assert!(
        stats.threads >= 4,
        "2 workers, the thread that runs the accept loop and the timer, got {}",
        stats.threads
    );
    println!(
        "2 runtime threads, 2ms latency: lateness p50 {} µs, p99 {} µs, max {} µs",
        stats.lateness_us.p50, stats.lateness_us.p99, stats.lateness_us.max
    );
    assert!(stats.lateness_us.p50 < 1_000);
    server.shutdown();
}

#[test]
fn the_servers_cpu_is_reported_to_below_a_clock_tick() {
    let server = start(ServerConfig::default());
    let agent = agent();
    let before = http_stats(&agent, &server);
    // A little work: 20 bodies of 256 KiB are some milliseconds of the server's CPU.
    for id in 0..20 {
        let reply = get(
            &agent,
            &format!("{}/work?id={id}&bytes=262144&seed=1", server.url()),
        );
        assert_eq!(reply.status, 200);
    }
    let after = http_stats(&agent, &server);
    let (user, sys) = (
        after.cpu_user_s - before.cpu_user_s,
        after.cpu_sys_s - before.cpu_sys_s,
    );
    assert!(user >= 0.0 && sys >= 0.0, "user {user} s, sys {sys} s");
    let total_ms = (user + sys) * 1e3;
    assert!(total_ms > 0.0, "the server did some work");
    // Clock ticks are 10 ms: a total read from them would be a multiple of 10 ms.
    assert!(
        (total_ms / 10.0 - (total_ms / 10.0).round()).abs() > 1e-6,
        "{total_ms} ms of server CPU is a whole number of 10 ms ticks"
    );
}

#[test]
fn stats_ids_lists_the_ids_requested_other_than_once_and_reset_zeroes_them() {
    let server = start(ServerConfig::default());
    let agent = agent();
    for id in [0, 2, 2, 9] {
        let r = get(
            &agent,
            &format!("{}/work?id={id}&latency_us=0&bytes=8", server.url()),
        );
        assert_eq!(r.status, 200);
    }
    let ids = |query: &str| -> mock_server::IdsReport {
        let r = get(&agent, &format!("{}/stats/ids{query}", server.url()));
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_str(&r.text()).unwrap()
    };
    let r = ids("?below=4");
    assert_eq!(r.once, 1);
    assert_eq!(r.not_once, vec![(1, 0), (2, 2), (3, 0)]);
    assert_eq!((r.not_once_total, r.outside), (3, 1));
    assert_eq!(ids("?from=2&below=4").not_once, vec![(2, 2), (3, 0)]);
    let bad = get(&agent, &format!("{}/stats/ids", server.url()));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("below is required"), "{}", bad.text());
    assert_eq!(
        post(&agent, &format!("{}/stats/reset", server.url())).status,
        200
    );
    assert_eq!(
        ids("?below=4").not_once_total,
        4,
        "reset zeroes every count"
    );
}
