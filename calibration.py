"""
The onset estimators of onset.py on simulated probe curves whose answer is known: how often they
see an onset that is not there, how often their interval covers one that is, and how far their
estimate lies from it.

    python probe.py --calibrate        # the tables, as the README and docs/protocol.md give them
"""

import math

import numpy as np

import onset

SHAPES = ("smooth", "plateau", "decreasing")


def simulated_curve(shape, rng, x):
    """A noiseless probe curve over log10 tokens x (in nats), with a random turning point.
    smooth: a parabola in log tokens; plateau: a fall, a flat stretch, then a straight rise;
    decreasing: a curve that only ever improves (it flattens, never rises)."""
    lo, hi = x[0], x[-1]
    if shape == "smooth":
        x0, k = rng.uniform(lo + 0.8, hi - 1.3), rng.uniform(0.1, 0.4)  # k: nats per decade^2
        return lambda z: 4.0 + k * (z - x0) ** 2
    if shape == "plateau":
        xa = rng.uniform(lo + 0.2, lo + 0.8)
        xp, s = rng.uniform(xa + 0.3, hi - 0.8), rng.uniform(0.15, 0.5)  # s: nats per decade
        return lambda z: 4.0 + 0.3 * np.maximum(0.0, xa - z) + s * np.maximum(0.0, z - xp)
    if shape == "decreasing":
        return lambda z: 4.0 + 0.4 * np.exp(lo - z) - 0.02 * (z - lo)
    raise ValueError(f"unknown shape {shape!r}; use one of {SHAPES}")


def true_onset(shape_fn, x, tol):
    """Where the noiseless curve first exceeds its minimum by tol (log10 tokens), or None."""
    fine = np.linspace(x[0], x[-1], 20001)
    _, o = onset.crossings(fine, shape_fn(fine)[None], tol)
    return None if math.isnan(o[0]) else float(o[0])


def calibrate(noises=(0.005, 0.02, 0.05), shapes=SHAPES, n_sets=200, n_seeds=3, per_decade=10, decades=3,
              tol=0.05, n_boot=200, seed=0, seed_offset=0.0, nugget=0.0):
    """Simulate n_sets curve sets per (shape, noise) with known onsets and Gaussian per-seed
    noise, plus, with seed_offset > 0, a Gaussian offset per seed shared by all checkpoints (as
    common random numbers give), and, with nugget > 0, a Gaussian deviation per checkpoint
    shared by all its seeds (what the checkpoint's own training noise gives: the phase of the
    language cycle, the last batches); run estimate_onset on each. Returns one row per case:
    median estimated/true onset, coverage of the 95% interval, fraction reported censored,
    median interval width (ratio)."""
    rng = np.random.default_rng(seed)
    tokens = np.logspace(4, 4 + decades, decades * per_decade + 1)
    x = np.log10(tokens)
    rows = []
    for shape in shapes:
        for sigma in noises:
            outcomes = []
            for _ in range(n_sets):
                fn = simulated_curve(shape, rng, x)
                truth = true_onset(fn, x, tol)
                table = fn(x)[None, :] + rng.normal(0.0, sigma, (n_seeds, x.size)) \
                    + rng.normal(0.0, seed_offset, (n_seeds, 1)) + rng.normal(0.0, nugget, (1, x.size))
                est = onset.estimate_onset(tokens, table, None, tol, n_boot, seed=int(rng.integers(2 ** 31)))
                outcomes.append((None if truth is None else 10 ** truth, est))
            rows.append(dict(shape=shape, noise=sigma, nugget=nugget, **tally(outcomes)))
    return rows


def tally(outcomes):
    """[(true onset in tokens or None, estimate)] of one calibration case -> its row: the number of
    sets, median estimated / true onset, coverage of the 95% interval, fraction reported censored,
    median interval width (hi / lo)."""
    ratios, covered, widths = [], [], []
    for truth, est in outcomes:
        if truth is None:
            continue
        if est["censored"]:
            ratios.append(math.inf)
            covered.append(False)
            continue
        ratios.append(est["onset_tokens"] / truth)
        lo, hi = est["interval"]
        covered.append(lo <= truth and (hi is None or truth <= hi))
        widths.append((hi or math.inf) / lo)
    return dict(n_sets=len(outcomes), median_ratio=float(np.median(ratios)) if ratios else None,
                coverage=float(np.mean(covered)) if covered else None,
                censored=sum(est["censored"] for _, est in outcomes) / len(outcomes),
                median_width=float(np.median(widths)) if widths else None)


def calibration_table(rows):
    """The rows of calibrate() as a Markdown table."""
    out = ["| curve shape | per-seed noise (nats) | checkpoint noise (nats) | sets | median estimated / true onset "
           "| 95% interval covers the truth | reported censored | median interval (hi / lo) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        def f(v, fmt):
            return "–" if v is None else format(v, fmt)
        out.append(f"| {r['shape']} | {r['noise']:g} | {r['nugget']:g} | {r['n_sets']} | {f(r['median_ratio'], '.3f')} | "
                   f"{f(r['coverage'], '.1%')} | {r['censored']:.1%} | {f(r['median_width'], '.2f')} |")
    return "\n".join(out)


# ----------------------------------------------------------------------------- calibration of the paper's onset

DELTA_SHAPES = ("dip-rise", "dip-bend", "improving")


def simulated_cycle_curve(shape, rng, c_max):
    """A noiseless probe AUC over cycles c (1 = the reference, cycle 1), in nats, and its true
    dAUC-crossing onset in cycles (None for a curve that never turns). dip-rise: what pretraining
    still gives fades (an exponential dip of 0.03-0.15 nats), then a straight rise crosses the
    reference at a random cycle; dip-bend: the same with a quadratic rise (plasticity lost
    gradually, then faster); improving: the dip alone with a slow further improvement."""
    d, tau = rng.uniform(0.03, 0.15), rng.uniform(0.5, 2.5)

    def dip(c):
        return 3.0 - d * (1 - np.exp(-(np.asarray(c, float) - 1) / tau))

    if shape == "improving":
        return lambda c: dip(c) - 0.002 * (np.asarray(c, float) - 1)
    if shape not in DELTA_SHAPES:
        raise ValueError(f"unknown shape {shape!r}; use one of {DELTA_SHAPES}")
    target = rng.uniform(3.0, c_max - 2.0)
    c0 = rng.uniform(1.5, target - 1.0)
    power = 1 if shape == "dip-rise" else 2
    r = (3.0 - dip(target)) / (target - c0) ** power
    return lambda c: dip(c) + r * np.maximum(0.0, np.asarray(c, float) - c0) ** power


def true_delta_onset(fn, c_max):
    """Where the noiseless curve crosses its value at cycle 1 for the last time, staying above."""
    fine = np.linspace(1.0, c_max, 30001)
    f = fn(fine)
    o = onset.stays_above(fine, f[None], f[:1])[0]
    return None if math.isnan(o) else float(o)


def simulated_cell(shape, rng, cycles, n_runs, train_noise, probe_noise, n_seeds=3):
    """One cell's probe records, simulated: (cycles (C,), a (seeds, C) table per training run, the true
    onset in cycles or None). Every run follows one noiseless curve (flat: 3.0 nats throughout; else
    simulated_cycle_curve's shape) plus its own training noise at each checkpoint (Gaussian,
    train_noise nats, shared by the run's probe seeds) and its probe seeds' noise: a Gaussian per seed
    and checkpoint and an offset per seed shared by its checkpoints (common random numbers), both
    probe_noise nats."""
    cyc = np.arange(1, cycles + 1, dtype=float)
    if shape == "flat":
        fn, truth = (lambda c: np.full(np.shape(c), 3.0)), None
    else:
        fn = simulated_cycle_curve(shape, rng, cycles)
        truth = true_delta_onset(fn, cycles)
    tables = [fn(cyc)[None] + rng.normal(0.0, train_noise, (1, cycles)) + rng.normal(0.0, probe_noise, (n_seeds, cycles))
              + rng.normal(0.0, probe_noise, (n_seeds, 1)) for _ in range(n_runs)]
    return cyc, tables, truth


def calibrate_cells(lengths=(5, 8, 12, 25, 75), runs=(1, 2, 4), train_noises=(0.005, 0.01, 0.02), n_sets=200,
                    n_seeds=3, probe_noise=(0.002, 0.005), n_boot=200, seed=0):
    """The paper's onset (onset.estimate_delta_onset) on simulated cells: per (cycles, training runs,
    training noise), n_sets flat cells (no onset) and n_sets with a known onset (dip-rise and
    dip-bend in turn), the probe noise drawn uniformly from probe_noise per cell; the first run's
    onset is estimated, with the cell's runs as its noise model's replicates where there are 2 or
    more. One row per case: the fraction of flat cells with an established onset (seen, interval
    closed above), and on the true onsets the fraction seen, the fraction established, the coverage
    of the 95% interval among those seen (an interval open above covers a truth above its foot)
    and the median estimate / truth among those seen."""
    rng = np.random.default_rng(seed)
    rows = []
    for cycles in lengths:
        for n_runs in runs:
            for sigma in train_noises:
                flat = seen = estab = covered = 0
                ratios = []
                for i in range(2 * n_sets):
                    shape = "flat" if i < n_sets else DELTA_SHAPES[i % 2]
                    cyc, tables, truth = simulated_cell(shape, rng, cycles, n_runs, sigma,
                                                        rng.uniform(*probe_noise), n_seeds)
                    cell = [t.mean(0) for t in tables] if n_runs >= 2 else None
                    est = onset.estimate_delta_onset(cyc, tables[0], n_boot, seed=int(rng.integers(2 ** 31)), runs=cell)
                    established = not est["censored"] and est["interval"][1] is not None
                    if truth is None:
                        flat += established
                    elif not est["censored"]:
                        seen += 1
                        estab += established
                        lo, hi = est["interval"]
                        covered += lo <= truth and (hi is None or truth <= hi)
                        ratios.append(est["onset_tokens"] / truth)
                rows.append(dict(cycles=cycles, runs=n_runs, train_noise=sigma, n_sets=n_sets, flat_established=flat / n_sets,
                                 seen=seen / n_sets, established=estab / n_sets,
                                 coverage=covered / seen if seen else None,
                                 median_ratio=float(np.median(ratios)) if ratios else None))
    return rows


def cells_table(rows):
    """The rows of calibrate_cells() as a Markdown table."""
    out = ["| cycles | training runs | training noise (nats) | flat curves: onset established | true onsets: seen "
           "| established | 95% interval covers the truth (of those seen) | median estimate / truth |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cov = "–" if r["coverage"] is None else f"{r['coverage']:.1%}"
        ratio = "–" if r["median_ratio"] is None else f"{r['median_ratio']:.3f}"
        out.append(f"| {r['cycles']} | {r['runs']} | {r['train_noise']:g} | {r['flat_established']:.1%} | "
                   f"{r['seen']:.1%} | {r['established']:.1%} | {cov} | {ratio} |")
    return "\n".join(out)
