"""The articles' sequential baseline: a for-loop over a requests.Session,
the CPU work inline. Twin: concbench's `sequential`."""

import requests

import concbench_model as cm


def main():
    cfg = cm.Config.from_env()
    results = []
    with requests.Session() as s:
        for t in cm.read_plan(cfg.plan):
            start = cm.now_us()
            r = s.get(cfg.url + t.path)
            r.raise_for_status()
            body = r.content
            results.append(cm.work(t, body, cm.now_us() - start))
    cm.write_results(cfg.results, results)


if __name__ == "__main__":
    main()
