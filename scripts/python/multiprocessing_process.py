"""multiprocessing.Process per task, each sending its result back over a
Queue, at most C processes alive at once. Twin: concbench's `process-per-task`."""

import multiprocessing as mp

import requests

import concbench_model as cm


def one_task(url, task, queue):
    start = cm.now_us()
    r = requests.get(url + task.path)
    r.raise_for_status()
    queue.put(cm.work(task, r.content, cm.now_us() - start))


def main():
    cfg = cm.Config.from_env()
    tasks = cm.read_plan(cfg.plan)
    queue = mp.Queue()
    results, live, pending = [], {}, list(reversed(tasks))
    while len(results) < len(tasks):
        while pending and len(live) < cfg.concurrency:
            t = pending.pop()
            p = mp.Process(target=one_task, args=(cfg.url, t, queue))
            p.start()
            live[t.id] = p
        # Each result frees its process's slot once the process has exited.
        r = queue.get(timeout=600)
        results.append(r)
        p = live.pop(r.id)
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"the process of task {r.id} exited with {p.exitcode}")
    cm.write_results(cfg.results, results)


if __name__ == "__main__":
    main()
