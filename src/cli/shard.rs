//! Flags that make a run or a sweep one part of a whole spread over several
//! machines: `--shard K/N` (which part) and `--start-at` (when the parts
//! start together). The parts come back together with `concbench merge`.

use clap::Args;

use crate::workload::Shard;

/// How far ahead `--start-at` may be: a day, so a typo cannot hang a job for a year.
pub const START_AT_MAX_AHEAD_S: f64 = 24.0 * 3600.0;
/// How far in the past `--start-at` may be (clocks differ, jobs start late): then it starts at once.
pub const START_AT_GRACE_S: f64 = 60.0;

/// The shard flags, on `run` and `sweep`.
#[derive(Debug, Clone, Default, Args)]
pub struct ShardArgs {
    /// Run shard K of N (1-based: 1/3 is the first of three) of the whole: for `sweep` the
    /// cells whose index in grid order is K-1 mod N, for `run` the tasks whose id is K-1 mod
    /// N. Put the parts together with `concbench merge`. From a 0-based index, e.g. a
    /// Kubernetes JOB_COMPLETION_INDEX, pass --shard $((I+1))/N.
    #[arg(long, value_name = "K/N", help_heading = "Shards")]
    pub shard: Option<Shard>,
    /// Wait until this wall-clock time before the first strategy, so shards on several hosts
    /// overlap: RFC 3339 (2026-12-02T01:30:00Z, 2026-12-02T02:30:00+01:00) or Unix seconds
    /// (1796175000); at most 24 h ahead, up to 60 s in the past (then it starts at once).
    /// Ctrl-C stops the wait.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at, help_heading = "Shards")]
    pub start_at: Option<f64>,
    /// With --start-at: start the n-th strategy (0-based, in the order given) n × DUR after
    /// --start-at instead of right after the one before, so every strategy of the shards
    /// overlaps, not only the first. Give each a slot longer than its run, e.g. 30s; one that
    /// overruns its slot delays the next, and merge names the gap.
    #[arg(long, value_name = "DUR", requires = "start_at", value_parser = parse_start_every, help_heading = "Shards")]
    pub start_every: Option<std::time::Duration>,
}

/// `--start-every`: a duration from 1 ms to an hour.
fn parse_start_every(s: &str) -> Result<std::time::Duration, String> {
    let d = crate::units::parse_duration(s).map_err(|e| e.to_string())?;
    if d < std::time::Duration::from_millis(1) || d > std::time::Duration::from_secs(3600) {
        return Err(format!("'{s}' is not between 1ms and 1h"));
    }
    Ok(d)
}

/// `--start-at`: seconds since the Unix epoch, checked against now.
pub fn parse_start_at(s: &str) -> Result<f64, String> {
    let at = parse_wall_time(s)?;
    let now = crate::sys::clock::unix_now_s();
    if at > now + START_AT_MAX_AHEAD_S {
        return Err(format!(
            "'{s}' is more than 24 h from now; give a time within a day (this host's clock reads \
             {now:.0} in Unix seconds)"
        ));
    }
    if at < now - START_AT_GRACE_S {
        return Err(format!(
            "'{s}' is more than {START_AT_GRACE_S:.0} s in the past (this host's clock reads \
             {now:.0} in Unix seconds); give a time a little ahead, e.g. $(( $(date +%s) + 30 ))"
        ));
    }
    Ok(at)
}

/// Seconds since the Unix epoch of `s`: Unix seconds (`1796175000`,
/// `1796175000.5`) or RFC 3339 (`2026-12-02T01:30:00Z`, a fraction and a
/// `±HH:MM` offset allowed, `t` and a space accepted for `T`).
pub fn parse_wall_time(s: &str) -> Result<f64, String> {
    let bad = || {
        format!(
            "'{s}' is not a time; give RFC 3339 (2026-12-02T01:30:00Z) or Unix seconds (1796175000)"
        )
    };
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return secs.is_finite().then_some(secs).ok_or_else(bad);
    }
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Result<i64, String> {
        let part = t.get(from..from + len).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<i64>().map_err(|_| bad())
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut rest = &t[19..];
    let mut fraction = 0.0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        fraction = format!("0.{}", &f[..digits])
            .parse::<f64>()
            .map_err(|_| bad())?;
        rest = &f[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let (h, m) = (num(t.len() - 5, 2)?, num(t.len() - 2, 2)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(secs as f64 + fraction)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_read_as_rfc_3339_or_unix_seconds() {
        assert_eq!(parse_wall_time("1970-01-01T00:00:00Z").unwrap(), 0.0);
        assert_eq!(
            parse_wall_time("2000-03-01T00:00:00Z").unwrap(),
            951_868_800.0
        );
        assert_eq!(
            parse_wall_time("2026-12-02T02:30:00.25+01:00").unwrap(),
            parse_wall_time("2026-12-02T01:30:00Z").unwrap() + 0.25
        );
        assert_eq!(parse_wall_time("1796175000").unwrap(), 1_796_175_000.0);
        for bad in [
            "tomorrow",
            "2026-13-02T01:30:00Z",
            "2026-12-02T01:30:00",
            "2026-12-02",
            "",
        ] {
            assert!(parse_wall_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_times_far_ahead_or_long_past_are_refused() {
        let now = crate::sys::clock::unix_now_s();
        assert!(parse_start_at(&format!("{}", now + 30.0)).is_ok());
        assert!(parse_start_at(&format!("{}", now - 5.0)).is_ok());
        let ahead = parse_start_at(&format!("{}", now + 2.0 * 86_400.0)).unwrap_err();
        assert!(ahead.contains("24 h"), "{ahead}");
        let past = parse_start_at(&format!("{}", now - 3600.0)).unwrap_err();
        assert!(past.contains("in the past"), "{past}");
    }
}
