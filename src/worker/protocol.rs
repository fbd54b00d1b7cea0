//! The parent–worker protocol: postcard messages in length-prefixed frames
//! over the worker's stdin and stdout.
//!
//! A frame is a little-endian `u32` length and that many bytes of postcard.
//! postcard, not bincode: bincode 3.0.0 on the registry is a placeholder
//! that does not compile. The worker speaks first ([`FromWorker::Ready`]) so a parent
//! that started the wrong executable finds out at once, not by hanging.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::sys::rusage::Usage;
use crate::task::{Completed, TaskOutcome, TaskSpec};

/// Bumped whenever a message changes shape; parent and worker must agree.
pub const PROTOCOL_VERSION: u32 = 3;

/// Largest frame either side accepts (a 64 MiB body plus headroom).
pub const MAX_FRAME_BYTES: usize = 80 << 20;

/// CPU work shipped to a worker: the body and how much work to do over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuJob {
    pub id: u64,
    pub units: u64,
    pub body: Vec<u8>,
}

/// Parent to worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Whole tasks (request and CPU work) to run.
    Tasks(Vec<TaskSpec>),
    /// CPU work over bodies the parent fetched.
    Cpu(Vec<CpuJob>),
}

/// Worker to parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// First message: the worker is up and speaks this protocol.
    Ready { pid: u32, protocol: u32 },
    /// One task done (or failed).
    Outcome(TaskOutcome),
    /// One CPU job done.
    Cpu { id: u64, result: Completed },
    /// Last message before a clean exit: the worker's own resource usage,
    /// which the parent's `RUSAGE_CHILDREN` would not see until it is reaped.
    Usage(Usage),
}

/// Writes one frame (not flushed).
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> io::Result<()> {
    let bytes = postcard::to_stdvec(msg).map_err(io::Error::other)?;
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(io::Error::other(format!(
            "frame of {} bytes is over the limit",
            bytes.len()
        )));
    }
    w.write_all(&(bytes.len() as u32).to_le_bytes())?;
    w.write_all(&bytes)
}

/// Reads one frame; `Ok(None)` at a clean end of stream between frames.
pub fn read_frame<T: DeserializeOwned>(r: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is over the limit"),
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    postcard::from_bytes(&buf)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_every_message() {
        let msgs = vec![
            FromWorker::Ready {
                pid: 7,
                protocol: PROTOCOL_VERSION,
            },
            FromWorker::Outcome(TaskOutcome {
                id: 3,
                result: Err(crate::task::TaskError::Status(503)),
                latency_us: 12,
                server_lateness_us: Some(4),
                phases: Default::default(),
                attempts: 1,
                unreached: 0,
            }),
            FromWorker::Outcome(TaskOutcome {
                id: 4,
                result: Ok(Completed {
                    body_len: 1,
                    body_checksum: 2,
                    cpu_result: 3,
                }),
                latency_us: 30,
                server_lateness_us: None,
                phases: crate::task::Phases {
                    queued_us: u64::MAX,
                    retry_us: 0,
                    response_us: 20,
                    body_us: 10,
                    cpu_us: 5,
                },
                attempts: 1,
                unreached: 0,
            }),
            FromWorker::Cpu {
                id: 9,
                result: Completed {
                    body_len: 1,
                    body_checksum: 2,
                    cpu_result: 3,
                },
            },
            FromWorker::Usage(Usage {
                cpu_user_s: 0.5,
                processes: 1,
                ..Usage::default()
            }),
        ];
        let mut buf = Vec::new();
        for m in &msgs {
            write_frame(&mut buf, m).unwrap();
        }
        let mut r = &buf[..];
        for m in &msgs {
            assert_eq!(read_frame::<FromWorker>(&mut r).unwrap().as_ref(), Some(m));
        }
        assert_eq!(read_frame::<FromWorker>(&mut r).unwrap(), None);
    }

    #[test]
    fn a_truncated_or_oversized_frame_is_an_error_not_a_hang() {
        let mut buf = Vec::new();
        write_frame(
            &mut buf,
            &ToWorker::Cpu(vec![CpuJob {
                id: 1,
                units: 2,
                body: vec![5; 100],
            }]),
        )
        .unwrap();
        let cut = &buf[..buf.len() - 10];
        assert!(read_frame::<ToWorker>(&mut &cut[..]).is_err());
        let huge = (u32::MAX).to_le_bytes();
        assert!(read_frame::<ToWorker>(&mut &huge[..]).is_err());
    }
}
