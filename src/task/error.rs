//! Why a task failed: a cause counted in the report, never propagated, so
//! one bad response cannot hide the rest of the run.

use serde::{Deserialize, Serialize};

use crate::sys::process::open_files_limit;

/// Why a task failed. Counted per cause in the report, never propagated:
/// one bad response must not hide the rest of the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TaskError {
    #[error("could not connect: {0}")]
    Connect(String),
    /// EADDRNOTAVAIL: every ephemeral port is in use or in TIME_WAIT.
    #[error(
        "no free local port to connect from (EADDRNOTAVAIL): new connections came faster than \
         the ephemeral ports (32768-60999, each held 60 s in TIME_WAIT after use, about 470 \
         connections/s sustained) are freed; use --connection reuse, fewer tasks, or a client \
         rate limit such as --rate 400/s ({0})"
    )]
    PortsExhausted(String),
    /// EMFILE/ENFILE: the process may not open another file descriptor.
    #[error(
        "too many open files (EMFILE): every connection in flight holds a file descriptor and \
         this process may open at most {limit} (already raised to the hard limit); lower \
         --concurrency or raise the hard limit (ulimit -Hn) ({0})",
        limit = open_files_limit()
    )]
    FilesExhausted(String),
    #[error("server answered HTTP {0}")]
    Status(u16),
    #[error("reading the response failed: {0}")]
    Body(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("no answer within the timeout ({0}); raise --timeout if the server is that slow")]
    Timeout(String),
    #[error("{0}")]
    Deadline(String),
    #[error("{0}")]
    Cancelled(String),
    #[error("the worker running it was lost: {0}")]
    Worker(String),
    /// A response of an endpoint that is not a mock server failed one of its `--check`s.
    #[error("{0}")]
    Check(String),
    /// The I/O part of a user's task returned an error.
    #[error("the task's I/O failed: {0}")]
    User(String),
    /// A user's task's `verify` refused its result.
    #[error("{0}")]
    Verify(String),
    /// A program run as a model (`--external`) did not do this task as the
    /// contract asks; the cause says which way, the string the details.
    #[error("{1}")]
    External(ExternalCause, String),
}

/// How an external program failed a task (`--external`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalCause {
    /// It could not be started, exited non-zero, was killed or ran past its time.
    Program,
    /// Its results file has no line for the task.
    NoResult,
    /// Its results file has a line for the task that cannot be read.
    BadResult,
    /// The server never received the task's request.
    NotRequested,
    /// The server received the task's request more than once.
    RequestedAgain,
}

impl TaskError {
    /// A stable name for counting failures by cause.
    pub fn cause(&self) -> &'static str {
        match self {
            TaskError::Connect(_) => "connect",
            TaskError::PortsExhausted(_) => "ports_exhausted",
            TaskError::FilesExhausted(_) => "files_exhausted",
            TaskError::Status(429) => "http_429",
            TaskError::Status(500) => "http_500",
            TaskError::Status(502) => "http_502",
            TaskError::Status(503) => "http_503",
            TaskError::Status(504) => "http_504",
            TaskError::Status(_) => "http_status",
            TaskError::Body(_) => "body",
            TaskError::Request(_) => "request",
            TaskError::Timeout(_) => "timeout",
            TaskError::Deadline(_) => "deadline",
            TaskError::Cancelled(_) => "cancelled",
            TaskError::Worker(_) => "worker",
            TaskError::Check(_) => "check",
            TaskError::User(_) => "task",
            TaskError::Verify(_) => "verify",
            TaskError::External(c, _) => match c {
                ExternalCause::Program => "external_program",
                ExternalCause::NoResult => "external_no_result",
                ExternalCause::BadResult => "external_bad_result",
                ExternalCause::NotRequested => "external_not_requested",
                ExternalCause::RequestedAgain => "external_requested_again",
            },
        }
    }

    /// Whether the attempt never reached the server (no connection was made).
    pub fn unreached(&self) -> bool {
        matches!(
            self,
            TaskError::Connect(_) | TaskError::PortsExhausted(_) | TaskError::FilesExhausted(_)
        )
    }

    /// Whether another attempt could succeed: the connection, the wait or the
    /// body failed, or the server said it is throttling or failing (429, 5xx).
    pub fn retryable(&self) -> bool {
        match self {
            TaskError::Connect(_)
            | TaskError::PortsExhausted(_)
            | TaskError::FilesExhausted(_)
            | TaskError::Body(_)
            | TaskError::Request(_)
            | TaskError::Timeout(_) => true,
            TaskError::Status(s) => *s == 429 || (500..600).contains(s),
            TaskError::Deadline(_)
            | TaskError::Cancelled(_)
            | TaskError::Worker(_)
            | TaskError::Check(_)
            | TaskError::User(_)
            | TaskError::Verify(_) => false,
            TaskError::External(..) => false,
        }
    }
}

/// The OS error code of the first I/O error in `e`'s source chain.
pub(crate) fn os_error(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(code) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.raw_os_error())
        {
            return Some(code);
        }
        cur = err.source();
    }
    None
}

/// The failure an OS error code stands for when it means a client-side
/// limit (out of ports, out of file descriptors), as its constructor.
pub(crate) fn limit_error(code: Option<i32>) -> Option<fn(String) -> TaskError> {
    match code? {
        libc::EADDRNOTAVAIL => Some(TaskError::PortsExhausted),
        libc::EMFILE | libc::ENFILE => Some(TaskError::FilesExhausted),
        _ => None,
    }
}
