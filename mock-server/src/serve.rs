//! The server's lifecycle: [`MockServer::start`] (its thread, runtime and
//! listener), [`ServerHandle`] (address, stats, graceful shutdown), [`serve`]
//! for callers that own their runtime and listener, and the accept loop both
//! run.

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;

use crate::config::{ServerConfig, HYPER_MAX_HEADERS};
use crate::routes::handle;
use crate::state::Shared;
use crate::stats::{self, FaultStats, ServerStats};
use crate::timer::PreciseTimer;

/// Starts servers; see [`MockServer::start`].
pub struct MockServer;

impl MockServer {
    /// Starts a server on its own thread(s) and returns once it is listening.
    pub fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
        raise_fd_limit();
        let tids = Arc::new(Mutex::new(Vec::new()));
        let timer_tids = tids.clone();
        let timer = PreciseTimer::start(move || {
            timer_tids.lock().expect("tids lock").push(stats::gettid());
        })?;
        let shared = Arc::new(Shared::new(config, timer, tids));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mock-server".into())
            .spawn(move || {
                let shared = thread_shared;
                shared.tids.lock().expect("tids lock").push(stats::gettid());
                let runtime = match build_runtime(&shared) {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match bind(shared.config.bind, shared.config.backlog) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    serve_shared(listener, shared, async {
                        let _ = shutdown_rx.await;
                    })
                    .await;
                });
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("mock server thread died while starting"))??;
        Ok(ServerHandle {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running server. Dropping it shuts the server down (gracefully, bounded).
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address it listens on (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same snapshot `GET /stats` serves.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Requests received and faults met, as served in `GET /stats` next to [`Self::stats`].
    pub fn fault_stats(&self) -> FaultStats {
        self.shared.counters.fault_stats()
    }

    /// Starts a new lateness and max-in-flight window (as `POST /stats/reset`).
    pub fn reset_stats(&self) {
        self.shared.counters.reset();
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), and joins the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn build_runtime(shared: &Arc<Shared>) -> std::io::Result<tokio::runtime::Runtime> {
    if shared.config.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        let tids = shared.tids.clone();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(shared.config.threads)
            .thread_name("mock-server-worker")
            .on_thread_start(move || tids.lock().expect("tids lock").push(stats::gettid()))
            .enable_all()
            .build()
    }
}

/// Binds with an explicit backlog and address reuse: tokio's `TcpListener::bind`
/// listens with a backlog of 128, which a burst of thousands of connects
/// overflows (the overflow waits out 1 s SYN retries).
fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Raises the soft open-file limit to the hard limit: thousands of
/// connections need more than the usual 1024.
pub fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}

/// Serves `listener` with `config` until `shutdown` resolves, then drains
/// connections (at most 5 s). For callers that own their runtime and listener.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let tids = Arc::new(Mutex::new(vec![stats::gettid()]));
    let timer_tids = tids.clone();
    let timer =
        PreciseTimer::start(move || timer_tids.lock().expect("tids lock").push(stats::gettid()))?;
    let shared = Arc::new(Shared::new(config, timer, tids));
    serve_shared(listener, shared, shutdown).await;
    Ok(())
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let cfg = &shared.config;
    let mut http = hyper::server::conn::http1::Builder::new();
    // Bounds the request head (431 and close beyond it); the buffer bound
    // (hyper's minimum is 8 KiB) catches a head that never ends.
    http.max_buf_size(cfg.max_header_bytes.max(64 * 1024))
        .max_header_size(cfg.max_header_bytes)
        .keep_alive(true);
    if cfg.max_headers != HYPER_MAX_HEADERS {
        // Costs a per-request buffer in hyper: only when asked for.
        http.max_headers(cfg.max_headers);
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    // For the reset fault, which needs to set SO_LINGER on the socket.
                    let fd = stream.as_raw_fd();
                    let service = service_fn(move |req| handle(req, shared.clone(), fd));
                    let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(_) => {
                    // EMFILE, ECONNABORTED, ...: back off briefly instead of spinning or dying.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // Stalled requests close their connections now instead of holding the drain.
    shared.shutting_down.send_replace(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}
