//! The worker process's main: it says `Ready`, serves the messages on its
//! stdin until end-of-file, and reports its own usage last. The parent's
//! end is [`super::set`].

use std::io::{BufReader, BufWriter, Write};

use anyhow::{anyhow, bail};

use super::protocol::{self as ipc, FromWorker, ToWorker, PROTOCOL_VERSION};
use super::{WorkerConfig, WorkerMode};
use crate::http::{self, AsyncClient, BlockingClient};
use crate::sys::process::die_with_parent;
use crate::sys::rusage::Usage;
use crate::task::guard::{self, Bounded};

/// The worker process's main: serve messages from stdin until end-of-file.
pub fn run_worker(config: &WorkerConfig) -> anyhow::Result<()> {
    if !die_with_parent() {
        return Ok(());
    }
    // The parent forwards Ctrl-C as SIGINT: stop starting tasks, answer for the rest.
    crate::interrupt::install_worker();
    let mut input = BufReader::with_capacity(256 * 1024, std::io::stdin().lock());
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    ipc::write_frame(
        &mut out,
        &FromWorker::Ready {
            pid: std::process::id(),
            protocol: PROTOCOL_VERSION,
        },
    )?;
    out.flush()?;
    if config.user && crate::task::user::installed().is_none() {
        bail!(
            "this worker was asked to run a user task, but its binary installed none: call \
             concbench::user::main (or concbench::user::serve_worker_if_asked) first thing in main"
        );
    }
    match config.mode {
        WorkerMode::Tasks => {
            let client = BlockingClient::new(config.pool, config.connection, config.session());
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                let ToWorker::Tasks(specs) = msg else {
                    bail!("a tasks worker was sent CPU jobs");
                };
                for spec in &specs {
                    let outcome = guard::catch(spec.id, || http::run_blocking(&client, spec));
                    ipc::write_frame(&mut out, &FromWorker::Outcome(outcome))?;
                    out.flush()?;
                }
            }
        }
        WorkerMode::Cpu => {
            let completer = config.session().completer();
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                let ToWorker::Cpu(jobs) = msg else {
                    bail!("a CPU worker was sent tasks");
                };
                for job in &jobs {
                    let result = completer.complete(job.id, &job.body, job.units);
                    ipc::write_frame(&mut out, &FromWorker::Cpu { id: job.id, result })?;
                }
                out.flush()?;
            }
        }
        WorkerMode::AsyncTasks => {
            // The reader and writer threads take stdin and stdout over; nothing was read yet.
            drop(input);
            drop(out);
            run_async_worker(config)?;
            out = BufWriter::new(std::io::stdout().lock());
        }
    }
    ipc::write_frame(&mut out, &FromWorker::Usage(Usage::of_this_process()))?;
    out.flush()?;
    Ok(())
}

/// Async-tasks mode: a current-thread runtime with `in_flight` requests at
/// once; a reader thread feeds it tasks and a writer thread sends outcomes, so
/// the event loop never blocks on a pipe.
fn run_async_worker(config: &WorkerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = AsyncClient::new(
        config.pool.max(config.in_flight),
        config.connection,
        config.session(),
    )?;
    let (spec_tx, mut spec_rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = std::thread::Builder::new()
        .name("worker-reader".into())
        .spawn(move || -> std::io::Result<()> {
            let mut input = BufReader::with_capacity(256 * 1024, std::io::stdin().lock());
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                if let ToWorker::Tasks(specs) = msg {
                    for spec in specs {
                        if spec_tx.send(spec).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })?;
    let (out_tx, out_rx) = std::sync::mpsc::channel::<FromWorker>();
    let writer = std::thread::Builder::new()
        .name("worker-writer".into())
        .spawn(move || -> std::io::Result<()> {
            let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            while let Ok(msg) = out_rx.recv() {
                ipc::write_frame(&mut out, &msg)?;
                // Flush when nothing else is waiting: batches writes under load.
                while let Ok(more) = out_rx.try_recv() {
                    ipc::write_frame(&mut out, &more)?;
                }
                out.flush()?;
            }
            Ok(())
        })?;
    runtime.block_on(async {
        let mut slots = Bounded::new(config.in_flight);
        let mut send = |o| {
            let _ = out_tx.send(FromWorker::Outcome(o));
        };
        // Outcomes go out as they finish, never held back by the wait for
        // the next spec: under the dynamic schedule the parent sends more
        // only when it has heard back.
        loop {
            tokio::select! {
                biased;
                Some(o) = slots.join_next(), if !slots.is_empty() => send(o),
                spec = spec_rx.recv(), if slots.has_room() => match spec {
                    Some(spec) => {
                        let client = client.clone();
                        slots.spawn(spec.id, async move { http::run_async(&client, &spec).await });
                    }
                    None => break,
                },
            }
        }
        slots.finish(&mut send).await;
    });
    drop(out_tx);
    writer
        .join()
        .map_err(|_| anyhow!("worker writer panicked"))??;
    reader
        .join()
        .map_err(|_| anyhow!("worker reader panicked"))??;
    Ok(())
}
