//! Response bodies: a whole body at once (every normal answer, as cheap as
//! `http_body_util::Full`), a dripping body (slices spread over time), and a
//! body cut off halfway by a connection reset.

use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::state::Shared;
use crate::stats::Counters;

/// Slices a dripping body is sent in.
pub(crate) const DRIP_SLICES: usize = 10;

/// How long a reset body waits after its half before resetting, so that the
/// head and the half leave the server's buffers first.
const RESET_PAUSE: Duration = Duration::from_millis(2);

/// The error a body ends with when it aborts its connection on purpose.
#[derive(Debug)]
pub(crate) struct Aborted(pub &'static str);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Aborted {}

/// The body of every response the server sends.
pub(crate) enum ResponseBody {
    /// The whole body in one frame (`None` once sent, or when empty).
    Full(Option<Bytes>),
    /// Slices spread over a duration.
    Drip(Box<Drip>),
    /// Half the body, then a connection reset.
    Reset(Box<Reset>),
}

impl ResponseBody {
    /// A whole body in one frame.
    #[inline]
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self::Full((!bytes.is_empty()).then_some(bytes))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Drip(drip) => drip.poll_slice(cx),
            Self::Reset(reset) => reset.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) => data.is_none(),
            Self::Drip(drip) => drip.next == drip.slices,
            Self::Reset(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Drip(drip) => SizeHint::with_exact((drip.data.len() - drip.sent) as u64),
            // The full length: the head promises the whole body.
            Self::Reset(reset) => SizeHint::with_exact(reset.promised as u64),
        }
    }
}

/// A body sent in [`DRIP_SLICES`] equal slices, slice `k` (1-based) at
/// `head + k × over / slices`, so the last byte leaves `over` after the head.
pub(crate) struct Drip {
    data: Bytes,
    slices: usize,
    /// Slices handed over so far.
    next: usize,
    sent: usize,
    head: Instant,
    over: Duration,
    sleep: Pin<Box<Sleep>>,
    shared: Arc<Shared>,
    /// When the request arrived, for the server's busy time.
    arrived: Instant,
}

impl Drip {
    /// A dripping `data` whose head leaves now. The request stays in flight
    /// until the body is dropped (its in-flight guard was handed over).
    pub(crate) fn start(
        data: Bytes,
        over: Duration,
        shared: Arc<Shared>,
        arrived: Instant,
    ) -> Self {
        let head = Instant::now();
        let slices = data.len().clamp(1, DRIP_SLICES);
        let first = head + over / slices as u32;
        Self {
            data,
            slices,
            next: 0,
            sent: 0,
            head,
            over,
            sleep: Box::pin(tokio::time::sleep_until(first.into())),
            shared,
            arrived,
        }
    }

    fn poll_slice(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        use std::sync::atomic::Ordering::Relaxed;
        loop {
            if self.next == self.slices {
                return Poll::Ready(None);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.next += 1;
            let end = self.data.len() * self.next / self.slices;
            let slice = self.data.slice(self.sent..end);
            self.sent = end;
            let c = &self.shared.counters;
            c.bytes_sent.fetch_add(slice.len() as u64, Relaxed);
            if self.next < self.slices {
                let at = self.head + self.over * (self.next as u32 + 1) / self.slices as u32;
                self.sleep.as_mut().reset(at.into());
            } else {
                let answered = Instant::now();
                Counters::bump(&c.served);
                c.busy_us.fetch_add(
                    answered.saturating_duration_since(self.arrived).as_micros() as u64,
                    Relaxed,
                );
            }
            if !slice.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(slice))));
            }
        }
    }
}

impl Drop for Drip {
    fn drop(&mut self) {
        self.shared.counters.leave();
    }
}

/// About half a body, then a hard close of the connection: with SO_LINGER 0
/// the kernel sends a TCP reset, so the client sees `connection reset`
/// (or, at worst, a body shorter than its content-length), never a whole body.
pub(crate) struct Reset {
    half: Option<Bytes>,
    /// The content-length the head promises.
    promised: usize,
    pause: Option<Pin<Box<Sleep>>>,
    /// The connection's socket, owned by the connection that owns this body.
    fd: RawFd,
}

impl Reset {
    pub(crate) fn new(data: Bytes, fd: RawFd) -> Self {
        let promised = data.len();
        let half = data.slice(..promised / 2);
        Self {
            half: (!half.is_empty()).then_some(half),
            promised,
            pause: None,
            fd,
        }
    }

    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        if let Some(half) = self.half.take() {
            return Poll::Ready(Some(Ok(Frame::data(half))));
        }
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(RESET_PAUSE)));
        if pause.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: `fd` is the socket of the connection that is polling this
        // body, so it is open for the whole call; SO_LINGER only changes how
        // that socket closes. A failure just means an ordinary close (FIN).
        unsafe {
            libc::setsockopt(
                self.fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        // The error makes hyper drop the connection, which closes the socket.
        Poll::Ready(Some(Err(Aborted(
            "reset fault: connection aborted mid-body",
        ))))
    }
}
