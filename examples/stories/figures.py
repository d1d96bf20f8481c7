"""figures.py DOC...: one markdown table row per configuration of each
results document (run-stories' build/stories/STORY-VARIANT.json): median
wall and CPU time, peak RSS of the process tree, /dev/shm growth, peak
threads, lock wait share, as README.md's table has them."""
import json
import os
import sys

MiB = 1024.0 * 1024


def devshm_growth(config):
    """Median over the repetitions of peak minus first sample."""
    grown = []
    for rep in config.get("reps", []):
        s = rep.get("memory", {}).get("series", {}).get("devshm_bytes")
        if s:
            grown.append(max(s) - s[0])
    grown.sort()
    return grown[len(grown) // 2] / MiB if grown else float("nan")


def row(name, config):
    mem = config.get("memory", {})
    lock = config.get("lock", {})
    return ("| %s | %d | %.2f s | %.2f s | %.0f MiB | +%.0f MiB | %d | %.0f %% |" % (
        name, config["workers"], config["median_wall_s"], config["median_cpu_s"],
        mem.get("peak_rss_bytes", 0) / MiB, devshm_growth(config),
        mem.get("peak_threads", 0), 100 * lock.get("share", 0)))


def main():
    print("| story, variant | workers | wall | CPU | peak RSS | /dev/shm | threads | lock wait |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        name = os.path.basename(path).removesuffix(".json")
        for config in json.load(open(path))["configs"]:
            print(row(name, config))


main()
