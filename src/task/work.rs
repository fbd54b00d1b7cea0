//! The kinds of work a task does over its response body, one registry row
//! each: what the server sends for it, what one unit of it is, how the
//! client turns a body into its result, and how fast a unit runs here.
//!
//! Strategies never look at the kind: the HTTP session of a run
//! carries it to wherever a body is turned into a [`Completed`] (inline, a
//! CPU pool, a worker process), and the plan carries it to verification. A
//! new kind is a new row in [`WORKS`] and a file of its own; nothing else
//! changes.

use std::time::Duration;

use mock_server::payload::{self, Kind as BodyKind};
use serde::{Deserialize, Serialize};

use super::{kernel, posts, Completed};

/// The kind of work of a run (`--work`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    /// Random bytes; one unit is one step of the multiply–rotate kernel over
    /// the next word of the body ([`kernel`]).
    #[default]
    Hash,
    /// A JSON document of posts, as the source articles' API answers; one
    /// unit is one pass that parses it with serde_json into typed records
    /// and computes the articles' analysis ([`posts`]).
    Json,
}

/// One kind of work: a registry row.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    pub kind: WorkKind,
    /// The name on the command line and in reports.
    pub name: &'static str,
    /// What the server sends for it.
    pub body: BodyKind,
    /// What one unit of `--cpu-units` is, for `--help` and the README.
    pub unit: &'static str,
    /// The result of `units` units over `body`, chained from `seed`.
    pub run: fn(body: &[u8], units: u64, seed: u64) -> u64,
    /// Shortest body the work can use (a JSON array of one post needs room).
    pub min_bytes: usize,
}

/// Every kind of work, in `--help` order.
pub const WORKS: [Work; 2] = [
    Work {
        kind: WorkKind::Hash,
        name: "hash",
        body: BodyKind::Bytes,
        unit: "one kernel step over an 8-byte word of the body",
        run: kernel::cpu_work,
        min_bytes: 0,
    },
    Work {
        kind: WorkKind::Json,
        name: "json",
        body: BodyKind::Json,
        unit: "one pass that parses the body into posts and analyses them",
        run: posts::passes,
        min_bytes: 256,
    },
];

impl WorkKind {
    /// This kind's registry row.
    pub fn work(self) -> &'static Work {
        WORKS
            .iter()
            .find(|w| w.kind == self)
            .expect("every kind has a row")
    }

    pub fn name(self) -> &'static str {
        self.work().name
    }

    /// Checksums `body` and runs `units` of this work over it, seeded by the checksum.
    pub fn complete(self, body: &[u8], units: u64) -> Completed {
        let body_checksum = payload::checksum(body);
        Completed {
            body_len: body.len(),
            body_checksum,
            cpu_result: (self.work().run)(body, units, body_checksum),
        }
    }

    /// The body the server sends for task `id` of a plan seeded `seed`.
    pub fn body(self, seed: u64, id: u64, bytes: usize) -> Vec<u8> {
        self.work().body.generate(seed, id, bytes)
    }

    /// Units per microsecond on this machine over bodies of `bytes`: the
    /// best of several timed runs, each at least `min_run` long. The hash
    /// kernel's speed does not depend on the body; a JSON pass's does, so
    /// it is timed over a body of the run's own size.
    pub fn calibrate(self, bytes: usize, min_run: Duration) -> f64 {
        match self {
            WorkKind::Hash => kernel::calibrate(min_run),
            _ => {
                let body = self.body(1, 1, bytes.max(self.work().min_bytes));
                kernel::speed_of(self.work().run, &body, 1, min_run)
            }
        }
    }
}

/// What turns a body into a task's result where the CPU part runs (inline,
/// a CPU pool, a worker process): a built-in kind of work or the user's
/// task. Cheap to clone and `'static`, so it travels into pool jobs.
#[derive(Debug, Clone, PartialEq)]
pub enum Completer {
    Work(WorkKind),
    User(super::UserTaskRef),
}

impl Completer {
    /// Task `id`'s result over `body`.
    pub fn complete(&self, id: u64, body: &[u8], units: u64) -> Completed {
        match self {
            Completer::Work(w) => w.complete(body, units),
            Completer::User(u) => complete_user(u, id, body),
        }
    }
}

/// Task `id`'s result over `body` by the user's own CPU part.
pub fn complete_user(u: &super::UserTaskRef, id: u64, body: &[u8]) -> Completed {
    Completed {
        body_len: body.len(),
        body_checksum: payload::checksum(body),
        cpu_result: u.0.process(id, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_and_its_name_parses_back() {
        use clap::ValueEnum;
        for kind in WorkKind::value_variants() {
            assert_eq!(kind.work().kind, *kind);
            assert_eq!(WorkKind::from_str(kind.name(), false), Ok(*kind));
        }
        assert_eq!(WORKS.len(), WorkKind::value_variants().len());
    }

    #[test]
    fn hash_work_is_the_kernel_as_before() {
        let body = WorkKind::Hash.body(3, 4, 4096);
        assert_eq!(
            WorkKind::Hash.complete(&body, 1000),
            Completed::from_body(&body, 1000)
        );
    }

    #[test]
    fn the_result_depends_on_the_kind_and_the_units() {
        let json = WorkKind::Json.body(1, 2, 8192);
        let a = WorkKind::Json.complete(&json, 3);
        assert_eq!(a, WorkKind::Json.complete(&json, 3));
        assert_ne!(a.cpu_result, WorkKind::Json.complete(&json, 4).cpu_result);
        assert_ne!(a.cpu_result, WorkKind::Hash.complete(&json, 3).cpu_result);
    }

    #[test]
    fn calibration_gives_a_positive_speed_for_every_kind() {
        for w in WORKS {
            let speed = w.kind.calibrate(16 * 1024, Duration::from_millis(2));
            assert!(speed.is_finite() && speed > 0.0, "{}: {speed}", w.name);
        }
    }
}
