//! A raw HTTP/1.1 client on a `TcpStream`, for the tests that must see
//! exactly how a response ends (complete, closed, reset or timed out) and
//! when its head and body arrive.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How a raw exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head and exactly content-length body bytes arrived.
    Complete,
    /// The server closed the connection (FIN) before the answer was complete.
    Closed,
    /// The connection was reset.
    Reset,
    /// The read timeout passed with the answer incomplete.
    TimedOut,
}

/// What a raw client saw of one exchange.
#[derive(Debug)]
pub struct Raw {
    pub status: Option<u16>,
    pub content_length: Option<usize>,
    pub body: Vec<u8>,
    pub end: End,
    /// From sending the request to the end of the head.
    pub head_after: Option<Duration>,
    /// From the end of the head to the last body byte.
    pub body_took: Option<Duration>,
    /// Body reads that returned data.
    pub body_reads: usize,
}

impl Raw {
    /// A short name for the outcome: the status, or how it broke.
    pub fn outcome(&self) -> String {
        match (self.end, self.status) {
            (End::Complete, Some(s)) => s.to_string(),
            (end, _) => format!("{end:?}"),
        }
    }
}

/// Sends `GET path` on a new connection and reads until the answer is
/// complete, the connection ends or `timeout` passes without a byte.
pub fn raw_get(addr: SocketAddr, path: &str, timeout: Duration) -> Raw {
    raw_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"),
        timeout,
    )
}

/// Sends `request` as it is on a new connection and reads as [`raw_get`] does.
pub fn raw_request(addr: SocketAddr, request: &str, timeout: Duration) -> Raw {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    conn.set_read_timeout(Some(timeout)).expect("read timeout");
    let sent = Instant::now();
    let mut raw = Raw {
        status: None,
        content_length: None,
        body: Vec::new(),
        end: End::Closed,
        head_after: None,
        body_took: None,
        body_reads: 0,
    };
    if let Err(e) = conn.write_all(request.as_bytes()) {
        raw.end = if e.kind() == ErrorKind::ConnectionReset {
            End::Reset
        } else {
            End::Closed
        };
        return raw;
    }
    let mut head = Vec::new();
    let mut head_end: Option<Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let (Some(len), Some(_)) = (raw.content_length, head_end) {
            if raw.body.len() >= len {
                raw.end = End::Complete;
                return raw;
            }
        }
        let n = match conn.read(&mut buf) {
            Ok(0) => {
                raw.end = End::Closed;
                return raw;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                raw.end = End::TimedOut;
                return raw;
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                raw.end = End::Reset;
                return raw;
            }
            Err(e) => panic!("unexpected read error: {e}"),
        };
        let now = Instant::now();
        match head_end {
            Some(at) => {
                raw.body.extend_from_slice(&buf[..n]);
                raw.body_reads += 1;
                raw.body_took = Some(now - at);
            }
            None => {
                head.extend_from_slice(&buf[..n]);
                if let Some(pos) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    head_end = Some(now);
                    raw.head_after = Some(now - sent);
                    let text = String::from_utf8_lossy(&head[..pos]).to_string();
                    let mut lines = text.lines();
                    raw.status = lines
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|s| s.parse().ok());
                    for line in lines {
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                raw.content_length = v.trim().parse().ok();
                            }
                        }
                    }
                    let rest = head[pos + 4..].to_vec();
                    if !rest.is_empty() {
                        raw.body_reads += 1;
                        raw.body_took = Some(Duration::ZERO);
                    }
                    raw.body = rest;
                    if raw.content_length.is_none() {
                        // Every answer of this server has a length; treat the head as the end.
                        raw.end = End::Complete;
                        return raw;
                    }
                }
            }
        }
    }
}
