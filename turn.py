"""
The turn of a run's probe curve: the cycle end at which the checkpoint learns the probe language
best (the smooth curve of its AUC at its lowest), with its interval, and how fast the AUC rises
per cycle after it, with its interval. It exists before the paper's onset does: dAUC against
cycle 1 crosses zero only once the rise has undone all that the curve fell after cycle 1, while
the turn and the rise show as soon as the curve turns up.

The curve, its noise (onset.cycle_noise: the run's probe seeds plus its training noise, from the
cell's other training runs or its own cycle ends) and its smooth curve are the paper's onset's
(onset.estimate_delta_onset). The turn is where the smooth curve is lowest, refined by a parabola
through it and its neighbours; its interval is the percentile interval of the same parametric
bootstrap (replicate seed means around the smooth curve, each smoothed and read again), widened
by half a checkpoint spacing on each side as the onset's is. The rise is the least-squares slope
of the seed means from the first cycle end after the turn to the last (the turn's own checkpoint
left out: it was chosen for being low, which would tilt the line up on a flat curve), weighted by
the noise, with a t interval on the noise's degrees of freedom. A turn is established when it
lies before the last two cycle ends and its rise's interval lies above zero.

Calibrated on simulated cells with known turns and on flat ones (calibrate_turns below, tested in
tests/test_turn.py).
"""

import math

import numpy as np

import onset
from regression import fit_power_law, line_variance, t_interval


def estimate_turn(tokens, table, n_boot=1000, seed=0, window=3, runs=None):
    """tokens (C,) increasing, the first the reference (cycle 1); table (S, C) the probe metric per
    seed; runs as onset.estimate_delta_onset takes them. Returns a dict: turn_tokens with its
    interval, rise per cycle (nats and % of the metric at the turn) with its interval, and whether
    the turn is established."""
    tokens, table = onset.checkpoint_table(tokens, table, 3, "estimate_turn")
    x = tokens / tokens[0]
    mean = table.mean(0)
    var, df, _, source = onset.cycle_noise(table, runs, window)
    var = np.maximum(var, 1e-12)
    smooth = onset.Smoother(x, var)
    f = smooth(mean[None])[0][0]
    point = float(lowest(x, f[None])[0])
    interval = None
    if n_boot > 0 and df > 0 and source != onset.TOO_FEW:
        rng = np.random.default_rng(seed)
        inflate = onset.t_quantile(0.975, df) / onset.Z975
        boot = lowest(x, smooth(f + rng.standard_normal((n_boot, x.size)) * np.sqrt(var) * inflate)[0])
        lo, hi = np.percentile(boot, [2.5, 97.5])
        half = 0.5 * float(np.median(np.diff(x)))
        interval = [max(min(lo, point) - half, x[0]), min(max(hi, point) + half, x[-1])]
    after = x > point
    slope = slope_lo = slope_hi = None
    if after.sum() >= 2 and df > 0:
        w = 1.0 / var[after]
        xa, ya = x[after], mean[after]
        xm = np.sum(w * xa) / np.sum(w)
        sxx = np.sum(w * (xa - xm) ** 2)
        slope = float(np.sum(w * (xa - xm) * ya) / sxx)
        half_width = onset.t_quantile(0.975, df) / math.sqrt(sxx)
        slope_lo, slope_hi = slope - half_width, slope + half_width
    established = bool(slope_lo is not None and slope_lo > 0 and source != onset.TOO_FEW and point < x[-2])
    ref, at = float(tokens[0]), float(np.interp(point, x, f))
    return dict(turn_tokens=point * ref, turn_cycles=point,
                interval=None if interval is None else [interval[0] * ref, interval[1] * ref],
                interval_cycles=interval, rise_per_cycle=slope,
                rise_interval=None if slope_lo is None else [slope_lo, slope_hi],
                rise_pct_per_cycle=None if slope is None else 100 * slope / at,
                rise_pct_interval=None if slope_lo is None else [100 * slope_lo / at, 100 * slope_hi / at],
                established=established, n_after=int(after.sum()), noise_source=source, noise_df=int(df),
                ref_tokens=ref, definition="turn")


def lowest(x, F):
    """For each row of F (R, C): the x of its lowest value, refined by the parabola through it and its
    two neighbours (an end stays at the end)."""
    j = np.argmin(F, 1)
    rows = np.arange(len(F))
    inner = (j > 0) & (j < F.shape[1] - 1)
    jj = np.clip(j, 1, F.shape[1] - 2)
    a, b, c = F[rows, jj - 1], F[rows, jj], F[rows, jj + 1]
    curv = a - 2 * b + c
    step = np.where(inner & (curv > 0), 0.5 * (a - c) / np.where(curv > 0, curv, 1.0), 0.0)
    h = np.median(np.diff(x))
    return x[j] + np.clip(step, -0.5, 0.5) * h


# ----------------------------------------------------------------------------- the turn across sizes

def turn_summary(runs):
    """fit.py's runs -> each run's turn (onset.json's, for its head metric) beside its paper's onset, and
    the turn against N per schedule (fit_turn_law)."""
    points = [dict(run=r.name, N=r.n, schedule=r.config["schedule"], turn=(r.head or {}).get("turn"),
                   onset=(r.head or {}).get("onset_tokens"), onset_interval=(r.head or {}).get("interval"),
                   smallest_sustained=(r.head or {}).get("smallest_sustained"))
              for r in runs]
    return {"runs": points, "laws": fit_turn_law(points)}


def fit_turn_law(points, min_sizes=3):
    """points: [{run, N, schedule, turn: estimate_turn's dict or None}] -> one entry per schedule: the
    established turns, and where they are at min_sizes sizes or more, turn = a N^alpha by least
    squares in logs (regression.fit_power_law) with alpha's 95% t interval; else why not."""
    out = []
    for schedule in sorted({p["schedule"] for p in points}):
        group = [p for p in points if p["schedule"] == schedule]
        est = [p for p in group if p["turn"] and p["turn"]["established"]]
        sizes = sorted({p["N"] for p in est})
        entry = dict(schedule=schedule, n_runs=len(group), established=[dict(run=p["run"], N=p["N"],
                     turn_tokens=p["turn"]["turn_tokens"], interval=p["turn"]["interval"],
                     rise_pct_per_cycle=p["turn"]["rise_pct_per_cycle"]) for p in est], sizes=sizes,
                     alpha=None, alpha_ci=None, note=None)
        if len(sizes) < min_sizes:
            entry["note"] = f"turns established at {len(sizes)} size(s); a turn law needs {min_sizes} or more"
        else:
            fit = fit_power_law(np.log([p["N"] for p in est]), np.log([p["turn"]["turn_tokens"] for p in est]))
            entry.update(alpha=fit["alpha"], alpha_ci=t_interval(fit["alpha"], line_variance(fit["covs"], np.array([0.0, 1.0])),
                                                                 fit["df"]), log_a=fit["log_a"])
        out.append(entry)
    return out


# ----------------------------------------------------------------------------- calibration

def simulated_turn_cell(shape, rng, cycles, n_runs, train_noise, probe_noise, n_seeds=3):
    """A simulated cell (as calibration.simulated_cell) whose curve turns: a fall of 0.03-0.15 nats
    that fades over 0.5-2.5 cycles, then a straight rise of 0.001-0.01 nats per cycle from a random
    cycle in the first two thirds; or flat. Returns (cycles, tables, true turn in cycles or None,
    true rise per cycle or None: the least-squares slope of the noiseless curve over the cycle ends
    after the turn, where the fall may still be fading)."""
    cyc = np.arange(1, cycles + 1, dtype=float)
    if shape == "flat":
        truth, rise, clean = None, None, np.full(cycles, 3.0)
    else:
        d, tau = rng.uniform(0.03, 0.15), rng.uniform(0.5, 2.5)
        c0, slope = rng.uniform(2.0, 1.0 + 2.0 * (cycles - 1) / 3.0), rng.uniform(0.001, 0.01) * 16 / max(cycles, 16)
        fine = np.linspace(1.0, cycles, 20001)

        def fn(c):
            return 3.0 - d * (1 - np.exp(-(c - 1) / tau)) + slope * np.maximum(0.0, c - c0)

        truth, clean = float(fine[np.argmin(fn(fine))]), fn(cyc)
        after = cyc > truth  # the rise as estimate_turn measures it: the line through the cycle ends after the turn
        rise = float(np.polyfit(cyc[after], clean[after], 1)[0]) if after.sum() >= 2 else None
    tables = [clean[None] + rng.normal(0.0, train_noise, (1, cycles)) + rng.normal(0.0, probe_noise, (n_seeds, cycles))
              + rng.normal(0.0, probe_noise, (n_seeds, 1)) for _ in range(n_runs)]
    return cyc, tables, truth, rise


def calibrate_turns(lengths=(8, 25), runs=(1, 2), train_noises=(0.005, 0.01), n_sets=100, n_boot=200, seed=0):
    """Per (cycles, training runs, training noise): the fraction of flat cells with an established
    turn; on cells that turn, the fraction established, the coverage of the turn's interval and of
    the rise's, and the median of estimated / true turn."""
    rng = np.random.default_rng(seed)
    rows = []
    for cycles in lengths:
        for n_runs in runs:
            for sigma in train_noises:
                flat = estab = cov_turn = cov_rise = 0
                ratios = []
                for i in range(2 * n_sets):
                    cyc, tables, truth, rise = simulated_turn_cell("flat" if i < n_sets else "turn", rng, cycles, n_runs,
                                                                   sigma, rng.uniform(0.002, 0.005))
                    est = estimate_turn(cyc, tables[0], n_boot, seed=int(rng.integers(2 ** 31)),
                                        runs=[t.mean(0) for t in tables] if n_runs >= 2 else None)
                    if truth is None:
                        flat += est["established"]
                        continue
                    estab += est["established"]
                    iv, rv = est["interval_cycles"], est["rise_interval"]
                    cov_turn += iv is not None and iv[0] <= truth <= iv[1]
                    cov_rise += rv is not None and rise is not None and rv[0] <= rise <= rv[1]
                    ratios.append(est["turn_cycles"] / truth)
                rows.append(dict(cycles=cycles, runs=n_runs, train_noise=sigma, n_sets=n_sets, flat_established=flat / n_sets,
                                 established=estab / n_sets, turn_coverage=cov_turn / n_sets,
                                 rise_coverage=cov_rise / n_sets, median_ratio=float(np.median(ratios))))
    return rows


def turns_table(rows):
    """The rows of calibrate_turns() as a Markdown table."""
    out = ["| cycles | training runs | training noise (nats) | flat: turn established | turning: established "
           "| turn's interval covers | rise's interval covers | median turn / truth |", "|---|---|---|---|---|---|---|---|"]
    out += [f"| {r['cycles']} | {r['runs']} | {r['train_noise']:g} | {r['flat_established']:.1%} | {r['established']:.1%} | "
            f"{r['turn_coverage']:.1%} | {r['rise_coverage']:.1%} | {r['median_ratio']:.3f} |" for r in rows]
    return "\n".join(out)
