#!/usr/bin/env python3
"""Sums a process's memory by what is mapped: each library, the heap, anonymous memory, shared
memory. For the files tests/benches/window.rs copies with KEYWARD_BENCH_SMAPS=DIR.

    scripts/smaps-summary.py DIR/*.smaps
"""
import collections
import re
import sys

HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$")
FIELDS = {"Rss": 0, "Pss": 1, "Anonymous": 2}


def summary(path):
    by_name = collections.defaultdict(lambda: [0, 0, 0])
    name = None
    with open(path) as f:
        for line in f:
            header = HEADER.match(line)
            if header:
                name = header.group(1).replace("(deleted)", "").strip() or "[anon]"
                continue
            field, _, value = line.partition(":")
            if field in FIELDS and name is not None:
                by_name[name][FIELDS[field]] += int(value.split()[0])
    return by_name


def main(paths, top=25):
    for path in paths:
        by_name = summary(path)
        total = [sum(v[i] for v in by_name.values()) / 1024 for i in range(3)]
        print(f"== {path}: RSS {total[0]:.1f}, PSS {total[1]:.1f}, anonymous {total[2]:.1f} MiB")
        print(f"  {'RSS':>8} {'PSS':>8} {'anon':>8}")
        for name, v in sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"  {v[0] / 1024:8.1f} {v[1] / 1024:8.1f} {v[2] / 1024:8.1f}  {name}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
