//! One strategy once, measured: the server's counters before and after, the
//! machine's, the client's usage around the run and the CPU timeline during
//! it. Everything it reads goes into a [`RawRun`]; the figures are derived
//! from it by [`super::row`], a pure function.

use std::time::Duration;

use anyhow::Context;
use mock_server::{FaultStats, ServerStats};

use super::{Observer, Window};
use crate::measure::machine::SystemSnapshot;
use crate::measure::sampler::{Sampled, Sampler};
use crate::measure::server::ServerControl;
use crate::measure::{measure_from, Measured};
use crate::strategy::{Contender, RunContext, StrategyRun};
use crate::workload::{Bound, TaskPlan};

/// Everything one measured strategy run produced, before any figure is
/// derived from it.
#[derive(Debug)]
pub struct RawRun {
    pub kind: Contender,
    /// The strategy's most requests in flight at once: the C of its bound.
    pub in_flight: usize,
    pub bound: Bound,
    /// The P the bound was computed with.
    pub bound_cores: usize,
    /// Its outcomes and its child processes' usage.
    pub run: StrategyRun,
    /// This process around the run.
    pub measured: Measured,
    /// The CPU timeline, and what the sampler itself cost.
    pub sampled: Sampled,
    /// The server's counters before and after the run; `None` for an
    /// endpoint that is not a mock server (it has no `/stats`).
    pub server_before: Option<(ServerStats, FaultStats)>,
    pub server_after: Option<(ServerStats, FaultStats)>,
    /// The machine's counters before and after (steal, pressure).
    pub system_before: SystemSnapshot,
    pub system_after: SystemSnapshot,
}

/// Runs strategy `kind` over `plan` once and measures it.
pub(super) fn execute(
    kind: &Contender,
    plan: &TaskPlan,
    ctx: &RunContext,
    control: Option<&ServerControl>,
    server_pid: Option<u32>,
    interval: Duration,
    observer: Option<&Observer>,
) -> anyhow::Result<RawRun> {
    let in_flight = kind.in_flight_limit(ctx).max(1);
    let bound = plan.bound(in_flight, ctx.cores);
    let stats = || -> anyhow::Result<Option<(ServerStats, FaultStats)>> {
        control
            .map(|c| c.stats_with_faults().context("reading the server's stats"))
            .transpose()
    };
    if let Some(c) = control {
        c.reset().context("resetting the server's stats")?;
    }
    let server_before = stats()?;
    let system_before = SystemSnapshot::read();
    if let Some(o) = observer {
        o(Window::Start(kind.clone()));
    }
    // An external program's plan file is written before the window, its
    // results read after it: the window holds the program alone.
    let mut staged = kind
        .prepare(plan)
        .with_context(|| format!("strategy {kind} could not run"))?;
    // Under --preconnect the window begins once the connections are open.
    let ((mut run, sampled), measured) = measure_from(
        || {
            let sampler = Sampler::start(interval, server_pid);
            let run = kind.launch(&mut staged, plan, ctx);
            (run, sampler.stop())
        },
        |(run, _)| run.as_ref().ok().and_then(|r| r.window_start),
    );
    if let Some(o) = observer {
        o(Window::End(kind.clone()));
    }
    // Its client's connections close now, outside the window, and after
    // the server's counters are read: the next strategy starts on a server
    // that holds none of them.
    let after_window = run
        .as_mut()
        .map(|r| std::mem::take(&mut r.after_window))
        .unwrap_or_default();
    let system_after = SystemSnapshot::read();
    let run = kind
        .settle(staged, run, plan, ctx)
        .with_context(|| format!("strategy {kind} could not run"))?;
    let server_after = stats()?;
    drop(after_window);
    Ok(RawRun {
        kind: kind.clone(),
        in_flight,
        bound,
        bound_cores: ctx.cores,
        run,
        measured,
        sampled,
        server_before,
        server_after,
        system_before,
        system_after,
    })
}
