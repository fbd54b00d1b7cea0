//! What every strategy is told about the run ([`RunContext`]), and the
//! preamble every strategy would otherwise repeat: its session, its HTTP
//! clients, its worker processes' configuration.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::http::{AsyncClient, BlockingClient, ClientPolicy, ConnectionMode, Endpoint, Session};
use crate::sys::rusage::WindowStart;
use crate::task::UserTaskRef;
use crate::worker::config::WorkerSpawn;
use crate::worker::{WorkerConfig, WorkerMode};
use crate::workload::TaskPlan;

/// What every strategy is told about the run: where, how many at once, on
/// how many cores, and the [`StrategyOptions`] the user chose.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Base URL of the mock server, without a trailing slash.
    pub base_url: String,
    /// Requests in flight at once (C), for strategies that overlap requests.
    pub concurrency: usize,
    /// Cores the client may use (P): sizes runtimes and pools, and the bound's CPU term.
    pub cores: usize,
    pub options: StrategyOptions,
}

/// How the strategies are set up, the same for every strategy of a run:
/// given once by the user (the run options of the bench layer) and handed
/// to every strategy in its [`RunContext`].
#[derive(Debug, Clone, Default)]
pub struct StrategyOptions {
    /// Worker threads or processes of the pool strategies (W); `None` means each
    /// strategy's documented default (P for CPU pools and process pools).
    pub workers: Option<usize>,
    /// Keep-alive connections (`reuse`) or a new connection per request (`new`).
    pub connection: ConnectionMode,
    /// Open the C connections before the measured window (`--preconnect`,
    /// as wrk does before it measures), on the strategies whose client
    /// keeps them in this process ([`RunContext::async_client`]).
    pub preconnect: bool,
    /// How process pools hand out tasks: in fixed chunks or one batch at a time.
    pub schedule: Schedule,
    /// Tasks per message to a pool worker under the dynamic schedule (0 is 1).
    pub batch: usize,
    /// The concbench executable that process strategies re-execute as workers;
    /// `None` is [`crate::sys::process::concbench_exe`] (`CONCBENCH_EXE` or this executable).
    pub worker_exe: Option<PathBuf>,
    /// Timeout, retries, rate limit and deadline of every request (the same for every strategy).
    pub policy: ClientPolicy,
    /// Most tasks one worker process of a process pool is sent before a fresh
    /// process replaces it (`--max-tasks-per-child`); `None`: no limit.
    pub max_tasks_per_child: Option<usize>,
    /// Test-only: the parent panics after this many outcomes of a process
    /// pool, to prove that no worker outlives a panicking parent. Set only by
    /// the hidden `--test-panic-after` flag; `None` in every real run.
    pub test_panic_after: Option<usize>,
    /// Test-only: the task whose fetch panics, in this process or in a
    /// worker (see [`crate::http::Session::test_panic_task`]).
    pub test_panic_task: Option<u64>,
    /// The user's endpoint when the target is not a mock server (`--target`
    /// with `{id}`): every client and worker calls it instead of `/work`.
    pub endpoint: Option<Arc<Endpoint>>,
    /// The user's own task ([`crate::task::user`]), run instead of requests;
    /// process strategies re-execute the user's binary (`worker_exe`).
    pub user: Option<UserTaskRef>,
}

/// How a process pool hands tasks to its workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Contiguous chunks decided up front, like `Pool.map`.
    Static,
    /// Batches handed to whichever worker is free, like `imap_unordered`.
    #[default]
    Dynamic,
}

impl Schedule {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Static => "static",
            Schedule::Dynamic => "dynamic",
        }
    }
}

impl RunContext {
    /// A context with the default options for everything but the target, C and P.
    pub fn new(base_url: impl Into<String>, concurrency: usize, cores: usize) -> Self {
        Self {
            base_url: base_url.into(),
            concurrency,
            cores,
            options: StrategyOptions {
                batch: 1,
                ..StrategyOptions::default()
            },
        }
    }

    /// What every request of a run started at `run_start_ns` shares (in
    /// this process; worker processes build their own from their config).
    pub fn session(&self, plan: &TaskPlan, run_start_ns: u64) -> Arc<Session> {
        Arc::new(
            Session::new(&self.base_url, plan.seed, run_start_ns, self.options.policy)
                .with_test_panic_task(self.options.test_panic_task)
                .with_work(plan.work)
                .with_body_bytes(plan.body_bytes_max())
                .with_endpoint(self.options.endpoint.clone())
                .with_user(self.options.user.clone())
                .with_due(plan.due_us.clone()),
        )
    }

    /// The async client of a strategy that keeps C requests in flight in
    /// this process, set up on `runtime`: under `--preconnect` its C
    /// connections are opened first, and the run (its session's start, due
    /// times, the measured window) begins after them. Returns the client,
    /// how many connections were opened before the window, and where the
    /// window began (`None` without `--preconnect`).
    pub fn async_client(
        &self,
        plan: &TaskPlan,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<(AsyncClient, u64, Option<WindowStart>)> {
        let run_start_ns = crate::sys::clock::mono_now_ns();
        let session = self.session(plan, run_start_ns);
        let want_reuse = self.options.connection == ConnectionMode::Reuse;
        if !self.options.preconnect || !want_reuse || session.user.is_some() {
            let client = AsyncClient::new(self.concurrency, self.options.connection, session)?;
            return Ok((client, 0, None));
        }
        let conns = AsyncClient::connections(self.concurrency, self.options.connection, &session)?;
        let opened = runtime
            .block_on(conns.preconnect(self.concurrency))
            .map_err(|e| anyhow::anyhow!("--preconnect: {e}"))?;
        let window = WindowStart::now();
        let session = self.session(plan, crate::sys::clock::mono_now_ns());
        Ok((
            AsyncClient::with_connections(conns, session),
            opened as u64,
            Some(window),
        ))
    }

    /// The blocking client of a strategy whose `pool` threads share this
    /// process's keep-alive connections.
    pub fn blocking_client(
        &self,
        pool: usize,
        plan: &TaskPlan,
        run_start_ns: u64,
    ) -> BlockingClient {
        BlockingClient::new(
            pool,
            self.options.connection,
            self.session(plan, run_start_ns),
        )
    }

    /// How to start worker processes of `mode` for this run: each makes
    /// `in_flight` requests at once on its own `in_flight` connections and
    /// gets `policy` (its share of the client policy).
    pub fn workers_spawn(
        &self,
        mode: WorkerMode,
        plan: &TaskPlan,
        run_start_ns: u64,
        in_flight: usize,
        policy: ClientPolicy,
    ) -> anyhow::Result<WorkerSpawn> {
        let mut config = WorkerConfig::new(mode, plan.seed, run_start_ns);
        config.work = plan.work;
        config.body_bytes = plan.body_bytes_max();
        config.user = self.options.user.is_some();
        (config.arrival, config.tasks) = (plan.arrival, plan.specs.len());
        if mode != WorkerMode::Cpu {
            config.base_url = self.base_url.clone();
            config.connection = self.options.connection;
            config.pool = in_flight.max(1);
            config.in_flight = in_flight.max(1);
            config.policy = policy;
            config.test_panic_task = self.options.test_panic_task;
            config.endpoint = self.options.endpoint.as_deref().cloned();
        }
        Ok(WorkerSpawn {
            exe: self.exe()?,
            config,
        })
    }

    /// The executable to start workers from.
    pub fn exe(&self) -> anyhow::Result<PathBuf> {
        match &self.options.worker_exe {
            Some(p) => Ok(p.clone()),
            None => crate::sys::process::concbench_exe(),
        }
    }

    /// W: `--workers`, or the number of cores.
    pub fn workers_or_cores(&self) -> usize {
        self.options.workers.unwrap_or(self.cores).max(1)
    }
}
