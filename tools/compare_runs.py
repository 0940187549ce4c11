"""Training runs against the first one: per-step training loss and checkpoint validation losses.

    python tools/compare_runs.py out/g32 out/g16 out/gtr
"""
import glob
import json
import sys

import numpy as np


def log(run):
    return [json.loads(line) for line in open(f"{run}/log.jsonl")]


def val(run):
    cards = (json.load(open(p)) for p in sorted(glob.glob(f"{run}/ckpt/step_*.json")))
    return {c["step"]: c["val_loss"] for c in cards}


runs = sys.argv[1:]
ref_log, ref_val = log(runs[0]), val(runs[0])
print(f"{'run':<14}{'steps':>6}{'mean loss last 50':>19}{'max |dloss| step':>18}{'mean |dloss|':>14}"
      f"{'max |dval| ckpt':>17}")
for r in runs:
    steps, v = log(r), val(r)
    n = min(len(steps), len(ref_log))
    a, b = (np.array([x["loss"] for x in s[:n]]) for s in (steps, ref_log))
    dv = max(abs(v[s][k] - ref_val[s][k]) for s in v if s in ref_val for k in v[s])
    print(f"{r:<14}{len(steps):>6}{a[-50:].mean():>19.4f}{np.abs(a - b).max():>18.4f}{np.abs(a - b).mean():>14.4f}"
          f"{dv:>17.4f}")
last = max(ref_val)
for r in runs:
    print(r, "last checkpoint val:", {k: round(x, 4) for k, x in val(r)[last].items()})
