"""
What each run of a study shows of the paper's loss, from its committed files, a row a run: the dAUC
crossing (the paper's onset: dAUC against cycle 1 above zero from there on) with its interval, the
turn (the cycle end at which the smooth AUC is lowest) with its interval and the rise per cycle after
it, and the smallest sustained dAUC the run could have established (its power). Every number is
recomputed from probe.jsonl with the noise model of probe.py (the cell's other training runs beside
it, else the run's own cycle ends), so it holds for the code that runs it, not the code that wrote
onset.json.

    python tools/run_table.py results/long-docs/runs/* results/study-docs/runs/*-continual-*

Crossing: "none" when dAUC's smooth curve never stays above zero (censored); a cycle with its 95%
interval when established; "open" when seen but not established (at the last cycle end only, or no
measure of the training noise). Turn: its cycle [95%] and the rise after it in % of the AUC at the
turn per cycle [95%]; "last cycle end" when the smooth curve is still lowest at the end (no turn
yet). A turn is established when it lies before the last two cycle ends and the rise's interval lies
above zero (turn.py).

--slope=A,B adds, below the table, each run's least-squares slope of dAUC (points per cycle) over
cycle ends A to B and their mean with a t interval over the runs (the training run is the replicate):
whether a cell still falls, is flat or rises there, without a noise model.

--upto=C takes only the checkpoints up to cycle C, in each run and in its cell's other runs: what a run
that has gone on showed when it had got that far (a part's verdict, re-derived after later parts).

--diagnostic=NAME[,NAME] adds, below it, each run's diagnostic (a key of onset.json's `diagnostics`,
as probe.py wrote it: dormant, mlp_rank, grad_norm_mean, ...) at cycle 1, at the last checkpoint
before an established crossing, and at the last cycle end, with its range over the cycle ends: whether
a symptom grows with a loss of plasticity or without one.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from power import print_table  # noqa: E402
from regression import t_interval  # noqa: E402


def established(est):
    """A crossing is established only with both ends of its interval."""
    return not est["censored"] and bool(est["interval"]) and None not in est["interval"]


def crossing(est):
    if est["censored"]:
        return "none"
    c = est["onset_tokens"] / est["ref_tokens"]
    if not established(est):
        return f"{c:.1f}, open"
    lo, hi = est["interval"]
    return f"{c:.1f} [{lo / est['ref_tokens']:.1f}, {hi / est['ref_tokens']:.1f}]"


def turn_cells(t):
    iv = t["interval_cycles"]
    where = f"[{iv[0]:.1f}, {iv[1]:.1f}]" if iv else "[–]"
    if t["n_after"] == 0:
        return f"last cycle end ({t['turn_cycles']:.1f} {where})", "–", "no"
    rise = "–" if t["rise_pct_per_cycle"] is None else (
        f"{t['rise_pct_per_cycle']:+.3f} [{t['rise_pct_interval'][0]:+.3f}, {t['rise_pct_interval'][1]:+.3f}]")
    return f"{t['turn_cycles']:.1f} {where}", rise, "yes" if t["established"] else "no"


def slope(est, first, last):
    """The least-squares slope of dAUC (points per cycle) over the cycle ends from first to last."""
    cycles = [t / est["ref_tokens"] for t in est["tokens"]]
    pts = [(c, d) for c, d in zip(cycles, est["delta_pct"]) if first - 0.01 <= c <= last + 0.01]
    if len(pts) < 3:
        raise SystemExit(f"run_table.py: fewer than 3 cycle ends between {first:g} and {last:g}; fix: a wider --slope")
    cm, dm = sum(c for c, _ in pts) / len(pts), sum(d for _, d in pts) / len(pts)
    return sum((c - cm) * (d - dm) for c, d in pts) / sum((c - cm) ** 2 for c, _ in pts)


def diagnostic_line(run_path, est, name):
    """A run's diagnostic at cycle 1, before the crossing (where established) and at the end."""
    diag = json.loads((Path(run_path) / "onset.json").read_text())["diagnostics"]
    if name not in diag:
        raise SystemExit(f"run_table.py: {run_path} has no diagnostic '{name}'; fix: one of {', '.join(sorted(diag))}")
    pts = [(t, v) for t, v in zip(diag["tokens"], diag[name])
           if est["ref_tokens"] - 1 <= t <= est["last_tokens"] and v is not None]  # cycle 1 to the run's (--upto) end
    if not pts:
        return f"{name}: no value after cycle 1"
    at = (lambda t0: [v for t, v in pts if t <= t0][-1])
    values = [v for _, v in pts]
    first = pts[0][0] / est["ref_tokens"]  # cycle 1, unless the run has no diagnostics there (probed before they existed)
    text = f"{name}: cycle {'1' if first < 1.5 else f'{first:.0f} (the first with it)'} {pts[0][1]:.3g}"
    if established(est):
        text += f", before the crossing ({est['onset_tokens'] / est['ref_tokens']:.1f}) {at(est['onset_tokens']):.3g}"
    return text + f", last {pts[-1][1]:.3g}, range [{min(values):.3g}, {max(values):.3g}]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n_boot", type=int, default=300)
    ap.add_argument("--slope", default="", help="A,B: each run's dAUC slope over cycle ends A to B, and their mean")
    ap.add_argument("--upto", type=float, default=None,
                    help="C: only the cycle ends up to C, in each run and its cell (what it showed at cycle C)")
    ap.add_argument("--diagnostic", default="", help="NAME[,NAME]: each run's diagnostic at cycle 1, the crossing, the end")
    a = ap.parse_args(argv)
    columns = ["dAUC crossing (cycle) [95%]", "smooth AUC lowest at (cycle) [95%]", "rise after it (%/cycle) [95%]",
               "turn established", "smallest sustained dAUC"]

    def cells(est):
        d = est["smallest_sustained"]
        return [crossing(est), *turn_cells(est["turn"]), "–" if d is None else f"+{d:.1f}%"]

    rows = list(print_table(a.runs, columns, cells, a.n_boot, a.upto))
    for name in filter(None, a.diagnostic.split(",")):
        print(f"\n{name}, from onset.json (probe.py):")
        for path, est in rows:
            print(f"  {Path(path).name}: " + diagnostic_line(path, est, name))
    slopes = [(Path(path).name, slope(est, *map(float, a.slope.split(",")))) for path, est in rows if a.slope]
    if slopes:
        print(f"\ndAUC slope over cycle ends {a.slope} (points per cycle): "
              + ", ".join(f"{name} {v:+.3f}" for name, v in slopes))
        values = [v for _, v in slopes]
        if len(values) >= 2:
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values)  # of the mean
            lo, hi = t_interval(mean, var, len(values) - 1)
            print(f"mean over {len(values)} runs {mean:+.3f} [{lo:+.3f}, {hi:+.3f}] (95%, t over runs)")


if __name__ == "__main__":
    main(sys.argv[1:])
