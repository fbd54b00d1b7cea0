//! `concbench check`: the CI performance gate. Runs the built-in suite
//! (`scenarios/check-suite.toml`, see `cli::suite`), holds
//! it against the baseline, measures a suspected regression again before it
//! counts; exit 1 for a confirmed regression.

use std::process::ExitCode;

use crate::bench::check;
use crate::bench::Target;
use crate::cli::CheckArgs;
use crate::error::{exit, UsageError};
use crate::measure::server::EmbeddedServer;

/// `concbench check`.
pub fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale <= 10.0) {
        return Err(UsageError::new("--scale", "use a factor above 0 and at most 10").into());
    }
    // Read the baseline first: a bad one is a usage error before anything runs.
    let baseline = if args.update_baseline {
        None
    } else {
        Some(check::load_baseline(&args.baseline)?)
    };
    let run_args_target = args.target.clone();
    mock_server::raise_fd_limit();
    let (_server, target) = match run_args_target {
        Some(url) => (
            None,
            Target {
                url,
                label: "external".into(),
            },
        ),
        None => {
            let server = EmbeddedServer::start(&[])?;
            let t = Target {
                url: server.url().to_string(),
                label: "embedded".into(),
            };
            (Some(server), t)
        }
    };
    let suite = crate::cli::suite::check_suite(args.scale)?;
    let opts = check::CheckOptions {
        repeat: args.repeat,
        worker_exe: None,
    };
    eprintln!(
        "running the check suite ({} rounds per scenario) ...",
        opts.repeat
    );
    let mut now = check::measure_suite(&suite, &target, &opts, None)?;
    let Some(baseline) = baseline else {
        check::save_baseline(&args.baseline, now.clone())?;
        for (name, m) in &now {
            println!("{name:<40} {:>12.4}", m.value);
        }
        eprintln!("baseline written to {}", args.baseline.display());
        return Ok(ExitCode::SUCCESS);
    };
    let first = check::compare(&baseline, &now);
    let suspects: Vec<String> = first
        .iter()
        .filter(|v| v.regressed)
        .map(|v| v.metric.clone())
        .collect();
    if !suspects.is_empty() {
        // Measure again before anything counts; keep the better of the two readings.
        eprintln!(
            "suspected regression in {}: measuring again",
            suspects.join(", ")
        );
        let again = check::measure_suite(&suite, &target, &opts, Some(&suspects))?;
        for name in &suspects {
            if let (Some(a), Some(b)) = (now.get(name).copied(), again.get(name).copied()) {
                let better = match a.better {
                    check::Better::Higher => a.value.max(b.value),
                    check::Better::Lower => a.value.min(b.value),
                };
                now.insert(name.clone(), check::BaselineMetric { value: better, ..a });
            }
        }
    }
    let verdicts = check::compare(&baseline, &now);
    print!("{}", check::render(&verdicts));
    let confirmed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.regressed)
        .map(|v| v.metric.as_str())
        .collect();
    if confirmed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} confirmed performance regression in {}",
            crate::colour::error_prefix(),
            confirmed.join(", ")
        );
        Ok(ExitCode::from(exit::FAILED))
    }
}
