//! The JSON work: parse a body of posts with serde_json into typed records
//! (owned strings: allocating is part of the work, and its cost differs
//! between threads sharing one allocator and processes with their own) and
//! compute the source articles' analysis of them: mean title length, the
//! longest body, the Shannon entropy of the titles' characters, posts per
//! user and the commonest tag.
//!
//! One unit is one whole pass, parse and analysis; passes chain their
//! digests, so none can be skipped or hoisted.

use std::collections::HashMap;

use serde::Deserialize;

/// Shortest body the JSON work takes (the mock server's `[]`).
pub const MIN_BYTES: usize = mock_server::posts::MIN_BYTES;

/// One post, as the posts API answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub id: u64,
    pub user_id: u64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    #[serde(default)]
    pub reactions: u32,
}

/// What the articles compute over the posts.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub posts: usize,
    /// Mean title length in characters.
    pub mean_title_chars: f64,
    /// The longest body, in characters.
    pub longest_body_chars: usize,
    /// Shannon entropy of the titles' characters, in bits per character.
    pub title_entropy_bits: f64,
    /// The most posts one user wrote.
    pub most_posts_by_one_user: usize,
    /// How often the commonest tag occurs.
    pub commonest_tag_count: usize,
    pub reactions: u64,
}

impl Analysis {
    /// The analysis folded into one word (every figure's bits count).
    pub fn digest(&self) -> u64 {
        [
            self.posts as u64,
            self.mean_title_chars.to_bits(),
            self.longest_body_chars as u64,
            self.title_entropy_bits.to_bits(),
            self.most_posts_by_one_user as u64,
            self.commonest_tag_count as u64,
            self.reactions,
        ]
        .into_iter()
        .fold(0x9E37_79B9_7F4A_7C15, |h, v| {
            (h ^ v).wrapping_mul(0x100_0000_01B3).rotate_left(31)
        })
    }
}

/// The analysis of `posts`.
pub fn analyse(posts: &[Post]) -> Analysis {
    let mut chars: HashMap<char, u64> = HashMap::new();
    let mut title_chars = 0u64;
    let mut per_user: HashMap<u64, usize> = HashMap::new();
    let mut tags: HashMap<&str, usize> = HashMap::new();
    let mut longest_body_chars = 0;
    let mut reactions = 0u64;
    for p in posts {
        for c in p.title.chars() {
            *chars.entry(c).or_default() += 1;
            title_chars += 1;
        }
        longest_body_chars = longest_body_chars.max(p.body.chars().count());
        *per_user.entry(p.user_id).or_default() += 1;
        for t in &p.tags {
            *tags.entry(t.as_str()).or_default() += 1;
        }
        reactions += u64::from(p.reactions) ^ p.id;
    }
    let title_entropy_bits = if title_chars == 0 {
        0.0
    } else {
        // Summed in character order: the same bits on every run.
        let mut counts: Vec<(char, u64)> = chars.into_iter().collect();
        counts.sort_unstable();
        counts
            .iter()
            .map(|&(_, n)| {
                let p = n as f64 / title_chars as f64;
                -p * p.log2()
            })
            .sum()
    };
    Analysis {
        posts: posts.len(),
        mean_title_chars: if posts.is_empty() {
            0.0
        } else {
            title_chars as f64 / posts.len() as f64
        },
        longest_body_chars,
        title_entropy_bits,
        most_posts_by_one_user: per_user.values().copied().max().unwrap_or(0),
        commonest_tag_count: tags.values().copied().max().unwrap_or(0),
        reactions,
    }
}

/// `units` passes over `body`, chained from `seed`. A body that is not a
/// document of posts (a cut or corrupted one fails its checksum anyway)
/// digests as a fixed word, so the result still differs from an honest one.
pub fn passes(body: &[u8], units: u64, seed: u64) -> u64 {
    let mut h = seed ^ 0x3C6E_F372_FE94_F82B;
    for _ in 0..units {
        let digest = match serde_json::from_slice::<Vec<Post>>(body) {
            Ok(posts) => analyse(&posts).digest(),
            Err(_) => 0xBAD_D0C,
        };
        h = (h ^ digest)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(23)
            ^ (h >> 17);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_posts_parse_and_analyse() {
        let body = mock_server::posts::generate(1, 5, 16 * 1024);
        let posts: Vec<Post> = serde_json::from_slice(&body).unwrap();
        let a = analyse(&posts);
        assert_eq!(a.posts, posts.len());
        assert!(a.posts > 10, "16 KiB holds many posts: {}", a.posts);
        assert!(
            a.mean_title_chars > 5.0 && a.longest_body_chars > 50,
            "{a:?}"
        );
        // Lower-case words and spaces: a few bits per character, fewer than log2(27).
        assert!(
            a.title_entropy_bits > 3.0 && a.title_entropy_bits < 4.8,
            "{a:?}"
        );
        assert!(
            posts.iter().any(|p| p.body.contains('\n')),
            "escapes decoded"
        );
    }

    #[test]
    fn passes_chain_and_a_broken_body_differs() {
        let body = mock_server::posts::generate(2, 1, 4096);
        assert_eq!(passes(&body, 2, 9), passes(&body, 2, 9));
        assert_ne!(passes(&body, 2, 9), passes(&body, 1, 9));
        assert_ne!(passes(&body, 1, 9), passes(&body[..2000], 1, 9));
        assert_eq!(passes(&body, 0, 9), passes(b"garbage", 0, 9));
    }
}
