"""asyncio + aiohttp fetches (at most C in flight); the CPU work goes to a
concurrent.futures.ProcessPoolExecutor of W processes (the body pickled
over to a worker). Twin: concbench's `async-process-pool`."""

import asyncio
from concurrent.futures import ProcessPoolExecutor

import aiohttp

import concbench_model as cm


async def one_task(session, limit, pool, url, task):
    async with limit:
        start = cm.now_us()
        async with session.get(url + task.path) as r:
            r.raise_for_status()
            body = await r.read()
        latency = cm.now_us() - start
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, cm.work, task, body, latency)


async def run(cfg, pool):
    tasks = cm.read_plan(cfg.plan)
    limit = asyncio.Semaphore(cfg.concurrency)
    conn = aiohttp.TCPConnector(limit=cfg.concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        return await asyncio.gather(
            *(one_task(session, limit, pool, cfg.url, t) for t in tasks)
        )


def main():
    cfg = cm.Config.from_env()
    with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
        results = asyncio.run(run(cfg, pool))
    cm.write_results(cfg.results, results)


if __name__ == "__main__":
    main()
