//! Human units shared by the server's and the client's flags: durations such
//! as `50ms`, `200us`, `1.5s`.
//!
//! Both binaries accept the same spellings so a latency copied from one
//! command line works in the other.

use std::time::Duration;

/// A duration that could not be parsed; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a duration: {why}; write a number with a unit, e.g. 200us, 50ms, 1.5s")]
pub struct DurationError {
    input: String,
    why: &'static str,
}

/// Parses `50ms`, `200us` (or `µs`), `1.5s`, `2m`, `100ns`; a bare `0` is zero.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    let err = |why| DurationError {
        input: input.to_string(),
        why,
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| err("it has no unit"))?;
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(err("it does not start with a number"));
    }
    let value: f64 = num.parse().map_err(|_| err("the number is malformed"))?;
    let ns_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return Err(err("the unit is not one of ns, us, ms, s, m")),
    };
    let ns = value * ns_per_unit;
    if !ns.is_finite() || ns > 1e9 * 86_400.0 * 365.0 {
        return Err(err("it is too large"));
    }
    Ok(Duration::from_nanos(ns.round() as u64))
}

/// Formats a duration the way [`parse_duration`] reads it, picking a unit
/// that keeps the number short (`50ms`, `200us`, `1.5s`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0".to_string();
    }
    let (value, unit) = if ns >= 1_000_000_000 {
        (ns as f64 / 1e9, "s")
    } else if ns >= 1_000_000 {
        (ns as f64 / 1e6, "ms")
    } else if ns >= 1_000 {
        (ns as f64 / 1e3, "us")
    } else {
        (ns as f64, "ns")
    };
    let mut text = format!("{value:.3}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    format!("{text}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("50ms").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_duration("200us").unwrap(), Duration::from_micros(200));
        assert_eq!(parse_duration("200µs").unwrap(), Duration::from_micros(200));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    }

    #[test]
    fn durations_without_a_unit_or_number_are_refused() {
        for bad in ["abc", "50", "ms", "5 parsecs", "1.2.3ms", ""] {
            assert!(parse_duration(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn formatted_durations_read_back_the_same() {
        for d in [1, 999, 1_000, 200_000, 50_000_000, 1_500_000_000u64] {
            let d = Duration::from_nanos(d);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
