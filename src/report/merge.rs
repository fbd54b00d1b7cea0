//! Putting shards back together (`concbench merge`): the parts of a sweep
//! (`sweep --shard K/N`) into one sweep of the same shape as an unsharded
//! one, and the shards of a run (`run --shard K/N`, one per client host)
//! into one run per strategy. Pure: parts in, one results file or one line
//! on why not out; the command reads and writes the files.
//!
//! A merged run row is exact where the parts allow it: task, request and
//! failure counts, CPU, memory and context switches are summed over the
//! hosts; the wall time runs from the earliest start to the latest end; the
//! bound is the plan's over the hosts' total cores and in-flight (Σ latency
//! / ΣC, Σ CPU / ΣP, the longest task), recomputed from each shard's terms;
//! latency percentiles come from the shards' HDR histograms added together.
//! What cannot be exact is named in [`MergedMeta::approximate`].

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::phases::{PhaseStats, PhaseSummary};
use super::stats::combine;
use super::{Checks, Meta, Percentiles, RunReport, StrategyResult, SweepReport, SCHEMA_VERSION};
use super::{ResultsFile, ServerSide, Status};
use crate::error::UsageError;
use crate::workload::Shard;

/// Which shard of which whole a results file is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardMeta {
    /// K of `--shard K/N`, 1-based.
    pub index: usize,
    /// N: how many shards the whole was split into.
    pub count: usize,
    /// Items of the whole: the grid's cells for a sweep, the plan's tasks
    /// for a run (shard K holds those whose 0-based index i has i mod N = K - 1).
    pub total: usize,
    /// What the whole is (workload, strategies, grid, options), the same in
    /// every shard of it: merge refuses parts whose plans differ.
    pub plan: String,
    /// The concbench that wrote it: merge refuses parts of different versions.
    pub concbench_version: String,
}

/// What a merged run was made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MergedMeta {
    /// The plan every shard ran (see [`ShardMeta::plan`]).
    pub plan: String,
    /// The shards, in order.
    pub parts: Vec<MergedPart>,
    /// Figures that are not exact for the whole, and why.
    pub approximate: Vec<String>,
}

/// One shard of a merged run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MergedPart {
    /// `K/N`.
    pub shard: String,
    /// Its results file, as given to merge.
    pub file: String,
    /// Its tasks, cores (P) and the server it drove.
    pub tasks: usize,
    pub cores: usize,
    pub target: String,
    pub started_at_unix_s: f64,
}

/// The histogram every latency is recorded in: 1 µs to 1 h, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// A histogram's recorded values as `[µs, count]` pairs (what a shard keeps).
pub fn histogram_counts(h: &Histogram<u64>) -> Vec<[u64; 2]> {
    h.iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect()
}

/// Latency percentiles of a histogram, in seconds (all zero when it is empty).
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let s = |us: u64| us as f64 / 1e6;
    Percentiles {
        p50: s(h.value_at_quantile(0.5)),
        p90: s(h.value_at_quantile(0.9)),
        p99: s(h.value_at_quantile(0.99)),
        p999: s(h.value_at_quantile(0.999)),
        max: s(h.max()),
        mean: h.mean() / 1e6,
    }
}

/// A results file given to merge, with the name to call it by.
pub struct Part {
    pub name: String,
    pub file: ResultsFile,
}

/// Merges the shards `parts` (in any order) into the whole, or says in one
/// line which part is wrong and why: not a shard, a sweep beside a run,
/// different versions, shard counts or plans, a shard twice, one missing,
/// or one cut short.
pub fn merge(parts: &[Part]) -> Result<ResultsFile, UsageError> {
    let refuse = |what: &str, fix: String| UsageError::new(what, fix);
    let first = parts.first().ok_or_else(|| {
        refuse(
            "merge",
            "give the parts to merge, e.g. concbench merge part-*.json --out all.json".into(),
        )
    })?;
    let shard_of = |p: &Part| -> Result<ShardMeta, UsageError> {
        let meta = match &p.file {
            ResultsFile::Sweep(s) => s.shard.clone(),
            ResultsFile::Run(r) => r.meta.shard.clone(),
        };
        meta.ok_or_else(|| {
            refuse(
                &p.name,
                "is not a shard (no shard in it); merge the files written by --shard K/N".into(),
            )
        })
    };
    let a = shard_of(first)?;
    let mut by_index: BTreeMap<usize, &Part> = BTreeMap::new();
    for p in parts {
        let s = shard_of(p)?;
        let kind = |p: &Part| match p.file {
            ResultsFile::Sweep(_) => "a sweep part",
            ResultsFile::Run(_) => "a run shard",
        };
        if kind(p) != kind(first) {
            return Err(refuse(
                &p.name,
                format!(
                    "is {} but {} is {}; merge one kind at a time",
                    kind(p),
                    first.name,
                    kind(first)
                ),
            ));
        }
        if s.concbench_version != a.concbench_version {
            return Err(refuse(
                &p.name,
                format!(
                    "was written by concbench {} but {} by {}; run every shard with one version",
                    s.concbench_version, first.name, a.concbench_version
                ),
            ));
        }
        if s.count != a.count {
            return Err(refuse(
                &p.name,
                format!(
                    "is shard {}/{} but {} is {}/{}: parts of different splits",
                    s.index, s.count, first.name, a.index, a.count
                ),
            ));
        }
        if s.plan != a.plan || s.total != a.total {
            return Err(refuse(
                &p.name,
                format!(
                    "is a shard of another plan than {} ({}); merge the shards of one plan",
                    first.name,
                    first_difference(&s.plan, &a.plan)
                ),
            ));
        }
        if s.index == 0 || s.index > s.count {
            return Err(refuse(
                &p.name,
                format!("claims shard {}/{}, which cannot be", s.index, s.count),
            ));
        }
        if let Some(other) = by_index.insert(s.index, p) {
            return Err(refuse(
                &p.name,
                format!(
                    "is shard {}/{} again ({} is too); give each shard once",
                    s.index, s.count, other.name
                ),
            ));
        }
    }
    if let Some(k) = (1..=a.count).find(|k| !by_index.contains_key(k)) {
        let missing = (1..=a.count).filter(|k| !by_index.contains_key(k)).count();
        return Err(refuse(
            "merge",
            format!(
                "shard {k}/{} is missing ({missing} of {} missing); give every part of the split",
                a.count, a.count
            ),
        ));
    }
    let ordered: Vec<&Part> = by_index.into_values().collect();
    match first.file {
        ResultsFile::Sweep(_) => merge_sweeps(&ordered, &a).map(ResultsFile::Sweep),
        ResultsFile::Run(_) => merge_runs(&ordered, &a).map(ResultsFile::Run),
    }
}

/// The first `; `-separated item of two plans that differs, for the error line.
fn first_difference(a: &str, b: &str) -> String {
    let (xs, ys): (Vec<&str>, Vec<&str>) = (a.split("; ").collect(), b.split("; ").collect());
    for (x, y) in xs.iter().zip(&ys) {
        if x != y {
            return format!("{x} against {y}");
        }
    }
    "a different number of tasks or cells".into()
}

fn shard(s: &ShardMeta, index: usize) -> Shard {
    Shard::new(index, s.count).expect("checked to be K of N")
}

fn merge_sweeps(parts: &[&Part], whole: &ShardMeta) -> Result<SweepReport, UsageError> {
    let sweeps: Vec<&SweepReport> = parts
        .iter()
        .map(|p| match &p.file {
            ResultsFile::Sweep(s) => s,
            ResultsFile::Run(_) => unreachable!("checked to be one kind"),
        })
        .collect();
    for (k, (p, s)) in parts.iter().zip(&sweeps).enumerate() {
        let expected = shard(whole, k + 1).len_of(whole.total);
        if s.cells.len() != expected {
            return Err(UsageError::new(
                &p.name,
                format!(
                    "has {} of its {expected} cells (was it interrupted?); run that shard again",
                    s.cells.len()
                ),
            ));
        }
    }
    let n = whole.count;
    let cells = (0..whole.total)
        .map(|i| sweeps[i % n].cells[i / n].clone())
        .collect();
    let s = sweeps[0];
    Ok(SweepReport {
        schema_version: SCHEMA_VERSION,
        kind: s.kind.clone(),
        scenario: s.scenario.clone(),
        params: s.params.clone(),
        cells,
        shard: None,
        slo: s.slo.clone(),
    })
}

fn merge_runs(parts: &[&Part], whole: &ShardMeta) -> Result<RunReport, UsageError> {
    let runs: Vec<&RunReport> = parts
        .iter()
        .map(|p| match &p.file {
            ResultsFile::Run(r) => r,
            ResultsFile::Sweep(_) => unreachable!("checked to be one kind"),
        })
        .collect();
    let first = runs[0];
    let names: Vec<&str> = first.results.iter().map(|r| r.strategy.as_str()).collect();
    for (k, (p, r)) in parts.iter().zip(&runs).enumerate() {
        let tasks = shard(whole, k + 1).len_of(whole.total);
        let theirs: Vec<&str> = r.results.iter().map(|r| r.strategy.as_str()).collect();
        if r.meta.interrupted || theirs != names || r.meta.workload.tasks != tasks {
            return Err(UsageError::new(
                &p.name,
                format!(
                    "is incomplete or not like {} (strategies {} of {} tasks, against {} of {tasks}); \
                     run that shard again",
                    parts[0].name,
                    theirs.join(","),
                    r.meta.workload.tasks,
                    names.join(",")
                ),
            ));
        }
        if let Some(row) = r.results.iter().find(|row| row.started_at_unix_s.is_none()) {
            return Err(UsageError::new(
                &p.name,
                format!(
                    "has no start time for {}; run that shard again with this concbench",
                    row.strategy
                ),
            ));
        }
    }
    // One server driven by every shard: each shard's window of it also
    // counted the others' requests, so its server-side figures do not add up.
    // (The same process on the same port: hosts reach one server by different addresses.)
    let port = |m: &Meta| m.target.rsplit(':').next().map(str::to_string);
    let shared_server = first.meta.server_pid != 0
        && runs.iter().all(|r| {
            r.meta.server_pid == first.meta.server_pid && port(&r.meta) == port(&first.meta)
        });
    let mut approximate = vec![
        "phases: means are exact, p50 and p99 are the shards' figures weighted by their tasks".into(),
        "noise, machine, cpu_units_per_us and the CPU timeline are the first shard's (every host has its own)"
            .into(),
    ];
    approximate.push(if shared_server {
        "server: omitted; every shard drove the same server and each shard's window of it counted \
         the others' requests too (requests_served is 0, see the parts)"
            .into()
    } else {
        "server: summed over the shards' servers; lateness is the worst shard's".into()
    });
    let mut results: Vec<StrategyResult> = names
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let rows: Vec<(&RunReport, &StrategyResult)> =
                runs.iter().map(|r| (*r, &r.results[i])).collect();
            merge_rows(&rows, shared_server, &mut approximate)
        })
        .collect();
    let seq = results
        .iter()
        .find(|r| {
            r.strategy == crate::strategy::StrategyKind::Sequential.name() && r.tasks_failed == 0
        })
        .map(|r| r.wall_s);
    for r in &mut results {
        r.speedup_vs_sequential = seq.map(|s| s / r.wall_s);
    }
    approximate.dedup();
    let distinct = |f: fn(&Meta) -> String| -> String {
        let mut seen: Vec<String> = Vec::new();
        for r in &runs {
            let v = f(&r.meta);
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen.join(" ")
    };
    let mut workload = first.meta.workload.clone();
    workload.tasks = runs.iter().map(|r| r.meta.workload.tasks).sum();
    workload.latency_total_s = runs.iter().map(|r| r.meta.workload.latency_total_s).sum();
    let meta = Meta {
        started_at_unix_s: runs
            .iter()
            .map(|r| r.meta.started_at_unix_s)
            .fold(f64::INFINITY, f64::min),
        workload,
        cores: runs.iter().map(|r| r.meta.cores).sum(),
        target: distinct(|m| m.target.clone()),
        server: distinct(|m| m.server.clone()),
        server_pid: if shared_server {
            first.meta.server_pid
        } else {
            0
        },
        repeat: 1,
        shard: None,
        merged: Some(MergedMeta {
            plan: whole.plan.clone(),
            parts: parts
                .iter()
                .zip(&runs)
                .map(|(p, r)| MergedPart {
                    shard: r
                        .meta
                        .shard
                        .as_ref()
                        .map(|s| format!("{}/{}", s.index, s.count))
                        .unwrap_or_default(),
                    file: p.name.clone(),
                    tasks: r.meta.workload.tasks,
                    cores: r.meta.cores,
                    target: r.meta.target.clone(),
                    started_at_unix_s: r.meta.started_at_unix_s,
                })
                .collect(),
            approximate,
        }),
        ..first.meta.clone()
    };
    Ok(RunReport { meta, results })
}

/// One strategy's rows from every shard (in shard order), as one row of the whole.
fn merge_rows(
    rows: &[(&RunReport, &StrategyResult)],
    shared_server: bool,
    approximate: &mut Vec<String>,
) -> StrategyResult {
    let first = rows[0].1;
    let sum = |f: fn(&StrategyResult) -> u64| rows.iter().map(|(_, r)| f(r)).sum::<u64>();
    let sum_f = |f: &dyn Fn(&RunReport, &StrategyResult) -> f64| {
        rows.iter().map(|(m, r)| f(m, r)).sum::<f64>()
    };
    let start = rows
        .iter()
        .filter_map(|(_, r)| r.started_at_unix_s)
        .fold(f64::INFINITY, f64::min);
    let end = rows
        .iter()
        .filter_map(|(_, r)| r.started_at_unix_s.map(|s| s + r.wall_s))
        .fold(f64::NEG_INFINITY, f64::max);
    let wall_s = (end - start).max(f64::MIN_POSITIVE);
    let last_start = rows
        .iter()
        .filter_map(|(_, r)| r.started_at_unix_s)
        .fold(f64::NEG_INFINITY, f64::max);
    if last_start - start > 0.1 * wall_s {
        approximate.push(format!(
            "{}: its shards started {:.3} s apart, and wall_s (the earliest start to the latest \
             end) includes the gap; give the shards --start-at with --start-every a slot longer \
             than each strategy's run",
            first.strategy,
            last_start - start
        ));
    }
    let in_flight: usize = rows.iter().map(|(_, r)| r.in_flight_limit).sum();
    let cores: usize = rows.iter().map(|(m, _)| m.meta.cores).sum();
    // Each shard's terms are its Σ over its own C and P: multiply back, add, divide by the totals.
    let latency_sum_s = sum_f(&|_, r| r.bound_io_s * r.in_flight_limit as f64);
    let cpu_sum_s = sum_f(&|m, r| r.bound_cpu_s * m.meta.cores as f64);
    let bound_io_s = latency_sum_s / in_flight.max(1) as f64;
    let bound_cpu_s = cpu_sum_s / cores.max(1) as f64;
    let bound_longest_task_s = rows
        .iter()
        .map(|(_, r)| r.bound_longest_task_s)
        .fold(0.0, f64::max);
    // No host ends before its own schedule (a rate limit, an open loop) lets it.
    let bound_rate_s = rows.iter().map(|(_, r)| r.bound_rate_s).fold(0.0, f64::max);
    let ideal_s = bound_io_s
        .max(bound_cpu_s)
        .max(bound_longest_task_s)
        .max(bound_rate_s);
    let efficiency = ideal_s / wall_s;
    let tasks_ok = sum(|r| r.tasks_ok);
    let tasks_failed = sum(|r| r.tasks_failed);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in rows {
        for (cause, n) in &r.failures {
            *failures.entry(cause.clone()).or_default() += n;
        }
    }
    let latency_s = if rows
        .iter()
        .all(|(_, r)| !r.latency_histogram_us.is_empty() || r.tasks_ok == 0)
    {
        let mut h = latency_histogram();
        for (_, r) in rows {
            for &[us, count] in &r.latency_histogram_us {
                h.saturating_record_n(us.max(1), count);
            }
        }
        percentiles(&h)
    } else {
        approximate.push(
            "latency_s: a shard kept no histogram; p50, p90 and p99 are the shards' weighted by their tasks".into(),
        );
        weighted_percentiles(rows)
    };
    let weight = |r: &StrategyResult| r.tasks_ok as f64 / tasks_ok.max(1) as f64;
    let mut phases = first.phases;
    for get in PHASES {
        let mut merged = PhaseStats::default();
        for (_, r) in rows {
            let (mut theirs, w) = (r.phases, weight(r));
            let s = *get(&mut theirs);
            merged.mean_s += w * s.mean_s;
            merged.p50_s += w * s.p50_s;
            merged.p99_s += w * s.p99_s;
        }
        *get(&mut phases) = merged;
    }
    let cpu_user_s = sum_f(&|_, r| r.cpu_user_s);
    let cpu_sys_s = sum_f(&|_, r| r.cpu_sys_s);
    let server = if shared_server {
        None
    } else {
        let sides: Vec<&ServerSide> = rows.iter().filter_map(|(_, r)| r.server.as_ref()).collect();
        (sides.len() == rows.len()).then(|| {
            let mut faults: BTreeMap<String, u64> = BTreeMap::new();
            for s in &sides {
                for (k, n) in &s.faults {
                    *faults.entry(k.clone()).or_default() += n;
                }
            }
            let worst = |f: fn(&ServerSide) -> f64| sides.iter().map(|s| f(s)).fold(0.0, f64::max);
            ServerSide {
                served: sides.iter().map(|s| s.served).sum(),
                requests: sides.iter().map(|s| s.requests).sum(),
                faults,
                cpu_user_s: sides.iter().map(|s| s.cpu_user_s).sum(),
                cpu_sys_s: sides.iter().map(|s| s.cpu_sys_s).sum(),
                max_in_flight: sides.iter().map(|s| s.max_in_flight).sum(),
                lateness_p50_s: worst(|s| s.lateness_p50_s),
                lateness_p99_s: worst(|s| s.lateness_p99_s),
                lateness_max_s: worst(|s| s.lateness_max_s),
            }
        })
    };
    let requests_answered = sum(|r| r.checks.requests_answered);
    let requests_served = if shared_server {
        0
    } else {
        sum(|r| r.checks.requests_served)
    };
    let bound_ok = efficiency <= super::EFFICIENCY_LIMIT;
    // Nothing to compare without every shard's server counts (a user's endpoint has none).
    let servers_seen = rows.iter().all(|(_, r)| r.server.is_some());
    let requests_match = !servers_seen || shared_server || requests_answered == requests_served;
    let recomputed = [
        "bound_violated",
        "requests_mismatch",
        "server_busier_than_client",
    ];
    let mut flags: Vec<String> = Vec::new();
    for (_, r) in rows {
        for f in &r.checks.flags {
            if !recomputed.contains(&f.as_str()) && !flags.contains(f) {
                flags.push(f.clone());
            }
        }
    }
    if !bound_ok {
        flags.push("bound_violated".into());
    }
    if !requests_match {
        flags.push("requests_mismatch".into());
    }
    let merged = StrategyResult {
        strategy: first.strategy.clone(),
        status: if tasks_failed == 0 {
            Status::Ok
        } else {
            Status::Failed
        },
        tasks: rows.iter().map(|(_, r)| r.tasks).sum(),
        tasks_ok,
        tasks_failed,
        failures,
        requests_sent: sum(|r| r.requests_sent),
        retries: sum(|r| r.retries),
        tasks_retried: sum(|r| r.tasks_retried),
        first_failure: rows.iter().find_map(|(_, r)| r.first_failure.clone()),
        tasks_cpu_checked: sum(|r| r.tasks_cpu_checked),
        in_flight_limit: in_flight,
        threads_started: rows.iter().map(|(_, r)| r.threads_started).sum(),
        processes_started: sum(|r| r.processes_started),
        workers_replaced: sum(|r| r.workers_replaced),
        connections_preopened: sum(|r| r.connections_preopened),
        wall_s,
        ideal_s,
        bound_io_s,
        bound_cpu_s,
        bound_longest_task_s,
        bound_rate_s,
        efficiency,
        speedup_vs_sequential: None,
        cpu_user_s,
        cpu_sys_s,
        cpu_utilisation: (cpu_user_s + cpu_sys_s) / wall_s,
        peak_rss_bytes: sum(|r| r.peak_rss_bytes),
        peak_rss_per_run: rows.iter().all(|(_, r)| r.peak_rss_per_run),
        ctx_switches_voluntary: sum(|r| r.ctx_switches_voluntary),
        ctx_switches_involuntary: sum(|r| r.ctx_switches_involuntary),
        throughput_per_s: tasks_ok as f64 / wall_s,
        latency_s,
        // Open-loop latency from due is kept per host only (no histogram of
        // it travels with a shard): absent from the merge, not invented.
        latency_corrected_s: None,
        start_lateness_s: None,
        late_starts: sum(|r| r.late_starts),
        external_command: first.external_command.clone(),
        phases,
        server,
        checks: Checks {
            bound_ok,
            requests_answered,
            requests_served,
            requests_match,
            // Σ answered latency over the whole wall time; each shard's is its mean × its wall.
            client_in_flight_mean: sum_f(&|_, r| r.checks.client_in_flight_mean * r.wall_s)
                / wall_s,
            server_in_flight_mean: if shared_server {
                0.0
            } else {
                sum_f(&|_, r| r.checks.server_in_flight_mean * r.wall_s) / wall_s
            },
            flags,
        },
        noise: rows
            .iter()
            .map(|(_, r)| r.noise)
            .find(|n| n.noisy)
            .unwrap_or(first.noise),
        sampler_cpu_s: sum_f(&|_, r| r.sampler_cpu_s),
        timeline: first.timeline.clone(),
        rounds: 1,
        stats: Default::default(),
        repeats: Vec::new(),
        started_at_unix_s: Some(start),
        latency_histogram_us: Vec::new(),
    };
    // The figures' stats over its one round, as for any run of one round.
    combine(vec![merged], rows[0].0.meta.workload.seed)
}

/// Every phase of a [`PhaseSummary`].
const PHASES: [fn(&mut PhaseSummary) -> &mut PhaseStats; 5] = [
    |p| &mut p.queued,
    |p| &mut p.retry,
    |p| &mut p.response,
    |p| &mut p.body,
    |p| &mut p.cpu,
];

/// Percentiles without histograms: means and the maximum exact, the rest weighted by tasks.
fn weighted_percentiles(rows: &[(&RunReport, &StrategyResult)]) -> Percentiles {
    let total = rows.iter().map(|(_, r)| r.tasks_ok).sum::<u64>().max(1) as f64;
    let w = |f: fn(&Percentiles) -> f64| {
        rows.iter()
            .map(|(_, r)| f(&r.latency_s) * r.tasks_ok as f64 / total)
            .sum::<f64>()
    };
    Percentiles {
        p50: w(|p| p.p50),
        p90: w(|p| p.p90),
        p99: w(|p| p.p99),
        p999: w(|p| p.p999),
        max: rows
            .iter()
            .map(|(_, r)| r.latency_s.max)
            .fold(0.0, f64::max),
        mean: w(|p| p.mean),
    }
}
