//! `sequential`: one thread, one blocking client, one task after another.
//! The Python original is a for-loop over a `requests.Session`.
//!
//! Starts no threads; keeps one keep-alive connection.

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http;
use crate::sys::clock::mono_now_ns;
use crate::task::guard;
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "one thread and a blocking client (ureq): a for-loop over the tasks";

pub(super) struct Sequential;

impl Strategy for Sequential {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Sequential
    }

    fn in_flight_limit(&self, _ctx: &RunContext) -> usize {
        1
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = mono_now_ns();
        let client = ctx.blocking_client(1, plan, run_start_ns);
        let outcomes = plan
            .specs
            .iter()
            .map(|spec| guard::catch(spec.id, || http::run_blocking(&client, spec)))
            .collect();
        Ok(StrategyRun {
            outcomes,
            // Its idle keep-alive connections close after the window.
            after_window: AfterWindow::default().keep(client),
            ..StrategyRun::default()
        })
    }
}
