//! The task of this example: scan one access-log file per task (the I/O:
//! read it, from disk or the page cache) and count what is in it (the CPU:
//! parse every line, count requests per status class, sum the bytes, find
//! the busiest client). Nothing here talks to a mock server.
//!
//! The files are generated once, deterministically, into a directory of
//! the system's temporary directory named by their count and size, so the
//! workers that re-execute this binary find them already there.

use std::collections::HashMap;
use std::path::PathBuf;

use concbench::user::{FetchFuture, UserTask};

/// `files` log files of `lines` lines each, scanned one per task.
#[derive(Debug, Clone)]
pub struct FileScan {
    pub dir: PathBuf,
    pub files: u64,
    pub lines: usize,
}

impl FileScan {
    /// The files of this size, written if they are not there yet (each
    /// file atomically: a half-written one is never read).
    pub fn new(files: u64, lines: usize) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("concbench-file-scan-{files}x{lines}"));
        std::fs::create_dir_all(&dir)?;
        let scan = Self { dir, files, lines };
        for id in 0..files {
            let path = scan.path(id);
            if !path.exists() {
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, generate(id, lines))?;
                std::fs::rename(&tmp, &path)?;
            }
        }
        Ok(scan)
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}.log"))
    }
}

/// A deterministic access log: `client status bytes path` per line.
pub fn generate(id: u64, lines: usize) -> Vec<u8> {
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = String::with_capacity(lines * 48);
    for _ in 0..lines {
        let r = next();
        let status = [200, 200, 200, 201, 304, 404, 500][(r % 7) as usize];
        out.push_str(&format!(
            "10.0.{}.{} {status} {} /api/items/{}\n",
            (r >> 8) % 4,
            (r >> 16) % 64,
            (r >> 24) % 20_000,
            (r >> 40) % 1000
        ));
    }
    out.into_bytes()
}

/// What a scan counts.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub lines: u64,
    pub by_class: [u64; 6],
    pub bytes: u64,
    pub busiest_client_requests: u64,
}

/// Parses a log and counts it.
pub fn scan(log: &[u8]) -> Counts {
    let text = String::from_utf8_lossy(log);
    let mut c = Counts::default();
    let mut clients: HashMap<&str, u64> = HashMap::new();
    for line in text.lines() {
        let mut f = line.split(' ');
        let (Some(client), Some(status), Some(bytes)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let status: u16 = status.parse().unwrap_or(0);
        c.lines += 1;
        c.by_class[(status / 100).min(5) as usize] += 1;
        c.bytes += bytes.parse::<u64>().unwrap_or(0);
        *clients.entry(client).or_default() += 1;
    }
    c.busiest_client_requests = clients.values().copied().max().unwrap_or(0);
    c
}

impl Counts {
    /// The counts as one word.
    pub fn digest(&self) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for v in [self.lines, self.bytes, self.busiest_client_requests]
            .into_iter()
            .chain(self.by_class)
        {
            h = (h ^ v).wrapping_mul(0x100_0000_01b3);
        }
        h
    }
}

impl UserTask for FileScan {
    fn name(&self) -> String {
        format!("file-scan ({} files of {} lines)", self.files, self.lines)
    }

    fn fetch_blocking(&self, id: u64) -> Result<Vec<u8>, String> {
        let path = self.path(id % self.files);
        std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))
    }

    fn fetch(&self, id: u64) -> FetchFuture<'_> {
        let path = self.path(id % self.files);
        Box::pin(async move {
            tokio::fs::read(&path)
                .await
                .map_err(|e| format!("reading {}: {e}", path.display()))
        })
    }

    fn process(&self, _id: u64, input: &[u8]) -> u64 {
        scan(input).digest()
    }

    fn verify(&self, id: u64, result: u64) -> Result<(), String> {
        let want = scan(&generate(id % self.files, self.lines)).digest();
        if result == want {
            Ok(())
        } else {
            Err(format!("counts digest {result:016x}, expected {want:016x}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_counts_every_line_once() {
        let c = scan(&generate(3, 500));
        assert_eq!(c.lines, 500);
        assert_eq!(c.by_class.iter().sum::<u64>(), 500);
        assert!(c.by_class[2] > c.by_class[5], "{c:?}");
    }
}
