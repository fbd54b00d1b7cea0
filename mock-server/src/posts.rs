//! The JSON body: a deterministic document of posts shaped like the posts
//! API the source articles call (`id`, `userId`, `title`, `body`, `tags`),
//! exactly as long as asked, so a client can parse and analyse real JSON
//! and still check every byte against the checksum it computes itself.
//!
//! The document is an array of records written until the next one would not
//! fit, then padded with spaces (JSON allows whitespace after the value), so
//! its length is exact and its content a function of (seed, id, length)
//! only. Bodies carry escaped newlines and quotes, as real posts do, so a
//! parser meets escapes too.

use crate::rng::{mix64, SplitMix64};

/// Shortest JSON body: `[]`.
pub const MIN_BYTES: usize = 2;

/// The words titles and bodies are drawn from (lorem ipsum, as the posts API has).
const WORDS: [&str; 48] = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "ex",
    "ea",
    "commodo",
    "consequat",
    "duis",
    "aute",
    "irure",
    "in",
    "reprehenderit",
    "voluptate",
    "velit",
    "esse",
    "cillum",
    "fugiat",
    "nulla",
    "pariatur",
    "excepteur",
    "sint",
];

const TAGS: [&str; 8] = [
    "history", "american", "crime", "french", "fiction", "english", "magical", "mystery",
];

/// The JSON document of task `id` under `seed`, `len` bytes long
/// (`len` ≥ [`MIN_BYTES`]; shorter asks get `len` spaces, which is not JSON).
pub fn generate(seed: u64, id: u64, len: usize) -> Vec<u8> {
    if len < MIN_BYTES {
        return vec![b' '; len];
    }
    let mut rng = SplitMix64::new(mix64(seed ^ 0x0B5E_55ED ^ mix64(id)));
    let mut out = Vec::with_capacity(len);
    out.push(b'[');
    let mut record = Vec::with_capacity(1024);
    let mut n = 0u64;
    loop {
        record.clear();
        if n > 0 {
            record.push(b',');
        }
        write_post(&mut record, &mut rng, id * 1_000 + n, n);
        // Room for this record and the closing bracket.
        if out.len() + record.len() + 1 > len {
            break;
        }
        out.extend_from_slice(&record);
        n += 1;
    }
    out.push(b']');
    out.resize(len, b' ');
    out
}

fn write_post(out: &mut Vec<u8>, rng: &mut SplitMix64, post_id: u64, n: u64) {
    let user_id = 1 + rng.next_u64() % 10;
    out.extend_from_slice(
        format!("{{\"id\":{post_id},\"userId\":{user_id},\"title\":\"").as_bytes(),
    );
    let title_words = 3 + rng.next_u64() % 6;
    words(out, rng, title_words, false);
    out.extend_from_slice(b"\",\"body\":\"");
    let body_words = 12 + rng.next_u64() % 40;
    words(out, rng, body_words, true);
    out.extend_from_slice(b"\",\"tags\":[");
    let tags = 1 + rng.next_u64() % 3;
    for t in 0..tags {
        if t > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(TAGS[(rng.next_u64() % TAGS.len() as u64) as usize].as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(
        format!("],\"reactions\":{}}}", (n * 7 + rng.next_u64() % 50) % 97).as_bytes(),
    );
}

/// `count` words separated by spaces; in a body, now and then an escaped
/// newline instead of the space and a quoted word.
fn words(out: &mut Vec<u8>, rng: &mut SplitMix64, count: u64, body: bool) {
    for w in 0..count {
        let draw = rng.next_u64();
        if w > 0 {
            if body && draw % 11 == 0 {
                out.extend_from_slice(b"\\n");
            } else {
                out.push(b' ');
            }
        }
        let word = WORDS[((draw >> 8) % WORDS.len() as u64) as usize].as_bytes();
        if body && draw % 17 == 0 {
            out.extend_from_slice(b"\\\"");
            out.extend_from_slice(word);
            out.extend_from_slice(b"\\\"");
        } else {
            out.extend_from_slice(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_exactly_as_long_as_asked_and_valid_json() {
        for len in [2, 3, 100, 400, 1000, 4096, 16 * 1024, 100_001] {
            let doc = generate(1, 7, len);
            assert_eq!(doc.len(), len);
            let v: serde_json::Value = serde_json::from_slice(&doc).expect("valid JSON");
            let posts = v.as_array().expect("an array");
            if len >= 4096 {
                assert!(posts.len() >= 5, "{len} bytes hold several posts");
                assert!(posts[0]["title"].is_string() && posts[0]["tags"].is_array());
            }
        }
    }

    #[test]
    fn documents_depend_only_on_seed_id_and_length() {
        assert_eq!(generate(1, 2, 5000), generate(1, 2, 5000));
        assert_ne!(generate(1, 2, 5000), generate(1, 3, 5000));
        assert_ne!(generate(1, 2, 5000), generate(2, 2, 5000));
    }
}
