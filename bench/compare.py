"""Prints giftwire's figures as ratios to the baseline measured in the same run, and whether
each target of the benchmark holds. Standard library only.

Usage: compare.py GW_DIR  (the folder bench/run.sh writes: results-*.json, peak-rss-kb-*,
seed-seconds-*). Exit status 1 when a target does not hold."""
import json
import os
import sys

PAGES = ["org1 (1M) page 1", "org1 (1M) page 5000", "org1 (1M) page 10000", "org2 (100k) page 1"]


def load(path):
    with open(path) as f:
        return {t["target"]: t for t in json.load(f)["targets"]}


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def main(gw_dir):
    peers = load(os.path.join(gw_dir, "results-peers.json"))
    nginx = peers["nginx static page 1"]
    drf = {page: peers[f"drf {page}"] for page in PAGES}
    checks = []

    def check(what, ok, detail):
        checks.append((what, ok, detail))

    print(f"baseline: nginx page 1 ({nginx['bytes']:,} bytes) {nginx['requests_per_sec']:,.0f} req/s, "
          f"p50 {nginx['p50_ms']} ms")
    for backend in ["sqlite", "postgres"]:
        gw = load(os.path.join(gw_dir, f"results-{backend}.json"))
        mine = {page: gw[f"target {page}"] for page in PAGES}
        rss_kb = int(read(os.path.join(gw_dir, f"peak-rss-kb-{backend}"), "0"))
        seed = read(os.path.join(gw_dir, f"seed-seconds-{backend}"))
        print()
        print(f"giftwire on {backend}: peak RSS {rss_kb / 1024:.1f} MB"
              + (f"; 1,000,000 sends seeded in {seed} s" if seed else ""))
        fmt = "{:<22} {:>8} {:>10} {:>8} {:>8} {:>10} {:>10} {:>11} {:>9}"
        print(fmt.format("page", "bytes", "req/s", "p50 ms", "p99 ms", "DRF req/s", "x DRF", "nginx req/s", "x nginx"))
        for page in PAGES:
            m, d = mine[page], drf[page]
            print(fmt.format(page, f"{m['bytes']:,}", f"{m['requests_per_sec']:,.0f}", m["p50_ms"], m["p99_ms"],
                             f"{d['requests_per_sec']:,.1f}", f"{m['requests_per_sec'] / d['requests_per_sec']:,.0f}",
                             f"{nginx['requests_per_sec']:,.0f}",
                             f"{m['requests_per_sec'] / nginx['requests_per_sec']:.2f}"))
            errors = m.get("errors") or 0
            check(f"{backend}: no errors at {page}", errors == 0, f"{errors} errors")
            ratio = m["requests_per_sec"] / d["requests_per_sec"]
            check(f"{backend}: >= 100x DRF at {page}", ratio >= 100, f"{ratio:,.0f}x")
        p1, p10k, p100k = mine[PAGES[0]], mine[PAGES[2]], mine[PAGES[3]]
        check(f"{backend}: page 10,000 p50 <= 1.5x page 1 p50", p10k["p50_ms"] <= 1.5 * p1["p50_ms"],
              f"{p10k['p50_ms']} ms vs {p1['p50_ms']} ms ({p10k['p50_ms'] / p1['p50_ms']:.2f}x)")
        check(f"{backend}: 1M org page 1 p50 <= 1.2x 100k org page 1 p50", p1["p50_ms"] <= 1.2 * p100k["p50_ms"],
              f"{p1['p50_ms']} ms vs {p100k['p50_ms']} ms ({p1['p50_ms'] / p100k['p50_ms']:.2f}x)")
        check(f"{backend}: peak RSS < 150 MB", 0 < rss_kb < 150 * 1024, f"{rss_kb / 1024:.1f} MB")
        if seed:
            limit = 60 if backend == "sqlite" else 120
            check(f"{backend}: 1,000,000 sends seeded in < {limit} s", float(seed) < limit, f"{seed} s")
        if backend == "sqlite":
            for page in [PAGES[0], PAGES[2]]:
                ratio = nginx["requests_per_sec"] / mine[page]["requests_per_sec"]
                check(f"sqlite: within 5x of nginx at {page}", ratio <= 5, f"nginx / giftwire = {ratio:.2f}")

    print()
    print("targets:")
    for what, ok, detail in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {what}: {detail}")
    failed = [c for c in checks if not c[1]]
    print(f"{len(checks) - len(failed)} of {len(checks)} targets hold")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
