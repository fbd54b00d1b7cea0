"""concurrent.futures.ThreadPoolExecutor with C threads, each with its own
requests.Session; the CPU work runs in the threads, under the GIL. Twin:
concbench's `thread-pool`."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

import concbench_model as cm

_local = threading.local()


def one_task(url, task):
    s = getattr(_local, "session", None)
    if s is None:
        s = _local.session = requests.Session()
    start = cm.now_us()
    r = s.get(url + task.path)
    r.raise_for_status()
    return cm.work(task, r.content, cm.now_us() - start)


def main():
    cfg = cm.Config.from_env()
    tasks = cm.read_plan(cfg.plan)
    with ThreadPoolExecutor(max_workers=cfg.concurrency) as ex:
        results = list(ex.map(lambda t: one_task(cfg.url, t), tasks))
    cm.write_results(cfg.results, results)


if __name__ == "__main__":
    main()
