//! Fault injection: each fault (error, reset, stall, drip, rate limit) as a
//! client sees it, drawn from (seed, id, attempt) exactly as predicted, and
//! counted in `/stats`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mock_server::payload;
use mock_server::{Fault, FaultStats, Faults, RateLimit, ServerConfig, ServerStats};

use crate::common::{agent, get, start, wait_until, Reply};
use crate::raw::{raw_get, End};

#[test]
fn error_fault_answers_an_error_status_after_the_latency_and_is_counted() {
    let server = start(ServerConfig {
        faults: Faults {
            error_rate: 1.0,
            ..Faults::NONE
        },
        ..Default::default()
    });
    let agent = agent();
    let mut statuses = Vec::new();
    for id in 0..12 {
        let started = Instant::now();
        let reply = get(
            &agent,
            &format!("{}/work?id={id}&latency_us=20000&bytes=100", server.url()),
        );
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "the error came before the latency: {:?}",
            started.elapsed()
        );
        assert!(matches!(reply.status, 500 | 503), "status {}", reply.status);
        if reply.status == 503 {
            assert_eq!(reply.header("retry-after"), Some("1"));
            assert_eq!(reply.header("x-retry-after-ms"), Some("10"));
        } else {
            assert_eq!(
                reply.header("retry-after"),
                None,
                "a 500 does not say when to retry"
            );
        }
        assert!(String::from_utf8_lossy(&reply.body).contains("error"));
        statuses.push(reply.status);
    }
    assert!(
        statuses.contains(&500) && statuses.contains(&503),
        "both statuses of the default list come up: {statuses:?}"
    );
    // The query overrides the server's default for that request.
    let spared = get(
        &agent,
        &format!("{}/work?id=1&bytes=100&error_rate=0", server.url()),
    );
    assert_eq!(spared.status, 200);
    assert_eq!(spared.body, payload::generate(0, 1, 100));

    let stats = server.stats();
    let faults = server.fault_stats();
    assert_eq!(faults.faults.error, 12);
    assert_eq!(faults.requests, 13);
    assert_eq!((stats.served, stats.bytes_sent), (1, 100));
    assert_eq!(stats.lateness_us.count, 1, "only successful answers");
    assert_eq!(stats.in_flight, 0);
}

#[test]
fn an_error_rate_of_0_3_faults_between_20_and_40_percent_exactly_as_predicted() {
    let server = start(ServerConfig::default());
    let agent = agent();
    let predicted = Faults {
        error_rate: 0.3,
        ..Faults::NONE
    };
    let statuses = [500, 503];
    let n = 500u64;
    let mut errors = 0;
    for id in 0..n {
        let reply = get(
            &agent,
            &format!(
                "{}/work?id={id}&bytes=8&seed=11&error_rate=0.3",
                server.url()
            ),
        );
        let expected = predicted.decide(&statuses, 11, id, 0);
        match expected {
            Some(Fault::Error { status }) => {
                assert_eq!(reply.status, status, "id {id}");
                errors += 1;
            }
            None => assert_eq!(reply.status, 200, "id {id}"),
            other => panic!("only errors are configured: {other:?}"),
        }
    }
    let share = errors as f64 / n as f64;
    println!("error_rate=0.3: {errors} of {n} requests faulted ({share:.3})");
    assert!((0.2..=0.4).contains(&share), "{share}");
    let faults = server.fault_stats();
    assert_eq!(faults.faults.error, errors);
    assert_eq!(faults.requests, n);
    assert_eq!(server.stats().served, n - errors);
}

#[test]
fn the_same_seed_id_and_attempt_meet_the_same_fault_on_two_servers_and_a_retry_draws_afresh() {
    let config = ServerConfig {
        faults: Faults {
            error_rate: 0.3,
            reset_rate: 0.3,
            ..Faults::NONE
        },
        ..Default::default()
    };
    let a = start(config.clone());
    let b = start(config);
    let timeout = Duration::from_secs(5);
    let mut changed_on_retry = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for id in 0..40u64 {
        let mut by_attempt = Vec::new();
        for attempt in 0..2u64 {
            let path = format!("/work?id={id}&bytes=2000&seed=5&attempt={attempt}");
            let on_a = raw_get(a.addr(), &path, timeout).outcome();
            let on_b = raw_get(b.addr(), &path, timeout).outcome();
            assert_eq!(on_a, on_b, "id {id} attempt {attempt}");
            kinds.insert(on_a.clone());
            by_attempt.push(on_a);
        }
        if by_attempt[0] != by_attempt[1] {
            changed_on_retry += 1;
        }
    }
    println!("outcomes seen: {kinds:?}; {changed_on_retry} of 40 ids changed on retry");
    assert!(kinds.contains("200"), "{kinds:?}");
    assert!(
        kinds.len() >= 3,
        "errors and resets both come up: {kinds:?}"
    );
    assert!(changed_on_retry > 0, "attempt=1 is a fresh draw");
    assert_eq!(a.fault_stats(), b.fault_stats());
}

#[test]
fn a_reset_sends_the_head_and_part_of_the_body_then_cuts_the_connection() {
    let server = start(ServerConfig::default());
    let bytes = 100_000;
    for id in 0..3u64 {
        let raw = raw_get(
            server.addr(),
            &format!("/work?id={id}&bytes={bytes}&latency_us=5000&reset_rate=1"),
            Duration::from_secs(5),
        );
        println!(
            "reset: status {:?}, {} of {bytes} body bytes, ended {:?}",
            raw.status,
            raw.body.len(),
            raw.end
        );
        assert!(
            matches!(raw.end, End::Reset | End::Closed),
            "the answer must not complete: {:?}",
            raw.end
        );
        assert_eq!(raw.status, Some(200));
        assert_eq!(
            raw.content_length,
            Some(bytes),
            "the head promises the whole body"
        );
        assert!(raw.body.len() < bytes);
        let expected = payload::generate(0, id, bytes);
        assert_eq!(
            raw.body[..],
            expected[..raw.body.len()],
            "what arrived is the true prefix"
        );
    }
    // An empty body cannot be cut: the connection closes before the head.
    let raw = raw_get(
        server.addr(),
        "/work?id=1&bytes=0&reset_rate=1",
        Duration::from_secs(5),
    );
    assert!(matches!(raw.end, End::Closed | End::Reset), "{raw:?}");
    assert_eq!(raw.status, None);
    // A keep-alive client sees an error, not a body.
    let agent = agent();
    let mut resp = agent
        .get(&format!(
            "{}/work?id=9&bytes={bytes}&reset_rate=1",
            server.url()
        ))
        .call()
        .expect("the head arrives");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.body_mut().read_to_vec().is_err(), "the body is cut");

    let stats = server.stats();
    assert_eq!(server.fault_stats().faults.reset, 5);
    assert_eq!(stats.served, 0);
    assert_eq!(stats.bytes_sent, 4 * bytes as u64 / 2);
    wait_until("the reset requests to leave in_flight", || {
        server.stats().in_flight == 0
    });
}

#[test]
fn a_stall_holds_the_request_until_the_client_gives_up_and_then_lets_go() {
    let server = start(ServerConfig::default());
    let started = Instant::now();
    let raw = raw_get(
        server.addr(),
        "/work?id=1&stall_rate=1",
        Duration::from_millis(300),
    );
    assert_eq!(raw.end, End::TimedOut, "{raw:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(raw.status, None, "nothing at all was answered");

    // The request stayed in flight while held; the raw client closed its
    // connection when `raw_get` returned, so it is let go.
    wait_until("the stalled request to leave in_flight", || {
        server.stats().in_flight == 0
    });
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 1);
    assert_eq!(stats.served, 0);
    assert_eq!(server.fault_stats().faults.stall, 1);
}

#[test]
fn shutdown_is_prompt_with_a_stalled_request_open() {
    let server = start(ServerConfig {
        faults: Faults {
            stall_rate: 1.0,
            ..Faults::NONE
        },
        ..Default::default()
    });
    let addr = server.addr();
    let client = thread::spawn(move || {
        let started = Instant::now();
        let raw = raw_get(addr, "/work?id=1", Duration::from_secs(5));
        (raw, started.elapsed())
    });
    wait_until("the request to be held", || server.stats().in_flight == 1);
    assert_eq!(server.fault_stats().faults.stall, 1);

    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    println!("shutdown with a stalled request open took {took:?}");
    assert!(
        took < Duration::from_secs(2),
        "the stall held shutdown for {took:?}"
    );

    let (raw, waited) = client.join().expect("client thread");
    assert!(
        matches!(raw.end, End::Closed | End::Reset),
        "the client sees its connection closed, not a timeout: {raw:?}"
    );
    assert_eq!(raw.status, None);
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[test]
fn stall_max_lets_go_of_a_stalled_request() {
    let server = start(ServerConfig {
        stall_max: Duration::from_millis(200),
        ..Default::default()
    });
    let started = Instant::now();
    let raw = raw_get(
        server.addr(),
        "/work?id=1&stall_rate=1",
        Duration::from_secs(5),
    );
    let waited = started.elapsed();
    assert_eq!(raw.end, End::Closed, "{raw:?}");
    assert_eq!(raw.status, None);
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    wait_until("the request to leave in_flight", || {
        server.stats().in_flight == 0
    });
}

#[test]
fn a_drip_spreads_the_body_over_its_duration() {
    let server = start(ServerConfig::default());
    let bytes = 10_000;
    let raw = raw_get(
        server.addr(),
        &format!("/work?id=4&bytes={bytes}&latency_us=10000&drip_us=200000&seed=2"),
        Duration::from_secs(5),
    );
    assert_eq!(raw.end, End::Complete, "{raw:?}");
    assert_eq!(raw.status, Some(200));
    assert_eq!(raw.content_length, Some(bytes));
    assert_eq!(raw.body, payload::generate(2, 4, bytes));
    let head_after = raw.head_after.expect("head");
    let body_took = raw.body_took.expect("body");
    println!(
        "drip of 200ms: head after {head_after:?}, last byte {body_took:?} later, {} reads",
        raw.body_reads
    );
    assert!(
        head_after >= Duration::from_millis(10),
        "the head waits for the latency"
    );
    assert!(
        head_after < Duration::from_millis(150),
        "the head does not wait for the drip: {head_after:?}"
    );
    assert!(body_took >= Duration::from_millis(150), "{body_took:?}");
    assert!(body_took < Duration::from_secs(2), "{body_took:?}");
    assert!(
        raw.body_reads >= 5,
        "the body came in slices: {}",
        raw.body_reads
    );

    wait_until("the drip to count as served", || server.stats().served == 1);
    let stats = server.stats();
    assert_eq!(stats.bytes_sent, bytes as u64);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(server.fault_stats().faults.drip, 1);
}

#[test]
fn a_server_default_drip_applies_unless_the_query_turns_it_off() {
    let server = start(ServerConfig {
        faults: Faults {
            drip: Duration::from_millis(100),
            ..Faults::NONE
        },
        ..Default::default()
    });
    let agent = agent();
    let started = Instant::now();
    let reply = get(&agent, &format!("{}/work?id=1&bytes=500", server.url()));
    assert_eq!(reply.body, payload::generate(0, 1, 500));
    assert!(
        started.elapsed() >= Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let reply = get(
        &agent,
        &format!("{}/work?id=1&bytes=500&drip_rate=0", server.url()),
    );
    assert_eq!(reply.body, payload::generate(0, 1, 500));
    assert!(
        started.elapsed() < Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );
    // An empty body has nothing to drip and is answered at once.
    let started = Instant::now();
    let reply = get(&agent, &format!("{}/work?id=1&bytes=0", server.url()));
    assert_eq!((reply.status, reply.body.len()), (200, 0));
    assert!(
        started.elapsed() < Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );
    // A dripping client that leaves mid-body does not stay in flight.
    let mut conn = TcpStream::connect(server.addr()).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"GET /work?id=2&bytes=500 HTTP/1.1\r\nhost: test\r\n\r\n")
        .expect("send");
    let mut head = [0u8; 64];
    assert!(conn.read(&mut head).expect("the head arrives") > 0);
    drop(conn);
    wait_until("the abandoned drip to leave in_flight", || {
        server.stats().in_flight == 0
    });
    thread::sleep(Duration::from_millis(150));
    assert_eq!(
        server.stats().served,
        3,
        "the abandoned drip was not served"
    );
    // The empty body counts as a drip: the decision does not look at the length.
    assert_eq!(server.fault_stats().faults.drip, 3);
}

#[test]
fn the_rate_limit_answers_429_with_both_retry_headers_when_a_burst_exceeds_it() {
    let server = start(ServerConfig {
        rate_limit: Some(RateLimit {
            rate: "10/s".parse().unwrap(),
            burst: 3,
        }),
        ..Default::default()
    });
    let agent = agent();
    let url = format!("{}/work?id=1&bytes=10", server.url());
    let started = Instant::now();
    let replies: Vec<Reply> = (0..8).map(|_| get(&agent, &url)).collect();
    let took = started.elapsed();
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok + limited.len(), 8);
    // A burst of 3, plus one token per 100 ms the burst took.
    let refills = (took.as_millis() / 100) as usize;
    assert!(
        ok >= 3 && ok <= 4 + refills && !limited.is_empty(),
        "{ok} of 8 passed in {took:?}"
    );
    for reply in &limited {
        assert_eq!(reply.header("retry-after"), Some("1"));
        let ms: u64 = reply
            .header("x-retry-after-ms")
            .expect("x-retry-after-ms")
            .parse()
            .expect("whole milliseconds");
        assert!((1..=100).contains(&ms), "a token every 100 ms: {ms}");
    }
    // Waiting as told gets a token.
    let wait: u64 = limited
        .last()
        .and_then(|r| r.header("x-retry-after-ms"))
        .expect("a 429")
        .parse()
        .unwrap();
    thread::sleep(Duration::from_millis(wait + 5));
    assert_eq!(get(&agent, &url).status, 200);

    let faults = server.fault_stats();
    assert_eq!(faults.faults.rate_limited, limited.len() as u64);
    assert_eq!(faults.requests, 9);
    assert_eq!(server.stats().served, ok as u64 + 1);
}

#[test]
fn stats_json_carries_requests_and_fault_counts_next_to_the_old_fields() {
    let server = start(ServerConfig::default());
    let agent = agent();
    let work = |q: &str| get(&agent, &format!("{}/work?id=1&bytes=10{q}", server.url()));
    assert_eq!(work("").status, 200);
    assert_eq!(work("&error_rate=1").status / 100, 5);
    assert_eq!(work("&error_rate=5").status, 400);
    let body = get(&agent, &format!("{}/stats", server.url())).body;
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["requests"], 3);
    assert_eq!(
        json["faults"],
        serde_json::json!({"error": 1, "reset": 0, "stall": 0, "drip": 0, "rate_limited": 0})
    );
    assert_eq!(json["served"], 1);
    assert_eq!(json["bad_requests"], 1);
    // Both views read from the same body.
    let old: ServerStats = serde_json::from_slice(&body).expect("ServerStats");
    let new: FaultStats = serde_json::from_slice(&body).expect("FaultStats");
    assert_eq!(old.served, 1);
    assert_eq!(new, server.fault_stats());
    // A /stats body from a server without fault counters reads as zeros.
    let older = serde_json::to_vec(&old).unwrap();
    let none: FaultStats = serde_json::from_slice(&older).expect("FaultStats from an old body");
    assert_eq!(none, FaultStats::default());
}
