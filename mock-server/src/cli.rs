//! The server's flags, shared by the `mock-server` binary and the server
//! concbench embeds (the same binary re-executed as a hidden child); the fault
//! flags ([`FaultArgs`]), shared with `concbench run` too; and the two ways of
//! running the server: in the foreground until a signal, or as a child that
//! ends with its parent.

use std::io::{BufRead, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::config::ServerConfig;
use crate::dist::LatencyDist;
use crate::faults::{self, Rate, RateLimit};
use crate::serve::MockServer;
use crate::units;

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

    #[command(flatten, next_help_heading = FAULTS)]
    pub faults: FaultArgs,

    /// Largest body a request may ask for (400 beyond it).
    #[arg(long, value_name = "BYTES", default_value_t = ServerConfig::default().max_bytes, help_heading = CAPS)]
    pub max_bytes: usize,
    /// Longest latency a request may ask for (400 beyond it).
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration, help_heading = CAPS)]
    pub max_latency: Duration,
    /// Longest drip a request may ask for (400 beyond it).
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration, help_heading = CAPS)]
    pub max_drip: Duration,
}

const FAULTS: &str = "Faults (seeded by each request's seed, id and attempt)";
const CAPS: &str = "Safety caps";

/// The fault flags: one definition for the `mock-server` binary and for
/// `concbench run`, which hands the ones given to its embedded server
/// ([`Self::server_args`]). Each parent picks the help heading
/// (`#[command(flatten, next_help_heading = ...)]`).
///
/// A flag not given is `None` (an empty list for `--error-status`) and keeps
/// the server's default ([`Self::apply`]): concbench must tell a flag given
/// from one left to the server, so the defaults are in the help text rather
/// than clap defaults.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct FaultArgs {
    /// Fraction of /work requests answered with an error status (--error-status)
    /// after their latency, e.g. 0.1.
    #[arg(long, value_name = "F", value_parser = faults::parse_fraction)]
    pub error_rate: Option<f64>,
    /// Error statuses, one drawn per request, e.g. 503 or 500,503 (the default);
    /// a 503 carries Retry-After: 1 and x-retry-after-ms.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = faults::parse_error_status)]
    pub error_status: Vec<u16>,
    /// Fraction of /work requests whose connection is reset after the head and about
    /// half the body (sent after the latency).
    #[arg(long, value_name = "F", value_parser = faults::parse_fraction)]
    pub reset_rate: Option<f64>,
    /// Fraction of /work requests never answered: held until the client leaves
    /// (e.g. at its timeout), the server stops or --stall-max passes.
    #[arg(long, value_name = "F", value_parser = faults::parse_fraction)]
    pub stall_rate: Option<f64>,
    /// Longest a stalled request is held before its connection is closed (default 10m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub stall_max: Option<Duration>,
    /// Slow bodies: the head after the latency, then the body in 10 slices spread
    /// over DUR, e.g. 200ms.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub drip: Option<Duration>,
    /// Fraction of /work requests that drip when a drip is set (default 1).
    #[arg(long, value_name = "F", value_parser = faults::parse_fraction)]
    pub drip_rate: Option<f64>,
    /// Token bucket in front of /work, e.g. 500/s or 20/ms: a request finding no token
    /// is answered 429 at once, with Retry-After and x-retry-after-ms. Time-based, not seeded.
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<Rate>,
    /// Bucket size of --rate-limit: requests allowed at once after a quiet spell.
    /// Default: a tenth of a second's worth of the rate, at least 1.
    #[arg(long, value_name = "N", requires = "rate_limit", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_burst: Option<u32>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    units::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_latency(s: &str) -> Result<LatencyDist, String> {
    s.parse().map_err(|e: crate::dist::DistError| e.to_string())
}

impl ServerArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig {
            bind: SocketAddr::new(self.host, self.port),
            default_latency: self.latency,
            default_bytes: self.bytes,
            threads: self.threads as usize,
            seed: self.seed,
            max_bytes: self.max_bytes,
            max_latency: self.max_latency,
            max_drip: self.max_drip,
            ..ServerConfig::default()
        };
        self.faults.apply(&mut config);
        config
    }
}

impl FaultArgs {
    /// Sets the faults given in `config`; the others keep `config`'s values.
    pub fn apply(&self, config: &mut ServerConfig) {
        let f = &mut config.faults;
        let set = |field: &mut f64, given: Option<f64>| {
            if let Some(v) = given {
                *field = v;
            }
        };
        set(&mut f.error_rate, self.error_rate);
        set(&mut f.reset_rate, self.reset_rate);
        set(&mut f.stall_rate, self.stall_rate);
        set(&mut f.drip_rate, self.drip_rate);
        if let Some(d) = self.drip {
            f.drip = d;
        }
        if !self.error_status.is_empty() {
            config.error_statuses = self.error_status.clone();
        }
        if let Some(d) = self.stall_max {
            config.stall_max = d;
        }
        if let Some(rate) = self.rate_limit {
            config.rate_limit = Some(RateLimit {
                rate,
                burst: self
                    .rate_burst
                    .unwrap_or_else(|| RateLimit::default_burst(rate)),
            });
        }
    }

    /// These faults as the server's flags, only those given: what concbench
    /// passes to its embedded server (and shows in its results).
    pub fn server_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        let mut push = |flag: &str, v: String| {
            a.push(flag.to_string());
            a.push(v);
        };
        if let Some(f) = self.error_rate {
            push("--error-rate", f.to_string());
        }
        if !self.error_status.is_empty() {
            let list: Vec<String> = self.error_status.iter().map(u16::to_string).collect();
            push("--error-status", list.join(","));
        }
        if let Some(f) = self.reset_rate {
            push("--reset-rate", f.to_string());
        }
        if let Some(f) = self.stall_rate {
            push("--stall-rate", f.to_string());
        }
        if let Some(d) = self.stall_max {
            push("--stall-max", format!("{}us", d.as_micros()));
        }
        if let Some(d) = self.drip {
            push("--drip", format!("{}us", d.as_micros()));
        }
        if let Some(f) = self.drip_rate {
            push("--drip-rate", f.to_string());
        }
        if let Some(r) = self.rate_limit {
            push("--rate-limit", r.to_string());
        }
        if let Some(b) = self.rate_burst {
            push("--rate-burst", b.to_string());
        }
        a
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
    if !config.faults.is_none() {
        println!("faults: {}", describe_faults(&config));
    }
    if let Some(limit) = config.rate_limit {
        println!("rate limit: {limit}");
    }
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

/// The faults of `config`, in words, for the start-up banner.
fn describe_faults(config: &ServerConfig) -> String {
    let f = &config.faults;
    let mut parts = Vec::new();
    if f.stall_rate > 0.0 {
        parts.push(format!(
            "stall {} (held up to {})",
            f.stall_rate,
            units::format_duration(config.stall_max)
        ));
    }
    if f.error_rate > 0.0 {
        parts.push(format!(
            "error {} ({:?})",
            f.error_rate, config.error_statuses
        ));
    }
    if f.reset_rate > 0.0 {
        parts.push(format!("reset {}", f.reset_rate));
    }
    if !f.drip.is_zero() && f.drip_rate > 0.0 {
        parts.push(format!(
            "drip {} over {}",
            f.drip_rate,
            units::format_duration(f.drip)
        ));
    }
    parts.join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    fn parse(args: &[&str]) -> Result<ServerArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("mock-server").chain(args.iter().copied()))
            .map(|c| c.server)
    }

    #[test]
    fn defaults_mean_no_faults_and_the_library_caps() {
        let config = parse(&[]).unwrap().config();
        let default = ServerConfig::default();
        assert_eq!(config.faults, Faults::NONE);
        assert_eq!(config.error_statuses, vec![500, 503]);
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.stall_max, default.stall_max);
        assert_eq!(config.max_bytes, default.max_bytes);
        assert_eq!(config.max_latency, default.max_latency);
        assert_eq!(config.max_drip, default.max_drip);
    }

    #[test]
    fn fault_flags_reach_the_config() {
        let config = parse(&[
            "--error-rate",
            "0.1",
            "--error-status",
            "502,503",
            "--reset-rate",
            "0.2",
            "--stall-rate",
            "0.05",
            "--stall-max",
            "30s",
            "--drip",
            "200ms",
            "--drip-rate",
            "0.5",
            "--rate-limit",
            "500/s",
            "--rate-burst",
            "7",
            "--max-drip",
            "1s",
        ])
        .unwrap()
        .config();
        assert_eq!(
            config.faults,
            Faults {
                stall_rate: 0.05,
                error_rate: 0.1,
                reset_rate: 0.2,
                drip: Duration::from_millis(200),
                drip_rate: 0.5,
            }
        );
        assert_eq!(config.error_statuses, vec![502, 503]);
        assert_eq!(config.stall_max, Duration::from_secs(30));
        assert_eq!(config.max_drip, Duration::from_secs(1));
        let limit = config.rate_limit.unwrap();
        assert_eq!((limit.rate.per_second(), limit.burst), (500.0, 7));
        let default_burst = parse(&["--rate-limit", "20/ms"]).unwrap().config();
        assert_eq!(default_burst.rate_limit.unwrap().burst, 2_000);
    }

    #[test]
    fn the_fault_flags_given_are_handed_on_in_words_that_parse_back_to_them() {
        assert!(parse(&[]).unwrap().faults.server_args().is_empty());
        let given = parse(&[
            "--error-rate",
            "0.1",
            "--error-status",
            "502,503",
            "--reset-rate",
            "0.2",
            "--stall-rate",
            "0.05",
            "--stall-max",
            "30s",
            "--drip",
            "200ms",
            "--drip-rate",
            "0.5",
            "--rate-limit",
            "20/ms",
            "--rate-burst",
            "7",
        ])
        .unwrap()
        .faults;
        let words = given.server_args();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        assert_eq!(parse(&words).unwrap().faults, given);
        let one = parse(&["--stall-rate", "0.5"]).unwrap().faults;
        assert_eq!(one.server_args(), ["--stall-rate", "0.5"]);
    }

    #[test]
    fn bad_fault_flags_are_refused_naming_the_flag() {
        for (args, flag) in [
            (&["--error-rate", "1.5"][..], "--error-rate"),
            (&["--reset-rate=-0.1"], "--reset-rate"),
            (&["--stall-rate", "x"], "--stall-rate"),
            (&["--drip-rate", "2"], "--drip-rate"),
            (&["--drip", "200"], "--drip"),
            (&["--stall-max", "forever"], "--stall-max"),
            (&["--error-status", "500,200"], "--error-status"),
            (&["--rate-limit", "fast"], "--rate-limit"),
            (
                &["--rate-limit", "5/s", "--rate-burst", "0"],
                "--rate-burst",
            ),
            (&["--rate-burst", "5"], "--rate-burst"),
        ] {
            let err = parse(args).map(|_| ()).unwrap_err().to_string();
            assert!(err.contains(flag), "{args:?}: {err}");
        }
    }
}
