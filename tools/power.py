"""
The power of the paper's onset on each run of a study, from its committed files: the smallest dAUC
(% of cycle 1's AUC) that, sustained over the last quarter of the run's cycle ends, the estimator would
have established on the run's own probe records and training noise (onset.smallest_sustained; the
noise model of probe.py: the cell's other training runs beside it, else the run's own cycle ends).
"–": not even 50% would be established (too few cycle ends and no other run of the cell).

    python tools/power.py results/study-docs/runs/*-continual-* results/long-docs/runs/*
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run_onset  # noqa: E402


def power(run_path, metric="auc", mode="full", n_boot=300):
    run_path = Path(run_path)
    run = json.loads((run_path / "config.json").read_text())
    records = [json.loads(ln) for ln in (run_path / "probe.jsonl").read_text().splitlines()]
    run_onset.annotate(records, run, metric)
    seeds = sorted({r["seed"] for r in records})
    cell = run_onset.cell_runs(run_path, run, metric)
    est = run_onset.estimate(records, mode, seeds, run, metric, "delta", 0.05, n_boot, cell, power=True)
    return run, est


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n_boot", type=int, default=300)
    a = ap.parse_args(argv)
    print("| run | N | schedule | cycles | dAUC at the last cycle | noise from | smallest sustained dAUC it could establish |")
    print("|---|---|---|---|---|---|---|")
    for path in a.runs:
        run, est = power(path, n_boot=a.n_boot)
        if est is None:
            print(f"| {Path(path).name} | {run['n_nonembed']:,} | {run['schedule']} | too few cycle ends | | | |")
            continue
        cycles = round(est["last_tokens"] / est["ref_tokens"])
        d = est["smallest_sustained"]
        print(f"| {Path(path).name} | {run['n_nonembed']:,} | {run['schedule']} | {cycles} | {est['delta_pct'][-1]:+.2f}% | "
              f"{est['noise_source']} | {'–' if d is None else f'+{d:.2f}%'} |")


if __name__ == "__main__":
    main(sys.argv[1:])
