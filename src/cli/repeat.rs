//! `--repeat N|auto` and the caps of `--repeat auto` (`--repeat-max-rounds`,
//! `--repeat-max-time`): how many rounds each strategy is measured.

use std::time::Duration;

use clap::Args;

use super::parse::{duration_within, parse_repeat};
use crate::bench::{AutoRepeat, AUTO_MIN_ROUNDS};

/// How many rounds to measure: a fixed number, or until the top is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Exactly this many rounds.
    Rounds(usize),
    /// Until the fastest leads the runner-up beyond noise, or a cap.
    Auto,
}

impl Repeat {
    /// The most rounds it may measure (the progress bar's length).
    pub fn max_rounds(self, caps: &RepeatCaps) -> usize {
        match self {
            Repeat::Rounds(n) => n.max(1),
            Repeat::Auto => caps.repeat_max_rounds,
        }
    }
}

/// The value parser of `--repeat`: a number of rounds or `auto`.
pub(crate) fn parse_repeat_mode(s: &str) -> Result<Repeat, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(Repeat::Auto);
    }
    parse_repeat(s)
        .map(Repeat::Rounds)
        .map_err(|e| format!("{e}, or give auto (repeat until the fastest is decided)"))
}

/// The caps of `--repeat auto`.
#[derive(Debug, Clone, Args)]
pub struct RepeatCaps {
    /// With --repeat auto: the most rounds to measure (at least 3).
    #[arg(long, default_value = "10", value_parser = parse_max_rounds)]
    pub repeat_max_rounds: usize,
    /// With --repeat auto: start no new round after this long of measuring, e.g. 60s (checked
    /// from the third round on).
    #[arg(long, default_value = "60s", value_parser = parse_max_time)]
    pub repeat_max_time: Duration,
}

impl RepeatCaps {
    /// The run option `--repeat auto` with these caps stands for.
    pub fn auto(&self) -> AutoRepeat {
        AutoRepeat {
            max_rounds: self.repeat_max_rounds,
            max_time: self.repeat_max_time,
        }
    }
}

fn parse_max_rounds(s: &str) -> Result<usize, String> {
    let n = parse_repeat(s)?;
    if n < AUTO_MIN_ROUNDS {
        return Err(format!(
            "--repeat auto measures at least {AUTO_MIN_ROUNDS} rounds: use {AUTO_MIN_ROUNDS} or more"
        ));
    }
    Ok(n)
}

fn parse_max_time(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::from_millis(1)..=Duration::from_secs(7 * 24 * 3600),
        "the time cap must be more than 0 and at most 7 days, e.g. 60s",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_takes_a_number_of_rounds_or_auto() {
        assert_eq!(parse_repeat_mode("5"), Ok(Repeat::Rounds(5)));
        assert_eq!(parse_repeat_mode("auto"), Ok(Repeat::Auto));
        assert_eq!(parse_repeat_mode("AUTO"), Ok(Repeat::Auto));
        let e = parse_repeat_mode("often").unwrap_err();
        assert!(e.contains("auto"), "{e}");
        assert!(parse_repeat_mode("0")
            .unwrap_err()
            .contains("at least 1 round"));
    }

    #[test]
    fn the_round_cap_is_at_least_the_minimum() {
        assert!(parse_max_rounds("2").is_err());
        assert_eq!(parse_max_rounds("3"), Ok(3));
        assert!(parse_max_time("0s").is_err());
    }
}
