//! The server side of a run, seen from the client: the embedded mock server
//! (concbench re-executed as a hidden child process, so its CPU never counts
//! as the client's) and the HTTP calls that read and reset a server's stats.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use mock_server::{FaultStats, ServerStats};
use serde::Deserialize;

/// One `/stats` body: the server's stats and, in the same JSON object, its
/// fault counters (two types on the mock server's side), read in one pass.
#[derive(Deserialize)]
struct StatsBody {
    #[serde(flatten)]
    stats: ServerStats,
    #[serde(flatten)]
    faults: FaultStats,
}

use crate::error::UsageError;
use crate::sys::children::{self, Role};
use crate::sys::process::{concbench_exe, EXE_ENV};

/// The hidden subcommand that runs the embedded server.
pub const SERVER_SUBCOMMAND: &str = "__mock-server";

/// The mock server as a child process. Dropping it ends the child: its stdin
/// closes (the child exits on EOF), and after a grace period it is killed.
/// The child also asks the kernel for SIGKILL when its parent dies.
pub struct EmbeddedServer {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
}

impl EmbeddedServer {
    /// Starts the server on a free loopback port and waits (at most 10 s) until it listens.
    pub fn start(extra_args: &[String]) -> anyhow::Result<Self> {
        let exe = concbench_exe()?;
        let mut child = Command::new(&exe)
            .arg(SERVER_SUBCOMMAND)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| {
                format!("cannot start the embedded mock server ({})", exe.display())
            })?;
        children::register_as(child.id(), Role::Server);
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = EmbeddedServer {
            child,
            stdin,
            url: String::new(),
        };
        // Waits in short steps so that a Ctrl-C stops the wait at once.
        let deadline = Instant::now() + Duration::from_secs(10);
        let line = loop {
            if crate::interrupt::requested() {
                anyhow::bail!("interrupted while the embedded mock server was starting");
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => break line,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => anyhow::bail!("the embedded mock server did not start within 10 s"),
            }
        };
        server.url = line
            .trim()
            .strip_prefix("listening ")
            .ok_or_else(|| {
                anyhow!(
                    "the embedded mock server did not start (it said {:?}); is {} the concbench binary? Set {EXE_ENV}",
                    line.trim(),
                    exe.display()
                )
            })?
            .to_string();
        Ok(server)
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                children::unregister(self.child.id());
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        children::unregister(self.child.id());
    }
}

/// Talks to a server's control endpoints (`/health`, `/stats`, `/stats/reset`).
pub struct ServerControl {
    agent: ureq::Agent,
    url: String,
}

/// Whether `authority` (`host:port`) accepts a TCP connection within 5 s;
/// a [`UsageError`] of `flag` saying so when not.
pub fn check_reachable(authority: &str, flag: &str) -> Result<(), UsageError> {
    use std::net::{TcpStream, ToSocketAddrs};
    let fix = "start the server, or fix the host and port in the URL";
    let addrs: Vec<_> = authority
        .to_socket_addrs()
        .map_err(|e| UsageError::new(flag, format!("cannot resolve {authority} ({e}); {fix}")))?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(UsageError::new(
        flag,
        format!(
            "cannot reach {authority} ({}); {fix}",
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into())
        ),
    ))
}

impl ServerControl {
    pub fn new(url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        Self {
            agent,
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// Checks that the target answers like a concbench mock server.
    pub fn check(&self, flag: &str) -> Result<(), UsageError> {
        let fix = "start one with `mock-server --port 8080` or leave out --target to use the embedded server";
        let mut resp = self
            .agent
            .get(format!("{}/health", self.url))
            .call()
            .map_err(|e| {
                UsageError::new(flag, format!("cannot reach {} ({e}); {fix}", self.url))
            })?;
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        if body.trim() != "ok" {
            return Err(UsageError::new(
                flag,
                format!(
                    "{} answered /health with {:?}, not a concbench mock server; {fix}",
                    self.url,
                    body.trim()
                ),
            ));
        }
        self.stats().map_err(|e| {
            UsageError::new(
                flag,
                format!("{} has no usable /stats ({e:#}); {fix}", self.url),
            )
        })?;
        Ok(())
    }

    /// The server's `/stats`.
    pub fn stats(&self) -> anyhow::Result<ServerStats> {
        Ok(self.stats_with_faults()?.0)
    }

    /// The server's `/stats`, with the requests it received and the faults
    /// they met (zero from a server that does not count them).
    pub fn stats_with_faults(&self) -> anyhow::Result<(ServerStats, FaultStats)> {
        let mut resp = self
            .agent
            .get(format!("{}/stats", self.url))
            .call()
            .context("GET /stats")?;
        let text = resp.body_mut().read_to_string().context("reading /stats")?;
        let body: StatsBody = serde_json::from_str(&text).context("parsing /stats")?;
        Ok((body.stats, body.faults))
    }

    /// Starts a new lateness window on the server.
    pub fn reset(&self) -> anyhow::Result<()> {
        self.agent
            .post(format!("{}/stats/reset", self.url))
            .send_empty()
            .context("POST /stats/reset")?;
        Ok(())
    }
}
