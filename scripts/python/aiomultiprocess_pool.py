"""aiomultiprocess.Pool: W processes, each running its own event loop with
aiohttp and C/W tasks at once, the CPU work inline in each. Twin:
concbench's `process-pool-async`."""

import asyncio

import aiohttp
from aiomultiprocess import Pool

import concbench_model as cm

_session = None


async def one_task(url, task):
    # One session per worker process, made on its first task.
    global _session
    if _session is None:
        cfg = cm.Config.from_env()
        per_worker = max(1, cfg.concurrency // cfg.workers)
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=per_worker))
    start = cm.now_us()
    async with _session.get(url + task.path) as r:
        r.raise_for_status()
        body = await r.read()
    return cm.work(task, body, cm.now_us() - start)


async def run(cfg):
    tasks = cm.read_plan(cfg.plan)
    per_worker = max(1, cfg.concurrency // cfg.workers)
    async with Pool(processes=cfg.workers, childconcurrency=per_worker) as pool:
        return await pool.starmap(one_task, [(cfg.url, t) for t in tasks])


def main():
    cfg = cm.Config.from_env()
    cm.write_results(cfg.results, asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
