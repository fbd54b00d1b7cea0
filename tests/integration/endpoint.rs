//! `--target` with `{id}`: a server concbench did not write (Python's
//! `http.server`, started here on port 0 and stopped on drop), verified by
//! the endpoint's checks, without `/stats`; bad endpoint input is one line.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common;

/// Python's `http.server` serving `dir` on a free loopback port.
struct StaticServer {
    child: Child,
    port: u16,
}

impl StaticServer {
    fn start(dir: &Path) -> StaticServer {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is on the machine");
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer { child, port }
    }

    fn template(&self) -> String {
        format!("http://127.0.0.1:{}/{{id}}.json", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of `n` posts, `0.json` to `{n-1}.json`; post `odd` says `"ok": false`.
fn posts(name: &str, n: usize, odd: Option<usize>) -> std::path::PathBuf {
    let dir = common::fresh_dir(name);
    for i in 0..n {
        let ok = Some(i) != odd;
        std::fs::write(
            dir.join(format!("{i}.json")),
            format!(r#"{{"id": {i}, "title": "post {i}", "ok": {ok}}}"#),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_server_without_stats_is_driven_and_verified_by_its_checks() {
    let _cores = common::busy_cores();
    let dir = posts("endpoint-ok", 12, None);
    let server = StaticServer::start(&dir);
    let out = common::concbench(&[
        "run",
        "-s",
        "sequential,thread-pool,async,process-pool",
        "-n",
        "12",
        "-c",
        "4",
        "--cpu",
        "0",
        "--target",
        &server.template(),
        "--check",
        "json=/ok=true",
        "--check",
        "contains=post",
        "-f",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["meta"]["endpoint"],
        format!("GET {}", server.template())
    );
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert_eq!(r["tasks_ok"], 12, "{r}");
        assert!(
            r.get("server").is_none(),
            "server-side figures are absent, not zero: {r}"
        );
        assert!(
            r["ideal_s"].as_f64().unwrap() > 0.0,
            "a bound from the latencies met"
        );
    }
}

#[test]
fn a_response_that_fails_its_check_fails_the_task_naming_the_check() {
    let _cores = common::busy_cores();
    let dir = posts("endpoint-bad", 6, Some(3));
    let server = StaticServer::start(&dir);
    // Task 6 has no file: 404 against the implied status=2xx.
    let out = common::concbench(&[
        "run",
        "-s",
        "sequential,async",
        "-n",
        "7",
        "--cpu",
        "0",
        "--target",
        &server.template(),
        "--check",
        "json=/ok=true",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2 of 7 tasks failed (check: 2)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("task 3: check json=/ok=true failed: /ok is false"),
        "{stderr}"
    );
}

#[test]
fn bad_endpoint_input_is_one_line_naming_the_flag_and_the_fix() {
    for (args, says) in [
        (
            vec!["--target", "http://127.0.0.1:9/items"],
            "has a path but no {id}",
        ),
        (
            vec!["--target", "http://127.0.0.1:1/{id}"],
            "cannot reach 127.0.0.1:1",
        ),
        (
            vec!["--target", "http://127.0.0.1:9/{id}", "--check", "size=3"],
            "'size' is not a kind of check",
        ),
        (
            vec!["--check", "status=2xx"],
            "give --target a URL template with {id}",
        ),
        (
            vec!["--target", "http://127.0.0.1:9/{id}", "--header", "nocolon"],
            "must be NAME: VALUE",
        ),
    ] {
        let mut argv = vec!["run", "-n", "3"];
        argv.extend(args);
        let line = common::one_line_usage_error(&argv);
        assert!(line.contains(says), "{argv:?}: {line}");
    }
}

/// A server that answers every request with a head announcing `length`
/// bytes, sends none of them, and closes: a body over the cap, or cut short.
fn announcing_server(length: u64) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let serve = std::thread::spawn(move || {
        // Bounded: at most 5 s, whatever the clients do.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < until {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(1)));
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n");
                    let _ = s.write_all(head.as_bytes());
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    });
    (port, serve)
}

#[test]
fn a_body_announced_over_the_cap_fails_its_task_without_being_read() {
    let _cores = common::busy_cores();
    let (port, _serve) = announcing_server(1 << 40);
    let template = format!("http://127.0.0.1:{port}/{{id}}");
    let out = common::concbench(&[
        "run", "-s", "async", "-n", "2", "--cpu", "0", "--target", &template,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 of 2 tasks failed (body: 2)"), "{stderr}");
    assert!(stderr.contains("over the 67108864-byte cap"), "{stderr}");
}
