//! Properties of flag and scenario parsing (proptest).
//!
//! - The unit parsers (`units::parse_count`, `parse_bytes`, `parse_duration`),
//!   the latency distributions (`LatencyDist: FromStr`) and the clap value parser
//!   of every `concbench run` flag never panic on arbitrary text.
//! - Generated valid values read back exactly: `Nns`/`Nus`/`Nms`/`Ns` durations,
//!   `N`/`Nk`/`NM` counts (with `_` separators), `NKiB`/`NMiB` sizes, latency
//!   distributions, and the same through the `run` command line.
//! - Scenario parsing never panics on arbitrary text (arbitrary Unicode, arbitrary
//!   bytes made valid UTF-8, byte strings that are valid UTF-8 as they are, and
//!   TOML-like lines of real and made-up keys and values), and every error it
//!   gives is one line with a position inside the text.
//! - A generated valid scenario (1 to 10 flags in any order, either spelling,
//!   bare or quoted keys, indentation, comments and blank lines) parses to exactly
//!   its flags' words; with one value corrupted, the error's line:column is that
//!   value's, i.e. on that key's line.
//!
//! Cases: 2,000 for each of the four properties (8,000 in all); each test prints
//! `property NAME: N cases in T` to stderr (`cargo test --test integration
//! parsing_properties:: -- --nocapture`). In a debug build on the 2-core
//! development machine, one at a time: parsers never panic 2.3 s, values read
//! back 1.3 s, scenarios never panic 1.0 s, corrupted value position 4.9 s
//! (9.5 s in all; about 8 s wall when the test harness runs them in parallel).

use std::cell::RefCell;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use concbench::cli::scenario;
use concbench::cli::{self, Command as Sub};
use concbench::units::{format_duration, parse_bytes, parse_count, parse_duration};
use mock_server::LatencyDist;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::common;

/// Cases per property.
const CASES: u32 = 2_000;

/// Runs `test` on `CASES` values of `strategy`, prints how many ran and how long it took.
fn check<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let _cores = common::busy_cores();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let ran = std::cell::Cell::new(0u32);
    let start = Instant::now();
    let result = runner.run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    eprintln!(
        "property {name}: {} cases in {:.2?}",
        ran.get(),
        start.elapsed()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert_eq!(ran.get(), CASES, "{name}: every case ran");
}

/// Text a parser might meet: anything, or something close to a unit.
fn unit_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+ 0-9._eE]{0,10}(ns|us|µs|ms|s|m|min|k|K|M|G|KiB|MiB|GiB|B|kB|b|x|)[ ]?",
        "(fixed|uniform|normal|exp|lognormal|nope):[0-9.]{0,6}(ms|us|s|)(\\.\\.|,|)[0-9.e+-]{0,6}(ms|us|)",
        "(inf|nan|NaN|-inf|1e400|1e15|1e16|999999999999999999999)(ms|k|KiB|)",
    ]
}

#[test]
fn unit_latency_and_flag_parsers_never_panic_on_arbitrary_text() {
    let run = RefCell::new(scenario::run_command());
    let flags: Vec<String> = run
        .borrow()
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    assert!(flags.len() >= 15, "{flags:?}");
    check("parsers_never_panic", unit_like_text(), |s| {
        let _ = parse_count(&s);
        let _ = parse_bytes(&s);
        let _ = parse_duration(&s);
        if let Ok(d) = s.parse::<LatencyDist>() {
            // Whatever parses prints as something that parses again.
            prop_assert!(d.to_string().parse::<LatencyDist>().is_ok(), "{d}");
        }
        let mut run = run.borrow_mut();
        for flag in &flags {
            let _ = run.try_get_matches_from_mut(["run".to_string(), format!("--{flag}={s}")]);
        }
        Ok(())
    });
}

/// `n` with `_` between thousands when `sep`.
fn grouped(n: u64, sep: bool) -> String {
    let digits = n.to_string();
    if !sep {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    out
}

#[test]
fn generated_valid_values_read_back_exactly() {
    const UNITS: [(&str, u64); 4] = [
        ("ns", 1),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
    ];
    let values = (
        0u64..1_000_000,
        0usize..4,
        0u64..1_000_000,
        any::<bool>(),
        1u64..10_000,
        0u64..100_000,
        0usize..3,
    );
    check(
        "valid_values_round_trip",
        values,
        |(n, unit, m, sep, k, b, which)| {
            // Durations, and their formatting read back.
            let (name, ns) = UNITS[unit];
            let d = parse_duration(&format!("{n}{name}"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(d, Duration::from_nanos(n * ns));
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
            // Counts with suffixes and separators.
            prop_assert_eq!(parse_count(&grouped(m, sep)), Ok(m));
            prop_assert_eq!(parse_count(&format!("{}k", grouped(m, sep))), Ok(m * 1_000));
            prop_assert_eq!(parse_count(&format!("{m}M")), Ok(m * 1_000_000));
            // Sizes.
            prop_assert_eq!(parse_bytes(&format!("{b}KiB")), Ok(b * 1024));
            prop_assert_eq!(parse_bytes(&format!("{b}MiB")), Ok(b << 20));
            prop_assert_eq!(parse_bytes(&format!("{b}k")), Ok(b * 1_000));
            // Latency distributions.
            let (lo, hi) = (n.min(m), n.max(m));
            let (text, want) = match which {
                0 => (
                    format!("{lo}{name}"),
                    LatencyDist::Fixed(Duration::from_nanos(lo * ns)),
                ),
                1 => (
                    format!("uniform:{lo}us..{hi}us"),
                    LatencyDist::Uniform {
                        low: Duration::from_micros(lo),
                        high: Duration::from_micros(hi),
                    },
                ),
                _ => (
                    format!("normal:{n}ms, {m}us"),
                    LatencyDist::Normal {
                        mean: Duration::from_millis(n),
                        std_dev: Duration::from_micros(m),
                    },
                ),
            };
            prop_assert_eq!(text.parse::<LatencyDist>(), Ok(want));
            prop_assert_eq!(want.to_string().parse::<LatencyDist>(), Ok(want));
            // The same values through the run command line.
            let cli = cli::parse_from([
                "concbench".to_string(),
                "run".into(),
                format!("--tasks={k}k"),
                format!("--latency={text}"),
                format!("--bytes={}KiB", b % 65_537),
                format!("--cpu={}us", n % 60_000_000),
                format!("--concurrency={}", grouped(k, sep)),
            ])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let Sub::Run(args) = cli.command else {
                return Err(TestCaseError::fail("not run"));
            };
            prop_assert_eq!(args.tasks as u64, k * 1_000);
            prop_assert_eq!(args.latency, want);
            prop_assert_eq!(args.bytes as u64, (b % 65_537) * 1024);
            prop_assert_eq!(args.cpu, Duration::from_micros(n % 60_000_000));
            prop_assert_eq!(args.concurrency as u64, k);
            Ok(())
        },
    );
}

/// Keys a scenario might have: real ones in either spelling, and made-up ones.
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "tasks",
            "latency",
            "bytes",
            "cpu",
            "cpu_units",
            "cpu-units",
            "concurrency",
            "strategies",
            "preset",
            "seed",
            "help",
            "version",
            "scenario",
            "format",
            "out",
            "sample_interval",
        ])
        .prop_map(str::to_string),
        "[a-z_-]{1,10}",
        "\"[^\"\\\\\n]{0,8}\"",
        "[a-z]{1,5}\\.[a-z]{1,5}",
    ]
}

/// Values a scenario might have: every TOML type, well formed or not.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\"[^\"\\\\\n]{0,12}\"",
        "'[^'\n]{0,12}'",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("[\"sequential\", \"async\"]".to_string()),
        Just("[[1], {a = 2}]".to_string()),
        Just("{ x = 1 }".to_string()),
        Just("\"unterminated".to_string()),
        Just("50ms".to_string()),
        Just("0x_ff".to_string()),
        "[ -~]{0,12}",
    ]
}

fn toml_like_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => (any_key(), "[ \t]{0,2}", any_value(), "( # [ -~]{0,8})?")
            .prop_map(|(k, s, v, c)| format!("{k}{s}={s}{v}{c}")),
        1 => any_key().prop_map(|k| format!("[{k}]")),
        1 => any_key().prop_map(|k| format!("[[{k}]]")),
        1 => "#[^\n]{0,12}",
        1 => Just(String::new()),
        1 => any::<String>(),
    ];
    (
        prop::collection::vec(line, 0..8),
        prop_oneof!["\n", "\r\n", "\r"],
    )
        .prop_map(|(lines, eol)| lines.join(&eol))
}

/// Up to `max` bytes, mostly ASCII, some anything.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![4 => 0u8..128, 1 => any::<u8>()], 0..max)
}

#[test]
fn scenario_parsing_never_panics_and_its_errors_are_one_line_inside_the_text() {
    let run = scenario::run_command();
    let text = prop_oneof![
        any::<String>(),
        bytes(64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        bytes(24).prop_filter_map("valid UTF-8 as it is", |b| String::from_utf8(b).ok()),
        toml_like_text(),
    ];
    let (accepted, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    check("scenario_never_panics", text, |text| {
        let parsed = scenario::parse_for(&run, &text, "p.toml");
        let tally = if parsed.is_ok() { &accepted } else { &refused };
        tally.set(tally.get() + 1);
        if let Err(e) = parsed {
            let shown = e.to_string();
            prop_assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown:?}");
            let lines = text.split('\n').count();
            prop_assert!(e.line >= 1 && e.line <= lines, "{e} in {lines} lines");
            let width = text
                .split('\n')
                .nth(e.line - 1)
                .unwrap_or("")
                .chars()
                .count();
            prop_assert!(
                e.column >= 1 && e.column <= width + 1,
                "{e}, line {width} wide"
            );
        }
        Ok(())
    });
    // The generators reach past the TOML parser, into the flags' own parsers.
    eprintln!("  {} accepted, {} refused", accepted.get(), refused.get());
    assert!(accepted.get() > 20 && refused.get() > 20);
}

/// A flag, TOML literals of valid values with the flag text they stand for,
/// and literals the flag refuses.
fn flag_values(flag: &'static str) -> (BoxedStrategy<(String, String)>, BoxedStrategy<String>) {
    let s = |t: String| (format!("{t:?}"), t);
    let int = |lo: u64, hi: u64| {
        (lo..=hi)
            .prop_map(|n| (n.to_string(), n.to_string()))
            .boxed()
    };
    let bad = |v: &[&'static str]| {
        prop::sample::select(v.to_vec())
            .prop_map(str::to_string)
            .boxed()
    };
    let names = [
        "sequential",
        "thread-per-task",
        "thread-pool",
        "rayon",
        "process-pool",
        "async",
        "async-single",
        "async-rayon",
    ];
    match flag {
        "tasks" => (
            prop_oneof![
                int(1, 100_000),
                (1u64..1_000).prop_map(move |n| s(format!("{n}k")))
            ]
            .boxed(),
            bad(&[
                "\"ten\"", "0", "-3", "\"1.5\"", "\"\"", "\"10x\"", "20000000", "1.5",
            ]),
        ),
        "concurrency" => (int(1, 100_000), bad(&["0", "\"many\"", "2000000"])),
        "latency" => (
            prop_oneof![
                (0u64..10_000).prop_map(move |n| s(format!("{n}ms"))),
                (0u64..100, 0u64..100).prop_map(move |(a, b)| s(format!(
                    "uniform:{}ms..{}ms",
                    a.min(b),
                    a.max(b)
                ))),
                (1u64..10_000).prop_map(move |n| s(format!("exp:{n}us"))),
            ]
            .boxed(),
            bad(&[
                "50",
                "\"50\"",
                "\"fast\"",
                "\"uniform:9ms..1ms\"",
                "\"lognormal:5ms,99\"",
            ]),
        ),
        "bytes" => (
            prop_oneof![
                int(0, 1 << 20),
                (0u64..1024).prop_map(move |n| s(format!("{n}KiB")))
            ]
            .boxed(),
            bad(&["\"4 parsecs\"", "\"lots\"", "\"1GiB\""]),
        ),
        "cpu" => (
            prop_oneof![
                Just(("0".to_string(), "0".to_string())),
                (0u64..100_000).prop_map(move |n| s(format!("{n}us")))
            ]
            .boxed(),
            bad(&["5", "\"61s\"", "\"fast\""]),
        ),
        "seed" => (int(0, u64::MAX >> 2), bad(&["\"x\"", "-1", "true"])),
        "strategies" => (
            prop::sample::subsequence(names.to_vec(), 1..4)
                .prop_map(|v| {
                    let lit: Vec<String> = v.iter().map(|n| format!("{n:?}")).collect();
                    (format!("[{}]", lit.join(", ")), v.join(","))
                })
                .boxed(),
            bad(&["[\"fibers\"]", "\"sequential,fibers\"", "[]", "7"]),
        ),
        "connection" => (
            prop::sample::select(vec!["reuse", "new"])
                .prop_map(move |v| s(v.into()))
                .boxed(),
            bad(&["\"old\"", "true"]),
        ),
        "schedule" => (
            prop::sample::select(vec!["static", "dynamic"])
                .prop_map(move |v| s(v.into()))
                .boxed(),
            bad(&["\"random\""]),
        ),
        "repeat" => (int(1, 1000), bad(&["0", "1001"])),
        "warmup" => (int(0, 100), bad(&["101", "\"some\""])),
        "sample-interval" => (
            (10u64..=1000)
                .prop_map(move |n| s(format!("{n}ms")))
                .boxed(),
            bad(&["\"1ms\"", "\"2s\"", "20"]),
        ),
        "workers" => (int(1, 4096), bad(&["0", "4097"])),
        "batch" => (int(1, 1_000_000), bad(&["0"])),
        "cores" => (int(1, 64), bad(&["0", "\"all\""])),
        "format" => (
            prop::sample::select(vec!["table", "json", "csv", "markdown"])
                .prop_map(move |v| s(v.into()))
                .boxed(),
            bad(&["\"yaml\""]),
        ),
        "target" => (
            (1u16..65535)
                .prop_map(move |p| s(format!("http://127.0.0.1:{p}")))
                .boxed(),
            bad(&["\"localhost:8080\"", "\"http://127.0.0.1:80/work\""]),
        ),
        "preset" => (
            prop::sample::select(vec!["api-pull", "pure-io", "aiomultiprocess"])
                .prop_map(move |v| s(v.into()))
                .boxed(),
            bad(&["\"nope\""]),
        ),
        other => panic!("no values for {other}"),
    }
}

const FLAGS: [&str; 18] = [
    "tasks",
    "concurrency",
    "latency",
    "bytes",
    "cpu",
    "seed",
    "strategies",
    "connection",
    "schedule",
    "repeat",
    "warmup",
    "sample-interval",
    "workers",
    "batch",
    "cores",
    "format",
    "target",
    "preset",
];

/// One `key = value` line of a generated scenario.
#[derive(Debug, Clone)]
struct Entry {
    flag: &'static str,
    key: String,
    good: (String, String),
    bad: String,
    indent: String,
    gap: String,
    comment: Option<String>,
    /// Blank or comment lines before it.
    before: Vec<String>,
}

fn entry(flag: &'static str) -> impl Strategy<Value = Entry> {
    let (good, bad) = flag_values(flag);
    (
        good,
        bad,
        any::<bool>(),
        any::<bool>(),
        "[ \t]{0,3}",
        "[ ]{0,2}",
        proptest::option::of("[ -~é]{0,10}"),
        prop::collection::vec(
            prop_oneof![Just(String::new()), "[ ]{0,2}# [ -~ü]{0,12}"],
            0..3,
        ),
    )
        .prop_map(
            move |(good, bad, underscore, quoted, indent, gap, comment, before)| {
                let mut key = if underscore {
                    flag.replace('-', "_")
                } else {
                    flag.to_string()
                };
                if quoted {
                    key = format!("\"{key}\"");
                }
                Entry {
                    flag,
                    key,
                    good,
                    bad,
                    indent,
                    gap,
                    comment,
                    before,
                }
            },
        )
}

/// The text of a scenario, with value `corrupt` (if any) replaced by a bad one;
/// and the 1-based line and column of each value.
fn render(entries: &[Entry], corrupt: Option<usize>) -> (String, Vec<(usize, usize)>) {
    let mut lines: Vec<String> = vec!["# generated".into()];
    let mut at = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        lines.extend(e.before.iter().cloned());
        let head = format!("{}{}{}={}", e.indent, e.key, e.gap, e.gap);
        let value = if corrupt == Some(i) {
            &e.bad
        } else {
            &e.good.0
        };
        at.push((lines.len() + 1, head.chars().count() + 1));
        let comment = e
            .comment
            .as_ref()
            .map_or(String::new(), |c| format!(" #{c}"));
        lines.push(format!("{head}{value}{comment}"));
    }
    (lines.join("\n") + "\n", at)
}

#[test]
fn a_corrupted_value_in_a_generated_scenario_is_reported_at_its_line_and_column() {
    let run = scenario::run_command();
    let scenarios = prop::sample::subsequence(FLAGS.to_vec(), 1..=10)
        .prop_shuffle()
        .prop_flat_map(|flags| {
            let n = flags.len();
            let entries: Vec<_> = flags.into_iter().map(entry).collect();
            (entries, 0..n)
        });
    check("corrupted_value_position", scenarios, |(entries, k)| {
        let (good, _) = render(&entries, None);
        let settings = scenario::parse_for(&run, &good, "g.toml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{good}")))?;
        let words: Vec<String> = settings.into_iter().flat_map(|s| s.args).collect();
        let want: Vec<String> = entries
            .iter()
            .map(|e| format!("--{}={}", e.flag, e.good.1))
            .collect();
        prop_assert_eq!(words, want, "{}", good);

        let (bad, at) = render(&entries, Some(k));
        match scenario::parse_for(&run, &bad, "g.toml") {
            Ok(_) => prop_assert!(false, "corrupted value accepted:\n{}", bad),
            Err(e) => {
                prop_assert_eq!((e.line, e.column), at[k], "{}\n{}", e, bad);
                let key = entries[k].key.trim_matches('"');
                prop_assert!(e.message.starts_with(&format!("{key}: ")), "{}", e);
            }
        }
        Ok(())
    });
}
