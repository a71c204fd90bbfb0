#!/usr/bin/env python3
"""jtl-reference.py - compute a JTL's figures independently and compare them with the jmeter metric's output.

usage: jtl-reference.py JTL METRIC_OUTPUT [LABEL_REGEX]
METRIC_OUTPUT holds "name value unit direction" lines (tests/metric_run).
Percentiles are nearest-rank; throughput is samples over first start .. last end.
"""
import csv
import math
import re
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

DEFAULT_COLUMNS = ["timeStamp", "elapsed", "label", "responseCode", "responseMessage",
                   "threadName", "dataType", "success"]


def samples(path):
    with open(path, newline="") as f:
        head = f.read(1)
    if head == "<":
        root = ET.parse(path).getroot()
        for el in root:
            if el.tag in ("httpSample", "sample"):
                yield int(el.get("ts")), int(el.get("t")), el.get("lb", ""), el.get("s") == "true"
        return
    with open(path, newline="") as f:
        rows = csv.reader(f)
        first = next(rows)
        if first[0].isdigit():
            cols, pending = DEFAULT_COLUMNS, [first]
        else:
            cols, pending = first, []
        idx = {name: i for i, name in enumerate(cols)}
        for row in pending + list(rows):
            ok = row[idx["success"]] == "true"
            yield int(row[idx["timeStamp"]]), int(row[idx["elapsed"]]), row[idx["label"]], ok


def figures(path, label):
    got = [s for s in samples(path) if label is None or re.search(label, s[2])]
    n = len(got)
    lat = sorted(s[1] for s in got)

    def pct(p):
        return lat[max(1, math.ceil(Fraction(p) / 100 * n)) - 1]

    window = (max(s[0] + s[1] for s in got) - min(s[0] for s in got)) / 1000.0
    return n, {
        "mean": sum(lat) / n, "median": pct(50), "p90": pct(90), "p95": pct(95), "p99": pct(99),
        "throughput": n / max(window, 0.001),
        "error_rate": sum(1 for s in got if not s[3]) / n,
    }


def main():
    jtl, out = sys.argv[1], sys.argv[2]
    label = sys.argv[3] if len(sys.argv) > 3 else None
    n, want = figures(jtl, label)
    print(f"{jtl}: {n} samples")
    bad = 0
    seen = 0
    for line in open(out):
        name, value = line.split()[:2]
        if name == "window":
            continue
        seen += 1
        ok = math.isclose(float(value), want[name], rel_tol=1e-9, abs_tol=1e-9)
        bad += not ok
        print(f"  {name:10} plugin {float(value):12.6f}  reference {want[name]:12.6f}  "
              f"{'ok' if ok else 'MISMATCH'}")
    if seen == 0:
        print("  no values in", out)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
