//! Human units for counts and byte sizes on the command line (`10k`, `4KiB`).
//! Durations are shared with the mock server: see [`mock_server::units`].

pub use mock_server::units::{format_duration, parse_duration};

/// Parses a count: `200`, `10k` (10,000), `2M` (2,000,000), `1_000`.
pub fn parse_count(input: &str) -> Result<u64, String> {
    let s = input.trim().replace('_', "");
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1e3),
        Some((i, 'm' | 'M')) => (&s[..i], 1e6),
        Some((i, 'g' | 'G')) => (&s[..i], 1e9),
        _ => (&s[..], 1.0),
    };
    let value: f64 = num.parse().map_err(|_| {
        format!("'{input}' is not a count; write a whole number such as 200, 10k or 2M")
    })?;
    let total = value * mult;
    if !(0.0..=1e15).contains(&total) || total.fract() != 0.0 {
        return Err(format!("'{input}' is not a whole, non-negative count"));
    }
    Ok(total as u64)
}

/// Parses a byte size: `4096`, `4k` (4,000), `4KiB` (4,096), `1MiB`, `2MB`.
pub fn parse_bytes(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let mult: f64 = match unit.trim() {
        "" | "B" | "b" => 1.0,
        "k" | "K" | "kB" | "KB" => 1e3,
        "KiB" | "Ki" => 1024.0,
        "M" | "MB" => 1e6,
        "MiB" | "Mi" => 1024.0 * 1024.0,
        "G" | "GB" => 1e9,
        "GiB" | "Gi" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "'{input}' is not a size; write e.g. 4096, 4KiB, 16k or 1MiB"
            ))
        }
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{input}' is not a size; write e.g. 4096, 4KiB, 16k or 1MiB"))?;
    let total = (value * mult).round();
    if !(0.0..=1e12).contains(&total) {
        return Err(format!("'{input}' is out of range"));
    }
    Ok(total as u64)
}

/// Formats bytes with binary units (`4.0 KiB`, `12.3 MiB`).
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", b / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// Formats seconds with a unit that keeps three significant digits (`812µs`, `12.3ms`, `2.05s`).
pub fn format_seconds(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    if s == 0.0 {
        return "0".into();
    }
    // Round to what will be shown first, so 0.9999995 s prints as 1.00s, not 1000ms.
    let s = if s >= 1e-6 {
        (s * 1e6).round() / 1e6
    } else {
        s
    };
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else {
        (s * 1e6, "µs")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_suffixes() {
        assert_eq!(parse_count("10k"), Ok(10_000));
        assert_eq!(parse_count("2M"), Ok(2_000_000));
        assert_eq!(parse_count("1_000"), Ok(1000));
        assert_eq!(parse_count("1.5k"), Ok(1500));
        assert!(parse_count("ten").is_err());
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("-3").is_err());
    }

    #[test]
    fn sizes_accept_decimal_and_binary_units() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("4KiB"), Ok(4096));
        assert_eq!(parse_bytes("16k"), Ok(16_000));
        assert_eq!(parse_bytes("1MiB"), Ok(1 << 20));
        assert!(parse_bytes("4 parsecs").is_err());
    }

    #[test]
    fn seconds_format_with_three_significant_digits() {
        assert_eq!(format_seconds(2.054), "2.05s");
        assert_eq!(format_seconds(0.0123), "12.3ms");
        assert_eq!(format_seconds(0.000812), "812µs");
        assert_eq!(format_seconds(0.000_999_999_9), "1.00ms");
        assert_eq!(format_seconds(0.0), "0");
    }
}
