//! The files and counts of the external contract: the plan file concbench
//! writes ([`PLAN_HEADER`]), the results file the program writes
//! ([`RESULTS_HEADER`]) turned into outcomes, and the server's count of
//! requests per id those outcomes are held to.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::http::work_url;
use crate::strategy::StrategyRun;
use crate::task::{Completed, ExternalCause, TaskError, TaskOutcome};
use crate::workload::TaskPlan;

/// The plan file's header: one task per line below it.
pub const PLAN_HEADER: &str = "id,path,bytes,cpu_units,seed";
/// The results file's header (`latency_us`, the request's time in µs, may be left out).
pub const RESULTS_HEADER: &str = "id,body_checksum,cpu_result";

/// The plan file (see [`PLAN_HEADER`]): `path` is exactly the request the Rust clients send.
pub fn plan_csv(plan: &TaskPlan) -> String {
    let mut s = String::with_capacity(64 * (plan.specs.len() + 1));
    s.push_str(PLAN_HEADER);
    s.push('\n');
    for spec in &plan.specs {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            spec.id,
            work_url("", plan.seed, spec, 0, plan.work),
            spec.bytes,
            spec.cpu_units,
            plan.seed
        );
    }
    s
}

/// Every task failed the same way.
pub(super) fn all_failed(plan: &TaskPlan, cause: ExternalCause, why: &str) -> StrategyRun {
    StrategyRun {
        outcomes: plan
            .specs
            .iter()
            .map(|s| TaskOutcome::failed(s.id, TaskError::External(cause, why.to_string())))
            .collect(),
        ..StrategyRun::default()
    }
}

/// An I/O error without its "(os error N)".
pub(super) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The outcomes the results file says, one per plan task: a task without a
/// readable line of its own fails with a cause that says which way.
pub(super) fn read_results(plan: &TaskPlan, path: &Path) -> Vec<TaskOutcome> {
    let n = plan.specs.len();
    let mut got: Vec<Option<TaskOutcome>> = vec![None; n];
    let mut first_line: HashMap<u64, usize> = HashMap::new();
    // A problem no task can carry (a line without a readable id), told to
    // every task left without a result.
    let mut stray: Option<String> = None;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let why = format!(
                "external program reported no result: it wrote no results file \
                 (CONCBENCH_RESULTS, {}: {})",
                path.display(),
                io_reason(&e)
            );
            return all_failed(plan, ExternalCause::NoResult, &why).outcomes;
        }
    };
    let reader = std::io::BufReader::new(file);
    let mut latency_column = false;
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        // Bounded: a file longer than the plan (and its header) is garbage past this point.
        if line_no > n + 1 {
            stray.get_or_insert(format!(
                "results line {line_no}: more lines than the {n} tasks of the plan"
            ));
            break;
        }
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                stray.get_or_insert(format!("results line {line_no}: unreadable ({e})"));
                break;
            }
        };
        let line = line.trim();
        if line_no == 1 {
            match line {
                RESULTS_HEADER => continue,
                l if l == format!("{RESULTS_HEADER},latency_us") => {
                    latency_column = true;
                    continue;
                }
                _ => {
                    stray = Some(format!(
                        "results line 1: {} is not the header '{RESULTS_HEADER}'",
                        quote(line)
                    ));
                    break;
                }
            }
        }
        if line.is_empty() {
            continue;
        }
        match parse_line(line, latency_column) {
            Ok((id, checksum, cpu, latency_us)) => {
                let Some(slot) = got.get_mut(id as usize) else {
                    stray.get_or_insert(format!(
                        "results line {line_no}: task {id} is not in the plan (ids 0 to {})",
                        n.saturating_sub(1)
                    ));
                    continue;
                };
                if let Some(first) = first_line.get(&id) {
                    *slot = Some(TaskOutcome::failed(
                        id,
                        TaskError::External(
                            ExternalCause::BadResult,
                            format!(
                                "results line {line_no}: task {id} reported again (first on line {first})"
                            ),
                        ),
                    ));
                    continue;
                }
                first_line.insert(id, line_no);
                *slot = Some(TaskOutcome {
                    id,
                    // The checksum covers the length: a body of another length fails it.
                    result: Ok(Completed {
                        body_len: plan.specs[id as usize].bytes,
                        body_checksum: checksum,
                        cpu_result: cpu,
                    }),
                    latency_us,
                    server_lateness_us: None,
                    phases: Default::default(),
                    attempts: 1,
                    unreached: 0,
                });
            }
            Err((id, why)) => {
                let why = format!("results line {line_no}: {why}");
                match id.and_then(|id| got.get_mut(id as usize).map(|s| (id, s))) {
                    Some((id, slot)) if !first_line.contains_key(&id) => {
                        first_line.insert(id, line_no);
                        *slot = Some(TaskOutcome::failed(
                            id,
                            TaskError::External(ExternalCause::BadResult, why),
                        ));
                    }
                    _ => {
                        stray.get_or_insert(why);
                    }
                }
            }
        }
    }
    got.into_iter()
        .enumerate()
        .map(|(id, o)| {
            o.unwrap_or_else(|| {
                let mut why = "external program reported no result".to_string();
                if let Some(s) = &stray {
                    let _ = write!(why, " ({s})");
                }
                TaskOutcome::failed(id as u64, TaskError::External(ExternalCause::NoResult, why))
            })
        })
        .collect()
}

type Line = (u64, u64, u64, u64);

/// One results line: id, checksum, CPU result and latency (0 when not
/// given), or the id if it could be read and what is wrong.
fn parse_line(line: &str, latency_column: bool) -> Result<Line, (Option<u64>, String)> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let want = if latency_column { 4 } else { 3 };
    let id = fields.first().and_then(|f| f.parse::<u64>().ok());
    let expected = if latency_column {
        format!("{RESULTS_HEADER},latency_us")
    } else {
        RESULTS_HEADER.to_string()
    };
    if fields.len() != want {
        return Err((
            id,
            format!(
                "{} has {} fields, expected {want} ({expected}, decimal numbers)",
                quote(line),
                fields.len()
            ),
        ));
    }
    let names = ["id", "body_checksum", "cpu_result", "latency_us"];
    let mut v = [0u64; 4];
    for (k, f) in fields.iter().enumerate() {
        v[k] = f.parse().map_err(|_| {
            (
                id,
                format!(
                    "{} is not a number ({} must be a decimal u64; the line was {})",
                    quote(f),
                    names[k],
                    quote(line)
                ),
            )
        })?;
    }
    Ok((v[0], v[1], v[2], v[3]))
}

/// `s` quoted, cut to 80 characters.
fn quote(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    if cut.len() < s.len() {
        format!("'{cut}…'")
    } else {
        format!("'{cut}'")
    }
}

/// The server's `/stats/ids` answer (see the mock server's `ids` module).
#[derive(Debug, Deserialize)]
struct IdsBody {
    not_once: Vec<(u64, u8)>,
    not_once_total: u64,
}

/// Ids `0..n` the server received other than exactly once since the last
/// reset, with their counts. Bounded: each request advances past the ids it listed.
pub(super) fn requested_counts(base_url: &str, n: u64) -> anyhow::Result<HashMap<u64, u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut counts = HashMap::new();
    let mut from = 0;
    loop {
        let url = format!("{base_url}/stats/ids?from={from}&below={n}");
        let text = agent
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .with_context(|| {
                format!(
                    "GET {url}: the server cannot count requests per id, which an external \
                     model is verified by; use this version's mock-server"
                )
            })?;
        let body: IdsBody = serde_json::from_str(&text).context("parsing /stats/ids")?;
        let listed = body.not_once.len() as u64;
        let last = body.not_once.last().map(|&(id, _)| id);
        counts.extend(body.not_once);
        match last {
            Some(last) if listed < body.not_once_total => from = last + 1,
            _ => return Ok(counts),
        }
    }
}

/// Holds each outcome to the server's count of its requests: a task the
/// server never saw fails whatever the program reported (it cannot have
/// fetched the body), as does one fetched more than once.
pub(super) fn hold_to_server_counts(outcomes: &mut [TaskOutcome], counts: &HashMap<u64, u8>) {
    for o in outcomes.iter_mut() {
        let n = counts.get(&o.id).copied().unwrap_or(1);
        o.attempts = n as u32;
        let failed = match n {
            1 => continue,
            0 => TaskError::External(
                ExternalCause::NotRequested,
                "the server never received its request".into(),
            ),
            n => TaskError::External(
                ExternalCause::RequestedAgain,
                format!(
                    "the server received its request {}{n} times, expected once",
                    if n == u8::MAX { "at least " } else { "" }
                ),
            ),
        };
        // A task that failed already keeps its own cause.
        if o.result.is_ok() {
            o.result = Err(failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Workload;

    fn plan(tasks: usize) -> TaskPlan {
        let w = Workload {
            tasks,
            ..Workload::default()
        };
        TaskPlan::build(&w, 100.0)
    }

    fn results(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("concbench-ext-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("results.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn cause(o: &TaskOutcome) -> &'static str {
        o.result.as_ref().err().map_or("ok", |e| e.cause())
    }

    #[test]
    fn the_plan_file_carries_the_exact_request_path_of_each_task() {
        let p = plan(3);
        let csv = plan_csv(&p);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], PLAN_HEADER);
        let s = &p.specs[2];
        assert_eq!(
            lines[3],
            format!(
                "2,/work?id=2&latency_us={}&bytes={}&seed={},{},{},{}",
                s.latency_us, s.bytes, p.seed, s.bytes, s.cpu_units, p.seed
            )
        );
    }

    #[test]
    fn results_lines_become_outcomes_and_bad_lines_name_themselves() {
        let p = plan(5);
        let path = results(
            "mixed",
            "id,body_checksum,cpu_result\n0,11,12\n1,x,3\n0,1,1\n2,5\nseven,1,2\n",
        );
        let out = read_results(&p, &path);
        assert_eq!(out.len(), 5);
        let c0 = out[0].result.as_ref().err().map(|e| e.to_string());
        assert_eq!(
            c0.as_deref(),
            Some("results line 4: task 0 reported again (first on line 2)")
        );
        assert_eq!(cause(&out[1]), "external_bad_result");
        let e1 = out[1].result.as_ref().unwrap_err().to_string();
        assert!(
            e1.starts_with("results line 3: 'x' is not a number"),
            "{e1}"
        );
        let e2 = out[2].result.as_ref().unwrap_err().to_string();
        assert!(e2.contains("has 2 fields, expected 3"), "{e2}");
        assert_eq!(cause(&out[3]), "external_no_result");
        let e3 = out[3].result.as_ref().unwrap_err().to_string();
        assert!(e3.contains("results line 6: 'seven'"), "{e3}");
    }

    #[test]
    fn a_missing_results_file_or_header_fails_every_task_saying_so() {
        let p = plan(2);
        let out = read_results(&p, Path::new("/nonexistent/concbench/results.csv"));
        assert!(out.iter().all(|o| cause(o) == "external_no_result"));
        let path = results("header", "hello world\n0,1,2\n");
        let out = read_results(&p, &path);
        let e = out[0].result.as_ref().unwrap_err().to_string();
        assert!(e.contains("'hello world' is not the header"), "{e}");
    }

    #[test]
    fn an_optional_latency_column_is_read() {
        let p = plan(1);
        let path = results(
            "latency",
            "id,body_checksum,cpu_result,latency_us\n0,1,2,345\n",
        );
        let out = read_results(&p, &path);
        assert_eq!(out[0].latency_us, 345);
        assert!(out[0].result.is_ok());
    }

    #[test]
    fn the_server_count_overrules_what_the_program_reported() {
        let p = plan(3);
        let path = results(
            "counts",
            "id,body_checksum,cpu_result\n0,1,1\n1,1,1\n2,1,1\n",
        );
        let mut out = read_results(&p, &path);
        let counts = HashMap::from([(0, 0u8), (2, 3u8)]);
        hold_to_server_counts(&mut out, &counts);
        assert_eq!(cause(&out[0]), "external_not_requested");
        assert!(out[1].result.is_ok());
        assert_eq!(cause(&out[2]), "external_requested_again");
        assert_eq!(out[2].attempts, 3);
    }
}
