//! `sequential`: one thread, one blocking client, one task after another.
//! The Python original is a for-loop over a `requests.Session`.
//!
//! Starts no threads; keeps one keep-alive connection.

use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::plan::TaskPlan;
use crate::task;

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
        let run_start_ns = task::mono_now_ns();
        let client =
            task::BlockingClient::new(1, ctx.connection, ctx.session(plan.seed, run_start_ns));
        let outcomes = plan
            .specs
            .iter()
            .map(|spec| task::run_blocking(&client, spec))
            .collect();
        Ok(StrategyRun {
            outcomes,
            ..StrategyRun::default()
        })
    }
}
