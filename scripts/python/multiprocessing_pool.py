"""multiprocessing.Pool(W) with imap_unordered: each worker process fetches
with its own requests.Session and does the CPU work. Twin: concbench's
`process-pool` (dynamic schedule, batch 1)."""

import multiprocessing as mp

import requests

import concbench_model as cm

_session = None
_url = None


def init(url):
    global _session, _url
    _session, _url = requests.Session(), url


def one_task(task):
    start = cm.now_us()
    r = _session.get(_url + task.path)
    r.raise_for_status()
    return cm.work(task, r.content, cm.now_us() - start)


def main():
    cfg = cm.Config.from_env()
    tasks = cm.read_plan(cfg.plan)
    with mp.Pool(cfg.workers, initializer=init, initargs=(cfg.url,)) as pool:
        results = list(pool.imap_unordered(one_task, tasks))
    cm.write_results(cfg.results, results)


if __name__ == "__main__":
    main()
