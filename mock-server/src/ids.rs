//! Requests per task id since the last reset, so a client that cannot be
//! trusted to say what it did (a program run as an external model) can be
//! held to the server's own count: every id of its plan requested once.
//!
//! Served at `GET /stats/ids?below=N` (and `&from=A` for the next part of a
//! long list); `POST /stats/reset` zeroes it. Memory
//! is bounded: one byte per id below [`MAX_COUNTED_IDS`], allocated in pages
//! of 64 Ki ids only when an id in the page is first requested (a plan of
//! 10 000 tasks touches one page). Counts saturate at 255; ids from
//! [`MAX_COUNTED_IDS`] up are counted together as `beyond`.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Ids counted one by one: 0 to this, exclusive (concbench's plans hold at most this many tasks).
pub const MAX_COUNTED_IDS: u64 = 10_000_000;

/// Ids per lazily allocated page.
const PAGE: u64 = 1 << 16;
const PAGES: usize = MAX_COUNTED_IDS.div_ceil(PAGE) as usize;

/// At most this many ids are listed one by one in [`IdsReport::not_once`];
/// `not_once_total` always counts them all.
pub const MAX_LISTED: usize = 1000;

/// The live per-id counters.
pub(crate) struct IdCounts {
    pages: Box<[OnceLock<Box<[AtomicU8]>>]>,
    /// Requests for ids at or above [`MAX_COUNTED_IDS`].
    beyond: AtomicU64,
}

/// What `GET /stats/ids?from=A&below=N` answers: how the ids `A..N` (`from`
/// defaults to 0) were requested since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdsReport {
    /// The range asked about: ids `from..below`.
    pub from: u64,
    pub below: u64,
    /// Ids in the range requested exactly once.
    pub once: u64,
    /// Ids in the range requested zero times or more than once, with their
    /// counts (saturating at 255), in id order, at most [`MAX_LISTED`].
    pub not_once: Vec<(u64, u8)>,
    /// How many ids in the range were not requested exactly once (all of them, listed or not).
    pub not_once_total: u64,
    /// Requests for ids at or above `below` (ids below `from` are not counted here).
    pub outside: u64,
}

impl IdCounts {
    pub(crate) fn new() -> Self {
        Self {
            pages: (0..PAGES).map(|_| OnceLock::new()).collect(),
            beyond: AtomicU64::new(0),
        }
    }

    /// Counts one request for `id`.
    pub(crate) fn record(&self, id: u64) {
        if id >= MAX_COUNTED_IDS {
            self.beyond.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let page = self.pages[(id / PAGE) as usize]
            .get_or_init(|| (0..PAGE).map(|_| AtomicU8::new(0)).collect());
        let slot = &page[(id % PAGE) as usize];
        // Saturating: fetch_update only fails when the closure says so (at 255).
        let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1));
    }

    /// Requests for `id` since the last reset (255 means 255 or more).
    fn count(&self, id: u64) -> u8 {
        if id >= MAX_COUNTED_IDS {
            return 0;
        }
        self.pages[(id / PAGE) as usize]
            .get()
            .map_or(0, |p| p[(id % PAGE) as usize].load(Ordering::Relaxed))
    }

    /// Zeroes every count.
    pub(crate) fn reset(&self) {
        for page in self.pages.iter().filter_map(|p| p.get()) {
            for slot in page.iter() {
                slot.store(0, Ordering::Relaxed);
            }
        }
        self.beyond.store(0, Ordering::Relaxed);
    }

    /// How ids `from..below` were requested (`below` is capped at [`MAX_COUNTED_IDS`]).
    pub(crate) fn report(&self, from: u64, below: u64) -> IdsReport {
        let below = below.min(MAX_COUNTED_IDS);
        let from = from.min(below);
        let mut r = IdsReport {
            from,
            below,
            ..IdsReport::default()
        };
        for id in from..below {
            match self.count(id) {
                1 => r.once += 1,
                n => {
                    r.not_once_total += 1;
                    if r.not_once.len() < MAX_LISTED {
                        r.not_once.push((id, n));
                    }
                }
            }
        }
        let page_sum = |p: &OnceLock<Box<[AtomicU8]>>, from: u64| -> u64 {
            p.get().map_or(0, |p| {
                p[from as usize..]
                    .iter()
                    .map(|s| s.load(Ordering::Relaxed) as u64)
                    .sum()
            })
        };
        // Requests at or above `below`: the rest of its page, then whole pages.
        let first = (below / PAGE) as usize;
        let mut outside = self.beyond.load(Ordering::Relaxed);
        if first < PAGES {
            outside += page_sum(&self.pages[first], below % PAGE);
            for p in &self.pages[first + 1..] {
                outside += page_sum(p, 0);
            }
        }
        r.outside = outside;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_requested_once_twice_or_never_are_told_apart_and_reset_clears_them() {
        let c = IdCounts::new();
        for id in [0, 1, 1, 3, 70_000, MAX_COUNTED_IDS + 5] {
            c.record(id);
        }
        let r = c.report(0, 4);
        assert_eq!(r.once, 2, "{r:?}");
        assert_eq!(r.not_once, vec![(1, 2), (2, 0)]);
        assert_eq!(r.not_once_total, 2);
        assert_eq!(r.outside, 2, "70 000 and the one beyond the counted range");
        c.reset();
        let r = c.report(0, 4);
        assert_eq!((r.once, r.not_once_total, r.outside), (0, 4, 0));
    }

    #[test]
    fn counts_saturate_and_long_lists_are_cut_but_still_counted() {
        let c = IdCounts::new();
        for _ in 0..300 {
            c.record(7);
        }
        assert_eq!(c.count(7), 255);
        let r = c.report(0, 5000);
        assert_eq!(r.not_once.len(), MAX_LISTED);
        assert_eq!(r.not_once_total, 5000);
        let next = c.report(MAX_LISTED as u64, 5000);
        assert_eq!(
            next.not_once[0],
            (MAX_LISTED as u64, 0),
            "the next part starts at from"
        );
    }

    #[test]
    fn only_touched_pages_take_memory() {
        let c = IdCounts::new();
        c.record(5);
        assert_eq!(c.pages.iter().filter(|p| p.get().is_some()).count(), 1);
    }
}
