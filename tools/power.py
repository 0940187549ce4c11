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


def power(run_path, metric="auc", mode="full", n_boot=300, upto=None):
    """(the run's config, its estimate); upto: only the checkpoints up to that many cycles, in the run
    and in its cell's other runs (what the run showed when its training had got that far)."""
    run_path = Path(run_path)
    if not (run_path / "config.json").is_file() or not (run_path / "probe.jsonl").is_file():
        raise SystemExit(f"{run_path} is not a probed run (no config.json and probe.jsonl in it); "
                         "fix: name run directories, e.g. results/long-docs/runs/cpu-3k-continual-s?")
    run = json.loads((run_path / "config.json").read_text())
    records = [json.loads(ln) for ln in (run_path / "probe.jsonl").read_text().splitlines()]
    run_onset.annotate(records, run, metric)
    seeds = sorted({r["seed"] for r in records})
    cell = run_onset.cell_runs(run_path, run, metric)
    if upto is not None:
        last = upto * run_onset.cycle_tokens(run) + run["block_size"] * run["batch_size"]  # the step a cycle ends on
        records = [r for r in records if r["tokens"] <= last]
        cell = [(name, [r for r in rs if r["tokens"] <= last], s) for name, rs, s in cell]
    est = run_onset.estimate(records, mode, seeds, run, metric, "delta", 0.05, n_boot, cell, power=True)
    return run, est


def print_table(paths, columns, cells, n_boot=300, upto=None):
    """A markdown table, a row a run: its name, N, schedule, cycles and dAUC at the last cycle, then the
    named columns, cells(est) giving their texts. Yields each run's path and estimate as its row is
    printed (a run with too few cycle ends gets a row that says so and is not yielded)."""
    head = ["run", "N", "schedule", "cycles", "dAUC at the last cycle"] + columns
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for path in paths:
        run, est = power(path, n_boot=n_boot, upto=upto)
        first = f"| {Path(path).name} | {run['n_nonembed']:,} | {run['schedule']} | "
        if est is None:
            print(first + "too few cycle ends |" + " |" * (len(columns) + 1))
            continue
        cycles = round(est["last_tokens"] / est["ref_tokens"])
        print(first + f"{cycles} | {est['delta_pct'][-1]:+.2f}% | " + " | ".join(cells(est)) + " |")
        yield path, est


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n_boot", type=int, default=300)
    a = ap.parse_args(argv)
    columns = ["noise from", "smallest sustained dAUC it could establish"]
    sustained = (lambda d: "–" if d is None else f"+{d:.2f}%")
    for _ in print_table(a.runs, columns, lambda est: [est["noise_source"], sustained(est["smallest_sustained"])],
                         a.n_boot):
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
