//! Shards: a deterministic part of a sweep's cells or of a plan's tasks, so
//! that N machines (pods, CI jobs, ssh hosts) together run exactly the whole
//! and `concbench merge` can put the parts back together.
//!
//! Shard K of N (1-based, as k6 and CI matrices count: `--shard 1/3` is the
//! first) holds every item whose 0-based index i has `i mod N == K - 1`:
//! cells in grid order, tasks by id. Striding rather than cutting ranges
//! gives every shard the same mix (of latencies drawn over the ids, of cells
//! across the grid), so shards take about the same time.

use std::fmt;
use std::str::FromStr;

/// Shard `index + 1` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// 0-based: the residue of the indexes this shard holds.
    index: usize,
    /// How many shards the whole is split into (N ≥ 1).
    count: usize,
}

/// Most shards a whole may be split into (far more hosts than anyone runs).
pub const MAX_SHARDS: usize = 10_000;

impl Shard {
    /// Shard `k` of `n`, 1-based; `None` unless 1 ≤ k ≤ n ≤ [`MAX_SHARDS`].
    pub fn new(k: usize, n: usize) -> Option<Self> {
        (1..=n).contains(&k).then_some(())?;
        (n <= MAX_SHARDS).then_some(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// K, 1-based.
    pub fn number(self) -> usize {
        self.index + 1
    }

    /// N.
    pub fn count(self) -> usize {
        self.count
    }

    /// Whether the item at 0-based index `i` is this shard's.
    pub fn holds(self, i: u64) -> bool {
        i % self.count as u64 == self.index as u64
    }

    /// The 0-based index of this shard's `j`-th item.
    pub fn nth(self, j: usize) -> u64 {
        (self.index + j * self.count) as u64
    }

    /// This shard's items of `all`, in order.
    pub fn pick<T>(self, all: Vec<T>) -> Vec<T> {
        all.into_iter()
            .enumerate()
            .filter(|(i, _)| self.holds(*i as u64))
            .map(|(_, t)| t)
            .collect()
    }

    /// How many of `total` items (indexes 0..total) are this shard's.
    pub fn len_of(self, total: usize) -> usize {
        total.saturating_sub(self.index).div_ceil(self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number(), self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not a shard; use K/N with 1 <= K <= N <= {MAX_SHARDS}, e.g. 2/3 (the \
                 second of three; from a 0-based JOB_COMPLETION_INDEX pass $((I+1))/N)"
            )
        };
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_read_one_based_and_refuse_what_is_not_k_of_n() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!((s.number(), s.count(), s.to_string()), (2, 3, "2/3".into()));
        for bad in ["0/3", "4/3", "3", "a/3", "1/0", "1/100000", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shards_of_a_whole_hold_every_index_exactly_once() {
        for n in 1..=5 {
            for total in 0..12usize {
                let shards: Vec<Shard> = (1..=n).map(|k| Shard::new(k, n).unwrap()).collect();
                let mut seen = vec![0; total];
                for s in &shards {
                    let mine: Vec<u64> = (0..total as u64).filter(|&i| s.holds(i)).collect();
                    assert_eq!(mine.len(), s.len_of(total));
                    for (j, &i) in mine.iter().enumerate() {
                        assert_eq!(s.nth(j), i);
                        seen[i as usize] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "n={n} total={total}");
            }
        }
    }
}
