"""asyncio + aiohttp on one event loop, at most C requests in flight, the CPU
work inline on the loop. Twin: concbench's `async` (here on one core: the
GIL makes a Python event loop single-threaded, like `async-single`)."""

import asyncio

import aiohttp

import concbench_model as cm


async def one_task(session, limit, url, task):
    async with limit:
        start = cm.now_us()
        async with session.get(url + task.path) as r:
            r.raise_for_status()
            body = await r.read()
        latency = cm.now_us() - start
    return cm.work(task, body, latency)


async def run(cfg):
    tasks = cm.read_plan(cfg.plan)
    limit = asyncio.Semaphore(cfg.concurrency)
    conn = aiohttp.TCPConnector(limit=cfg.concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        return await asyncio.gather(*(one_task(session, limit, cfg.url, t) for t in tasks))


def main():
    cfg = cm.Config.from_env()
    cm.write_results(cfg.results, asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
