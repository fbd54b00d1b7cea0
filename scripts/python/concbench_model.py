"""What every Python model run by `concbench run --external` shares: the
contract (environment, plan file, results file) and the work of one task,
the same arithmetic as concbench's Rust code so its results verify.

Standard library only, so any python3 runs it. A model does:

    import concbench_model as cm
    cfg = cm.Config.from_env()
    tasks = cm.read_plan(cfg.plan)
    ... fetch cfg.url + task.path for every task (exactly once), then
    result = cm.work(task, body, latency_us)
    cm.write_results(cfg.results, results)

The CPU work (`cpu_work`) is the Rust kernel's: one dependent multiply-rotate
step per 8-byte word of the body, `cpu_units` steps, all arithmetic mod 2**64.
In CPython one step costs about a hundred times what it costs in Rust: the
same units are far more CPU here, which is the point of putting the two side
by side.
"""

import os
import struct
import time
from dataclasses import dataclass

MASK = (1 << 64) - 1
PLAN_HEADER = "id,path,bytes,cpu_units,seed"
RESULTS_HEADER = "id,body_checksum,cpu_result,latency_us"


@dataclass(frozen=True)
class Config:
    """The environment concbench gives the program."""

    url: str  # the server's base URL, without a trailing slash
    plan: str  # path of the plan file
    results: str  # path the results must be written to
    concurrency: int  # C: requests in flight at once
    workers: int  # W: worker processes or threads of a pool (cores by default)

    @staticmethod
    def from_env():
        env = os.environ
        return Config(
            url=env["CONCBENCH_URL"].rstrip("/"),
            plan=env["CONCBENCH_PLAN"],
            results=env["CONCBENCH_RESULTS"],
            concurrency=max(1, int(env.get("CONCBENCH_CONCURRENCY", "1"))),
            workers=max(1, int(env.get("CONCBENCH_WORKERS", str(os.cpu_count() or 1)))),
        )


@dataclass(frozen=True)
class Task:
    id: int
    path: str  # the request path and query, exactly as the Rust clients send it
    bytes: int  # expected body length
    cpu_units: int  # kernel steps over the body
    seed: int


@dataclass(frozen=True)
class Result:
    id: int
    body_checksum: int
    cpu_result: int
    latency_us: int


def read_plan(path):
    """The tasks of the plan file, in order."""
    with open(path, encoding="ascii") as f:
        header = f.readline().strip()
        if header != PLAN_HEADER:
            raise ValueError(f"{path}: header {header!r} is not {PLAN_HEADER!r}")
        tasks = []
        for line in f:
            line = line.strip()
            if not line:
                continue
            i, p, b, u, s = line.split(",")
            tasks.append(Task(int(i), p, int(b), int(u), int(s)))
        return tasks


def write_results(path, results):
    """Writes the results file whole or not at all (a temporary file, then a rename)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(RESULTS_HEADER + "\n")
        for r in results:
            f.write(f"{r.id},{r.body_checksum},{r.cpu_result},{r.latency_us}\n")
    os.replace(tmp, path)


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _words(body):
    """The body's whole 8-byte little-endian words, and the padded rest (or None)."""
    n = len(body) // 8
    words = struct.unpack_from(f"<{n}Q", body) if n else ()
    rest = body[8 * n :]
    last = int.from_bytes(rest.ljust(8, b"\0"), "little") if rest else None
    return words, last


def checksum(body):
    """mock_server::payload::checksum: a length-sensitive hash of the body."""
    h = 0x243F6A8885A308D3 ^ len(body)
    words, last = _words(body)
    if last is not None:
        words = words + (last,)
    for w in words:
        h = ((h ^ w) * 0x100000001B3) & MASK
        h = ((h << 29) | (h >> 35)) & MASK
    return mix64(h)


def cpu_work(body, units, seed):
    """concbench's task::kernel::cpu_work: `units` dependent steps over the
    body's words (cycling), from `seed`."""
    h = (seed ^ 0x6A09E667F3BCC908) & MASK
    if units == 0:
        return h
    words, last = _words(body)
    if len(body) < 8:
        words = (last if last is not None else 0,)
    left = units
    while left > 0:
        for w in words[:left] if left < len(words) else words:
            x = ((h ^ w) * 0x9E3779B97F4A7C15) & MASK
            h = (((x << 23) | (x >> 41)) & MASK) ^ (h >> 17)
        left -= min(left, len(words))
    return h


def work(task, body, latency_us=0):
    """The task's result from its body: the checksum, then the CPU work seeded by it."""
    c = checksum(body)
    return Result(task.id, c, cpu_work(body, task.cpu_units, c), latency_us)


def now_us():
    return time.perf_counter_ns() // 1000
