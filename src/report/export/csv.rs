//! CSV: one row per scenario × parameters × strategy × repeat. The columns
//! are one table of (header, value) pairs, so the header cannot drift from
//! the rows. The `csv` crate writes the records: a field holding a comma, a
//! quote or a newline (a scenario name, a latency like `normal:50ms,10ms`,
//! the flags) is quoted, and every other field is written as it is.

use crate::report::{RunReport, StrategyResult, SweepReport};

/// A column's header and how to read its value off a row.
type Column = (&'static str, fn(&StrategyResult) -> String);

fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

/// The columns before [`COLUMNS`], which say which row this is.
const KEY_COLUMNS: [&str; 4] = ["scenario", "params", "strategy", "repeat"];

/// Every column after [`KEY_COLUMNS`].
const COLUMNS: &[Column] = &[
    ("status", |r| s(r.status)),
    ("tasks", |r| s(r.tasks)),
    ("tasks_ok", |r| s(r.tasks_ok)),
    ("tasks_failed", |r| s(r.tasks_failed)),
    ("in_flight_limit", |r| s(r.in_flight_limit)),
    ("wall_s", |r| s(r.wall_s)),
    ("ideal_s", |r| s(r.ideal_s)),
    ("efficiency", |r| s(r.efficiency)),
    ("speedup_vs_sequential", |r| {
        r.speedup_vs_sequential.map(s).unwrap_or_default()
    }),
    ("cpu_user_s", |r| s(r.cpu_user_s)),
    ("cpu_sys_s", |r| s(r.cpu_sys_s)),
    ("cpu_utilisation", |r| s(r.cpu_utilisation)),
    ("peak_rss_bytes", |r| s(r.peak_rss_bytes)),
    ("ctx_switches_voluntary", |r| s(r.ctx_switches_voluntary)),
    (
        "ctx_switches_involuntary",
        |r| s(r.ctx_switches_involuntary),
    ),
    ("throughput_per_s", |r| s(r.throughput_per_s)),
    ("latency_p50_s", |r| s(r.latency_s.p50)),
    ("latency_p90_s", |r| s(r.latency_s.p90)),
    ("latency_p99_s", |r| s(r.latency_s.p99)),
    ("latency_max_s", |r| s(r.latency_s.max)),
    ("server_served", |r| {
        r.server.as_ref().map(|v| s(v.served)).unwrap_or_default()
    }),
    ("server_cpu_user_s", |r| {
        r.server
            .as_ref()
            .map(|v| s(v.cpu_user_s))
            .unwrap_or_default()
    }),
    ("server_cpu_sys_s", |r| {
        r.server
            .as_ref()
            .map(|v| s(v.cpu_sys_s))
            .unwrap_or_default()
    }),
    ("server_lateness_p50_s", |r| {
        r.server
            .as_ref()
            .map(|v| s(v.lateness_p50_s))
            .unwrap_or_default()
    }),
    ("server_lateness_p99_s", |r| {
        r.server
            .as_ref()
            .map(|v| s(v.lateness_p99_s))
            .unwrap_or_default()
    }),
    ("flags", |r| r.checks.flags.join(" ")),
];

/// A CSV document being written: the header, then [`Csv::row`] per row.
struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    fn new() -> Self {
        let mut w = Csv(csv::Writer::from_writer(Vec::new()));
        let names = COLUMNS.iter().map(|(name, _)| *name);
        w.record(KEY_COLUMNS.into_iter().chain(names));
        w
    }

    fn record<I: IntoIterator<Item = T>, T: AsRef<[u8]>>(&mut self, fields: I) {
        self.0
            .write_record(fields)
            .expect("writing CSV to memory cannot fail");
    }

    fn row(&mut self, scenario: &str, params: &str, r: &StrategyResult, repeat: usize) {
        let repeat = repeat.to_string();
        let key = [scenario, params, &r.strategy, &repeat];
        let values: Vec<String> = COLUMNS.iter().map(|(_, value)| value(r)).collect();
        self.record(key.into_iter().chain(values.iter().map(String::as_str)));
    }

    fn run_rows(&mut self, scenario: &str, params: &str, run: &RunReport) {
        for r in &run.results {
            if r.repeats.is_empty() {
                self.row(scenario, params, r, 1);
            } else {
                for (i, rep) in r.repeats.iter().enumerate() {
                    self.row(scenario, params, rep, i + 1);
                }
            }
        }
    }

    fn finish(self) -> String {
        let bytes = self
            .0
            .into_inner()
            .expect("flushing CSV to memory cannot fail");
        String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
    }
}

/// The CSV of one run: one row per strategy × repeat.
pub fn run_rows(run: &RunReport) -> String {
    let mut out = Csv::new();
    out.run_rows(&run.meta.scenario, "", run);
    out.finish()
}

/// The CSV of a sweep: one row per parameter values × strategy × repeat.
pub fn sweep_rows(sweep: &SweepReport) -> String {
    let mut out = Csv::new();
    for cell in &sweep.cells {
        let params: Vec<String> = sweep
            .params
            .iter()
            .map(|p| {
                format!(
                    "{p}={}",
                    cell.values.get(p).map(String::as_str).unwrap_or("")
                )
            })
            .collect();
        out.run_rows(&sweep.scenario, &params.join(";"), &cell.report);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        Csv::new().finish()
    }

    #[test]
    fn the_header_names_every_column_a_row_has() {
        let head = header();
        assert_eq!(head.trim_end().split(',').count(), 4 + COLUMNS.len());
        assert!(head.starts_with("scenario,params,strategy,repeat,status,tasks,"));
        assert!(head.trim_end().ends_with(",server_lateness_p99_s,flags"));
    }

    /// The committed sweep CSVs under `reports/results/` are what the CSV
    /// export renders from the sweep JSON beside them, byte for byte.
    #[test]
    fn the_committed_sweep_csvs_are_what_their_json_renders() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/results");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let csv_path = entry.path();
            if csv_path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let json = csv_path.with_extension("json");
            let crate::report::ResultsFile::Sweep(sweep) =
                crate::report::file::load(&json).unwrap()
            else {
                panic!("{} is not a sweep", json.display());
            };
            let committed = std::fs::read_to_string(&csv_path).unwrap();
            assert!(
                sweep_rows(&sweep) == committed,
                "{} differs from what {} renders",
                csv_path.display(),
                json.display()
            );
            checked += 1;
        }
        assert!(
            checked >= 3,
            "only {checked} sweep CSVs under reports/results/"
        );
    }

    /// A field with a comma, a quote or a newline is quoted, and a CSV reader
    /// reads back exactly the fields that were written.
    #[test]
    fn fields_with_commas_quotes_and_newlines_round_trip() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/results/pure-io.json");
        let crate::report::ResultsFile::Run(mut run) = crate::report::file::load(&path).unwrap()
        else {
            panic!("{} is not a run", path.display());
        };
        run.meta.scenario = "pull, then parse".into();
        let flags = ["a, b", "said \"no\"", "two\nlines"].map(String::from);
        run.results[0].repeats.clear();
        run.results[0].checks.flags = flags.to_vec();
        let text = run_rows(&run);
        assert!(text.contains("\"pull, then parse\","), "{text}");

        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let head = reader.headers().unwrap().clone();
        assert_eq!(head.len(), KEY_COLUMNS.len() + COLUMNS.len());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let rounds = |r: &StrategyResult| r.repeats.len().max(1);
        assert_eq!(rows.len(), run.results.iter().map(rounds).sum::<usize>());
        let first = &rows[0];
        assert_eq!(first.len(), head.len());
        assert_eq!(&first[0], "pull, then parse");
        assert_eq!(&first[2], run.results[0].strategy.to_string());
        assert_eq!(&first[head.len() - 1], flags.join(" "));
        assert!(rows.iter().all(|r| &r[0] == "pull, then parse"));
    }
}
