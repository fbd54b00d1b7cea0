//! The server's flags, shared by the `mock-server` binary and the server
//! concbench embeds (the same binary re-executed as a hidden child), and the
//! two ways of running it: in the foreground until a signal, or as a child
//! that ends with its parent.

use std::io::{BufRead, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::dist::LatencyDist;
use crate::{MockServer, ServerConfig};

/// Flags of the mock server.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. Loopback unless you mean otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Latency of requests that carry no latency_us: 50ms, uniform:200ms..700ms,
    /// normal:50ms,10ms, exp:20ms or lognormal:50ms,0.5.
    #[arg(long, default_value = "0", value_parser = parse_latency)]
    pub latency: LatencyDist,
    /// Body bytes of requests that carry no `bytes`.
    #[arg(long, default_value_t = 4096)]
    pub bytes: usize,
    /// Runtime threads; 1 (a current-thread runtime) serves best on 2 cores.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// Seed for latencies the server draws itself.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn parse_latency(s: &str) -> Result<LatencyDist, String> {
    s.parse().map_err(|e: crate::dist::DistError| e.to_string())
}

impl ServerArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            bind: SocketAddr::new(self.host, self.port),
            default_latency: self.latency,
            default_bytes: self.bytes,
            threads: self.threads as usize,
            seed: self.seed,
            ..ServerConfig::default()
        }
    }
}

/// Serves until SIGINT or SIGTERM, printing the URL first.
pub fn run_foreground(args: &ServerArgs) -> anyhow::Result<()> {
    let config = args.config();
    let server = MockServer::start(config.clone()).with_context(|| {
        format!(
            "cannot listen on {}: pick another --port or --host",
            config.bind
        )
    })?;
    println!(
        "mock-server listening on {} (latency {}, {} bytes, {} thread(s)); Ctrl-C stops it",
        server.url(),
        config.default_latency,
        config.default_bytes,
        config.threads
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    server.shutdown();
    Ok(())
}

/// Serves as a child of another process: prints `listening <url>` on stdout,
/// then serves until stdin reaches end-of-file or the parent dies.
///
/// The parent keeps the child's stdin open; when the parent exits for any
/// reason (even SIGKILL) stdin closes, and `PR_SET_PDEATHSIG` sends SIGKILL as
/// a second line of defence, so the child never outlives it.
pub fn run_as_child(args: &ServerArgs) -> anyhow::Result<()> {
    let parent = std::os::unix::process::parent_id();
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on this process.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if std::os::unix::process::parent_id() != parent {
        // The parent died before the flag was set.
        return Ok(());
    }
    // A session of its own puts the server in its own scheduler autogroup
    // (`kernel.sched_autogroup_enabled`, on by default): it stands for another
    // machine, so a client running 100 threads must not shrink its CPU share
    // to 1/101 and make it answer late. Stdin EOF and PDEATHSIG still end it.
    // SAFETY: setsid() only changes this process's session; failure is harmless.
    unsafe { libc::setsid() };
    let server = MockServer::start(args.config()).context("embedded mock server cannot listen")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {}", server.url())?;
    out.flush()?;
    drop(out);
    let stdin = std::io::stdin();
    let mut line = String::new();
    // Anything but EOF (or an error) is ignored: the parent only ever closes stdin.
    while matches!(stdin.lock().read_line(&mut line), Ok(n) if n > 0) {
        line.clear();
    }
    // Requests still in flight are the parent's, and it has gone: do not linger.
    std::thread::spawn(move || server.shutdown());
    std::thread::sleep(Duration::from_millis(200));
    Ok(())
}
