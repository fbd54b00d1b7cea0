//! The response body as a deterministic function of (seed, id, length), and
//! the checksum both sides use.
//!
//! The server writes it; the client regenerates the expected checksum on its
//! own and compares, so no byte the server sends is taken on trust.

use crate::rng::mix64;

/// What a body is made of: the kind of work a client does over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Random bytes ([`generate`]): the client hashes them.
    #[default]
    Bytes,
    /// A JSON document of posts ([`crate::posts`]): the client parses and analyses it.
    Json,
}

impl Kind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [Kind; 2] = [Kind::Bytes, Kind::Json];

    /// The name in a query (`kind=json`) and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bytes => "bytes",
            Kind::Json => "json",
        }
    }

    /// The body of task `id` under `seed`, `len` bytes long.
    pub fn generate(self, seed: u64, id: u64, len: usize) -> Vec<u8> {
        match self {
            Kind::Bytes => generate(seed, id, len),
            Kind::Json => crate::posts::generate(seed, id, len),
        }
    }

    /// The checksum of that body (without allocating it, for bytes).
    pub fn expected_checksum(self, seed: u64, id: u64, len: usize) -> u64 {
        match self {
            Kind::Bytes => expected_checksum(seed, id, len),
            Kind::Json => checksum(&crate::posts::generate(seed, id, len)),
        }
    }

    /// The shortest body of this kind.
    pub fn min_bytes(self) -> usize {
        match self {
            Kind::Bytes => 0,
            Kind::Json => crate::posts::MIN_BYTES,
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("kind={s} is not a body kind: use bytes or json"))
    }
}

/// Per-task key: every (seed, id) pair starts its own stream.
#[inline]
fn key(seed: u64, id: u64) -> u64 {
    mix64(seed ^ mix64(id.wrapping_add(0x5851_F42D_4C95_7F2D)))
}

/// The `i`-th 8-byte word of the body for (seed, id).
#[inline]
fn word(key: u64, i: u64) -> u64 {
    mix64(key.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Fills `buf` with the body of task `id` under `seed`.
///
/// The server builds every body it sends, so this is on its path for
/// every answer: words are made eight at a time (independent, so the
/// compiler can put them in vector registers), with AVX2 where the CPU has
/// it. `cargo bench --bench concbench -- harness/payload_generate` (which
/// allocates too): 64 KiB in 17.8 µs a word at a time, 8.7 µs now; 4 KiB
/// in 1.10 and 0.57 µs (the same bytes each way).
pub fn fill(seed: u64, id: u64, buf: &mut [u8]) {
    let k = key(seed, id);
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { fill_avx2(k, buf) };
        return;
    }
    fill_words(k, buf);
}

/// [`fill_words`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2(k: u64, buf: &mut [u8]) {
    fill_words(k, buf);
}

/// Writes the words of key `k` over `buf`, eight at a time, then the rest.
#[inline(always)]
fn fill_words(k: u64, buf: &mut [u8]) {
    let mut blocks = buf.chunks_exact_mut(64);
    let mut i = 0u64;
    for block in &mut blocks {
        let mut w = [0u64; 8];
        for (j, x) in w.iter_mut().enumerate() {
            *x = word(k, i + j as u64);
        }
        for (out, x) in block.chunks_exact_mut(8).zip(w) {
            out.copy_from_slice(&x.to_le_bytes());
        }
        i += 8;
    }
    let mut chunks = blocks.into_remainder().chunks_exact_mut(8);
    for chunk in &mut chunks {
        chunk.copy_from_slice(&word(k, i).to_le_bytes());
        i += 1;
    }
    let rest = chunks.into_remainder();
    let last = word(k, i).to_le_bytes();
    rest.copy_from_slice(&last[..rest.len()]);
}

/// The body of task `id` under `seed`, `len` bytes long.
pub fn generate(seed: u64, id: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    fill(seed, id, &mut v);
    v
}

/// A fast 64-bit checksum of a byte string (length-sensitive).
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8-byte chunk"));
        h = (h ^ w).wrapping_mul(0x100_0000_01B3).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(last))
            .wrapping_mul(0x100_0000_01B3)
            .rotate_left(29);
    }
    mix64(h)
}

/// The checksum the body of (seed, id, len) must have, computed without
/// allocating the body.
pub fn expected_checksum(seed: u64, id: u64, len: usize) -> u64 {
    let mut buf = [0u8; 4096];
    let mut h = 0x243F_6A88_85A3_08D3u64 ^ len as u64;
    let k = key(seed, id);
    let full_words = (len / 8) as u64;
    for i in 0..full_words {
        h = (h ^ word(k, i))
            .wrapping_mul(0x100_0000_01B3)
            .rotate_left(29);
    }
    let tail = len % 8;
    if tail != 0 {
        let w = word(k, full_words).to_le_bytes();
        buf[..tail].copy_from_slice(&w[..tail]);
        let mut last = [0u8; 8];
        last[..tail].copy_from_slice(&buf[..tail]);
        h = (h ^ u64::from_le_bytes(last))
            .wrapping_mul(0x100_0000_01B3)
            .rotate_left(29);
    }
    mix64(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_filling_a_body_writes_its_words_in_order() {
        let k = key(5, 9);
        for len in (0..200usize).chain([4096, 16 * 1024 + 3]) {
            // The definition: word i's little-endian bytes, cut at `len`.
            let mut want: Vec<u8> = (0..len.div_ceil(8) as u64)
                .flat_map(|i| word(k, i).to_le_bytes())
                .collect();
            want.truncate(len);
            let mut portable = vec![0u8; len];
            fill_words(k, &mut portable);
            assert_eq!(portable, want, "eight at a time, {len} bytes");
            assert_eq!(generate(5, 9, len), want, "as served, {len} bytes");
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                let mut wide = vec![0u8; len];
                // SAFETY: the CPU has AVX2.
                unsafe { fill_avx2(k, &mut wide) };
                assert_eq!(wide, want, "AVX2, {len} bytes");
            }
        }
    }

    #[test]
    fn bodies_depend_only_on_seed_id_and_length() {
        assert_eq!(generate(1, 2, 100), generate(1, 2, 100));
        assert_ne!(generate(1, 2, 100), generate(1, 3, 100));
        assert_ne!(generate(1, 2, 100), generate(2, 2, 100));
        assert_eq!(&generate(1, 2, 100)[..50], &generate(1, 2, 50)[..]);
    }

    #[test]
    fn the_expected_checksum_matches_the_generated_body_at_every_length() {
        for len in [0, 1, 7, 8, 9, 63, 64, 4095, 4096, 10_001] {
            assert_eq!(
                checksum(&generate(9, 4, len)),
                expected_checksum(9, 4, len),
                "len {len}"
            );
        }
    }

    #[test]
    fn one_flipped_or_missing_byte_changes_the_checksum() {
        let body = generate(3, 3, 1000);
        let good = checksum(&body);
        let mut flipped = body.clone();
        flipped[500] ^= 1;
        assert_ne!(checksum(&flipped), good);
        assert_ne!(checksum(&body[..999]), good);
    }
}
