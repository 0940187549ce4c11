"""
The onset of plasticity loss, estimated from a run's probe curves (how far to believe it:
calibration.py).

    python probe.py --calibrate        # bias and coverage on simulated probe curves

probe.py measures, for every checkpoint and probe seed, how well the checkpoint learns the
probe language (a number in nats, lower is better). The onset is where that number, as a
function of training tokens, rises more than `tol` nats above its minimum: the first
training-token count after the best checkpoint at which the checkpoint learns measurably
worse than the best one did.

Why this estimator. Taking the minimum of the noisy seed-mean points and then the first
point above it by tol is biased early: the minimum of noisy points is too low, and one noisy
point triggers the crossing (at 0.05 nats of per-seed noise the old estimator put the onset
at 0.53 of the truth, its interval over 3 seeds covered the truth 21% of the time, and it
found an onset in half of the curves that only ever improve).
So this estimator uses all checkpoints and seeds together:

1. Noise model from the seeds. The seed-to-seed variance at each checkpoint, with each
   seed's offset removed (probe seeds are common random numbers: a seed that is lucky on
   one checkpoint is lucky on all, which cannot move the onset), pooled over the `window`
   neighbouring checkpoints on each side (3 seeds alone give 2 degrees of freedom per
   point, far too few; pooling over neighbours follows the noise as it changes during
   training). With a single seed, the noise comes from the curve's own roughness (second
   differences; Rice 1984).
2. A smooth curve. Local linear regression in log10 tokens with a Gaussian kernel,
   weighted by the inverse noise variance; the bandwidth is chosen from a grid (0.5 to 5
   checkpoint spacings) by Stein's unbiased risk estimate with the noise of step 1, so a
   precise curve is smoothed little and a noisy one more. The onset is read off the smooth
   curve (its minimum, then the first crossing of minimum + tol, interpolated in log tokens).
3. A parametric bootstrap: new seed means drawn around the smooth curve with the noise of
   step 1, inflated by t(df)/z for the uncertainty of the noise estimate, each smoothed with
   its own bandwidth choice, each giving an onset (or none: +inf). The median offset of the
   replicates from the point estimate estimates the estimator's bias; point and interval
   are corrected by it when at least half the replicates see an onset. (Measuring that bias
   at the uninflated noise instead under-corrects: coverage fell to 91% on the plateau
   curves at 0.05 nats, 81% at 0.08.) The 95% percentile interval is then widened by half a
   checkpoint spacing on each side: a kink between two checkpoints cannot be placed more
   finely than the grid (a prototype without it covered 86% on the plateau curves at 0.005
   nats).
   Why not resample the probe seeds themselves: 3 seeds give 10 distinct resamples and a
   variance of the mean too small by a factor (S - 1) / S; the noise model of step 1 pools
   them over neighbouring checkpoints instead. Training runs, the other independent unit,
   are resampled where they belong: fit.py treats each run's onset as one unit.
4. Censored when the smooth curve never rises by tol after its minimum; unresolved when the
   best checkpoint is the first and the onset lies before the second (the grid bounds such
   an onset but does not measure it).

The paper's onset (estimate_delta_onset, dAUC against cycle 1) reads cycle-end checkpoints, a
few to a few dozen, whose training noise (5-30 times the probe seeds' in results/study-docs) the
probe seeds cannot see: its noise model (cycle_noise) measures that noise from the cell's other
training runs, else from the run's own cycle ends, else it does not establish an onset.

Measured bias and coverage: calibration.py, printed by `python probe.py --calibrate` and asserted
by tests/test_calibration.py; the README and docs/protocol.md have the tables.
"""

import functools
import math

import numpy as np

Z975 = 1.959963984540054
BANDWIDTHS = (0.5, 0.8, 1.2, 1.7, 2.5, 3.5, 5.0)  # in checkpoint spacings (log10 tokens)


@functools.lru_cache(maxsize=1024)
def t_quantile(p, df):
    """Student-t quantile (numpy only): bisection on the CDF, integrated from the density; cached,
    since a fit asks for the same few (p, df) hundreds of times (its bootstrap, leave-one-out)."""
    if df <= 0:
        return math.inf
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    logc = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def cdf(t):
        u = np.linspace(0.0, t, 4001)
        dens = np.exp(logc - (df + 1) / 2 * np.log1p(u * u / df))
        return 0.5 + float(np.sum((dens[1:] + dens[:-1]) * np.diff(u)) / 2)

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def smoother_matrix(x, h, w):
    """Local linear regression with a Gaussian kernel of bandwidth h and weights w: the
    (C, C) matrix that maps values at x to the smooth curve at x."""
    d = x[None, :] - x[:, None]  # d[i, j] = x_j - x_i
    k = np.exp(-0.5 * (d / h) ** 2) * w[None, :]
    s0, s1, s2 = k.sum(1), (k * d).sum(1), (k * d * d).sum(1)
    s2 = s2 + 1e-9 * s0 * h * h  # a point alone in its window: slope 0, the point itself
    return k * (s2[:, None] - s1[:, None] * d) / (s0 * s2 - s1 * s1)[:, None]


D4 = np.array([1.0, -4.0, 6.0, -4.0, 1.0])  # fourth differences: blind to a curve's local cubic trend
CHI2_1_MEDIAN = 0.45493642311957
LEVEL = 99  # percentile of the null above which the checkpoint term is added
VAR_FLOOR = 1e-12  # the least variance of a seed mean (nats^2): seeds that agree exactly measure none


def seed_variance(table, window=3):
    """table (..., S, C) -> (variance of the seed mean at each checkpoint (..., C), degrees of
    freedom): the seed x checkpoint residual variance (each seed's offset removed) in a window of
    2 * window + 1 checkpoints, divided by S."""
    S, C = table.shape[-2:]
    var, dfs = np.empty(table.shape[:-2] + (C,)), []
    for c in range(C):
        w = table[..., max(0, c - window):c + window + 1]
        r = w - w.mean(-2, keepdims=True) - w.mean(-1, keepdims=True) + w.mean((-2, -1), keepdims=True)
        dfs.append((S - 1) * (w.shape[-1] - 1))
        var[..., c] = (r * r).sum((-2, -1)) / max(dfs[-1], 1)
    return var / S, min(dfs)


def roughness_ratio(mean, var):
    """(..., C) seed means and their probe-seed variance -> the median squared fourth difference of
    the means over what probe-seed noise alone would give (about 1 when that is all there is)."""
    C = mean.shape[-1]
    d4 = sum(w * mean[..., k:C - 4 + k] for k, w in enumerate(D4))
    expected = sum(w * w * var[..., k:C - 4 + k] for k, w in enumerate(D4))
    return np.median(d4 * d4 / expected, -1) / CHI2_1_MEDIAN, expected


@functools.lru_cache(maxsize=None)
def null_ratio(S, C, window=3, n=2000):
    """The LEVEL-th percentile of roughness_ratio when probe-seed noise is all there is, with the
    seed variance estimated as noise_variance does (Monte Carlo, fixed seed: the same answer
    every time)."""
    tables = np.random.default_rng([S, C, window]).standard_normal((n, S, C))
    ratio, _ = roughness_ratio(tables.mean(-2), seed_variance(tables, window)[0])
    return float(np.percentile(ratio, LEVEL))


def noise_variance(table, window=3):
    """(variance of the seed mean at each checkpoint, degrees of freedom, checkpoint share).

    Two kinds of noise move a checkpoint's seed mean off the curve that training tokens trace:
    - Probe-seed noise. Probe seeds are common random numbers: seed s fine-tunes every
      checkpoint on the same batches, so part of its deviation is an offset shared by all
      checkpoints, which shifts the minimum and the crossing alike and cannot move the onset.
      The noise that matters is what is left after removing each seed's offset (seed_variance).
    - Checkpoint noise, shared by all the seeds of one checkpoint: where in the language cycle
      it was saved, its last batches, its training seed. More probe seeds cannot average it
      away (results/archive/pilot-phase measured it at 10x the probe-seed noise). Its variance is what
      the seed means' fourth differences along the checkpoints hold beyond the probe-seed
      noise: fourth differences cancel a curve that is locally cubic in checkpoint index, and
      their median (a chi-square quantile) is not moved by the few that straddle a kink. The
      term is added only when their ratio to what probe-seed noise alone gives exceeds the 99th
      percentile of that ratio under probe-seed noise alone (null_ratio), so a precise curve is
      not widened by a term that is not there. (With a 95th-percentile test against a null that
      took the seed variance as known, 3-5% of curves without checkpoint noise got the term, and
      their later onsets lowered the coverage of alpha in the fit's calibration, tests/test_fit.py,
      from 0.93-0.97 to 0.90-0.95 over four seeds of that study; with this test, 0.925-0.97.)
    With a single seed, both come from the curve's roughness (second differences; Rice 1984).
    The checkpoint share is the fraction of the total variance that is checkpoint noise."""
    S, C = table.shape
    if S < 2:
        if C < 3:
            return None, 0, 0.0
        d2 = np.diff(table[0], 2)
        return np.full(C, float(np.mean(d2 * d2)) / 6), C - 2, 0.0
    var, df = seed_variance(table, window)
    var = np.maximum(var, VAR_FLOOR)  # seeds that agree exactly (the loss before fine-tuning): no 0/0 below
    if C < 8:  # too few fourth differences to tell checkpoint noise from the curve
        return var, df, 0.0
    ratio, expected = roughness_ratio(table.mean(0), var)
    if ratio <= null_ratio(S, C, window):
        return var, df, 0.0
    nugget = (ratio - 1.0) * float(np.median(expected)) / float(D4 @ D4)
    df_nugget = max(1, (C - 4) // 2)  # fourth differences overlap: about half as many independent ones
    total = var + nugget
    df = int(min(df, np.floor(np.min(total ** 2 / (var ** 2 / max(df, 1) + nugget ** 2 / df_nugget)))))  # Satterthwaite
    return total, max(df, 1), float(np.mean(nugget / total))


MIN_CHECKPOINTS = 5  # a run alone: fewer cycle ends (the reference among them) cannot measure its training noise
TOO_FEW = "too few checkpoints"


def cycle_noise(table, runs=None, window=3):
    """The noise model of the paper's onset: (variance of the run's seed mean at each checkpoint,
    degrees of freedom, the training-noise share of it, where the training noise was measured).

    A cycle-end checkpoint carries the noise of its training run (where in the stream it stopped,
    its last batches, its seed) on top of the probe seeds' (seed_variance), and more probe seeds
    cannot average it away: cycle to cycle it was 5-30 times the probe-seed noise in
    results/study-docs. It is measured, whatever the number of checkpoints:
    - from the cell's training seeds where there are 2 or more (runs: (R, C) seed means at the same
      checkpoints, this run's among them): the run x checkpoint residual variance of the seed means,
      each run's offset and each checkpoint's mean removed, (R - 1)(C - 1) degrees of freedom. The
      training run is the replicate; the probe seeds are nested in it.
    - else from the run's own checkpoints, with MIN_CHECKPOINTS or more: the second differences of
      its seed means (Rice 1984), C - 2 degrees of freedom; a curve's bend adds to them, which errs
      wide.
    - else not at all (source TOO_FEW): the onset can be seen but not established.
    Either measure holds the probe-seed noise too; what it holds beyond this run's probe-seed
    variance is added to it, with Satterthwaite's degrees of freedom. The rule was chosen on
    simulated flat curves and curves with known onsets (calibration.calibrate_cells): a fourth-
    difference term added only past a 99% test, as noise_variance does for the rise, established an
    onset on a quarter of flat 5-cycle curves and 8% of 8-cycle ones."""
    S, C = table.shape
    var, df = seed_variance(table, window) if S >= 2 else (np.zeros(C), 0)
    if runs is not None and len(runs) >= 2:
        M = np.asarray(runs, dtype=float)
        if M.shape[1] != C:
            raise ValueError(f"cycle_noise: runs has {M.shape[1]} checkpoints, the run {C}; fix: the cell's runs at "
                             "this run's checkpoints")
        r = M - M.mean(0) - M.mean(1, keepdims=True) + M.mean()
        df_run = (len(M) - 1) * (C - 1)
        total, source = float((r * r).sum()) / df_run, f"training seeds ({len(M)} runs)"
    elif C >= MIN_CHECKPOINTS:
        d2 = np.diff(table.mean(0), 2)
        total, df_run, source = float(np.mean(d2 * d2)) / 6, C - 2, "checkpoints"
    else:
        return var, df, 0.0, TOO_FEW
    nugget = max(0.0, total - float(np.mean(var)))
    if nugget <= 0.0:
        return var, df, 0.0, source
    total = var + nugget
    df = int(np.floor(np.min(total ** 2 / (var ** 2 / max(df, 1) + nugget ** 2 / df_run))))  # Satterthwaite
    return total, max(df, 1), float(np.mean(nugget / total)), source


def crossings(x, F, tol):
    """For each row of F (R, C): the first x where the row exceeds its running minimum (the best
    value before that point) by tol, interpolated linearly (NaN where it never does), and the
    index of that best value (of the global minimum where it never does). A running minimum, not
    the global one: a later dip must not erase an earlier rise."""
    R, C = F.shape
    rows = np.arange(R)
    best_before = np.minimum.accumulate(F, 1)  # best_before[:, j]: the best of columns 0..j
    level = np.concatenate([np.full((R, 1), np.inf), best_before[:, :-1] + tol], 1)  # before column j
    above = F > level
    seen = above.any(1)
    j = np.where(seen, np.argmax(above, 1), 1)
    before = np.where(np.arange(C)[None, :] < j[:, None], F, np.inf)  # the columns before the crossing
    best = np.where(seen, np.argmin(before, 1), np.argmin(F, 1))
    lvl, a, b = level[rows, j], F[rows, j - 1], F[rows, j]
    frac = np.clip((lvl - a) / np.where(b > a, b - a, 1.0), 0.0, 1.0)
    return best, np.where(seen, x[j - 1] + frac * (x[j] - x[j - 1]), np.nan)


def stays_above(x, F, level):
    """For each row of F (R, C), from its first column on: the x after which the row stays above
    level (R,) to its end, interpolated linearly between the last column at or below it and the
    next; NaN where the last column is not above it."""
    R, C = F.shape
    rows = np.arange(R)
    below = F <= level[:, None]
    k = C - 1 - np.argmax(below[:, ::-1], 1)  # the last column at or below the level
    k = np.where(below.any(1), k, 0)
    ok = k < C - 1
    k1 = np.minimum(k + 1, C - 1)
    a, b = F[rows, k], F[rows, k1]
    frac = np.clip((level - a) / np.where(b > a, b - a, 1.0), 0.0, 1.0)
    return np.where(ok, x[k] + frac * (x[k1] - x[k]), np.nan)


def crossing_level(x, f, level, start):
    """First x after index start where the curve f exceeds level, interpolated; None if never."""
    for j in range(start + 1, len(f)):
        if f[j] > level:
            frac = 0.0 if f[j - 1] > level else (level - f[j - 1]) / (f[j] - f[j - 1])
            return float(x[j - 1] + frac * (x[j] - x[j - 1]))
    return None


class Smoother:
    """The smooth curve of step 2, for any number of replicate seed means at once."""

    def __init__(self, x, var):
        spacing = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
        self.w = 1.0 / var
        self.H = np.stack([smoother_matrix(x, b * spacing, self.w) for b in BANDWIDTHS])  # (K, C, C)
        self.trace = np.trace(self.H, axis1=1, axis2=2)
        self.spacing = spacing

    def __call__(self, Y):
        """Y (R, C) -> (smooth curves (R, C), chosen bandwidth index (R,))."""
        F = np.einsum("kij,rj->rki", self.H, Y)
        risk = ((Y[:, None, :] - F) ** 2 * self.w).sum(-1) + 2 * self.trace  # SURE up to a constant
        k = np.argmin(risk, 1)
        return F[np.arange(len(Y)), k], k


def checkpoint_table(tokens, table, least, who):
    """(tokens, table) as float arrays, checked: tokens positive and increasing, the table (seeds,
    checkpoints) with at least `least` checkpoints; a ValueError naming `who` otherwise."""
    tokens = np.asarray(tokens, dtype=float)
    table = np.atleast_2d(np.asarray(table, dtype=float))
    if tokens.ndim != 1 or table.shape[1] != tokens.size or tokens.size < least:
        raise ValueError(f"{who} needs " + ("the reference and >= 2 later checkpoints" if least == 3 else
                                           f">= {least} checkpoints") + ", and a (seeds, checkpoints) table")
    if np.any(tokens <= 0) or np.any(np.diff(tokens) <= 0):
        raise ValueError("checkpoint tokens must be positive and increasing")
    return tokens, table


def estimate_onset(tokens, table, scratch=None, tol=0.05, n_boot=1000, seed=0, window=3):
    """tokens: (C,) training tokens of the checkpoints (> 0, increasing); table: (S, C) probe
    metric per seed and checkpoint; scratch: (S,) the from-scratch (step 0) metric, or None.
    Returns a dict; onset_tokens is None when censored."""
    tokens, table = checkpoint_table(tokens, table, 2, "estimate_onset")
    x = np.log10(tokens)
    mean = table.mean(0)
    var, df, nugget_share = noise_variance(table, window)
    if var is None:
        var = np.full(x.size, VAR_FLOOR)
    var = np.maximum(var, VAR_FLOOR)  # identical seeds: no measurable noise
    smooth = Smoother(x, var)
    f, k = smooth(mean[None])
    best, point = crossings(x, f, tol)
    best, point, f = int(best[0]), float(point[0]), f[0]

    point, interval, censored_fraction, shift = bootstrap(
        x, f, var, df, point, lambda R: crossings(x, smooth(R)[0], tol)[1], n_boot, seed)
    if interval is not None:
        interval = [round(float(10 ** interval[0]), 3), None if interval[1] is None else round(float(10 ** interval[1]), 3)]
    censored = math.isnan(point)
    resolved = not (not censored and best == 0 and point <= x[1])
    cross = None if scratch is None else crossing_level(x, f, float(np.mean(scratch)), best)
    return dict(onset_tokens=None if censored else float(10 ** point), censored=censored, resolved=resolved,
                interval=None if censored else interval, censored_fraction=censored_fraction,
                last_tokens=float(tokens[-1]), best_tokens=float(tokens[best]), tol=tol,
                scratch_cross_tokens=None if cross is None else float(10 ** cross),
                smooth_curve=[float(v) for v in f], bandwidth_decades=float(BANDWIDTHS[int(k[0])] * smooth.spacing),
                noise_sd=[float(v) for v in np.sqrt(var * table.shape[0])], noise_df=int(df),
                checkpoint_noise_share=nugget_share,
                bias_correction_decades=-shift, estimator="smooth-bootstrap", definition="rise")


def bootstrap(x, f, var, df, point, onsets_of, n_boot, seed):
    """Step 3 of the estimators: replicate seed means around the smooth curve f with the noise
    var (inflated by t(df)/z), each smoothed and read by onsets_of (R, C) -> (R,) onsets in x
    (NaN: none). Returns (bias-corrected point, 95% interval in tokens [lo, hi or None], fraction
    of replicates without an onset, the bias removed). The interval always holds the point."""
    interval, censored_fraction, shift = None, float(math.isnan(point)), 0.0
    if n_boot > 0 and df > 0:
        rng = np.random.default_rng(seed)
        inflate = t_quantile(0.975, df) / Z975
        boot = onsets_of(f + rng.standard_normal((n_boot, x.size)) * np.sqrt(var) * inflate)
        boot = np.where(np.isnan(boot), np.inf, boot)
        censored_fraction = float(np.mean(np.isinf(boot)))
        raw = point
        if not math.isnan(point) and censored_fraction < 0.5:
            shift = float(np.median(boot)) - point
            point = min(max(point - shift, x[0]), x[-1])
        lo, hi = np.percentile(boot, [2.5, 97.5], method="inverted_cdf") - shift
        if not math.isnan(raw):
            # the interval holds the point, corrected or not: where the replicates miss the point altogether
            # (noise too small to move them, so that they measure the smoother's distortion of a step rather
            # than the estimate's spread: the loss before fine-tuning, equal in every probe seed), the
            # correction moved the point as far outside the replicates as they lay from it
            lo, hi = min(lo, raw, point), max(hi, raw, point)
        spacing = np.diff(x)
        j_lo = min(max(int(np.searchsorted(x, lo)), 1), x.size - 1)
        j_hi = min(max(int(np.searchsorted(x, hi)), 1), x.size - 1) if math.isfinite(hi) else None
        lo = max(lo - 0.5 * spacing[j_lo - 1], x[0])
        hi = min(hi + 0.5 * spacing[j_hi - 1], x[-1]) if j_hi is not None else math.inf
        interval = [lo, hi if math.isfinite(hi) else None]
    return point, interval, censored_fraction, shift


def estimate_delta_onset(tokens, table, n_boot=1000, seed=0, window=3, runs=None):
    """The paper's onset: tokens (C,) increasing, the first one the reference (cycle 1); table
    (S, C) the probe metric per seed from the reference on. dAUC_k = 100 (AUC_k / AUC_ref - 1);
    the onset is where it turns positive and stays so to the last checkpoint: on the smooth
    curve of step 2 (in tokens, not log tokens: the checkpoints are cycle ends, evenly spaced),
    the crossing of the reference's measured seed mean after which it stays above, with the
    bootstrap interval of step 3. The measured reference, not the smooth curve's value there:
    at the first checkpoint a smoother averages in the fall that follows cycle 1, so the level
    came out too low and onsets too early (on 75 simulated cycles the interval covered 80-88%;
    with the measured level, 96-100%). Censored when the curve ends at or below the reference; open above (not
    established) when only the last checkpoint is above it, or when the noise cannot be measured
    (cycle_noise: one run with fewer than MIN_CHECKPOINTS). runs: (R, C) seed means of the cell's
    training runs at these checkpoints, this run's among them (see cycle_noise), or None.
    Calibrated by calibration.calibrate_cells()."""
    tokens, table = checkpoint_table(tokens, table, 3, "estimate_delta_onset")
    x = tokens / tokens[0]  # in units of the reference's tokens: cycles, when it is cycle 1
    mean = table.mean(0)
    var, df, nugget_share, source = cycle_noise(table, runs, window)
    var = np.maximum(var, VAR_FLOOR)
    smooth = Smoother(x, var)

    def onsets_of(R):
        return stays_above(x, smooth(R)[0], R[:, 0])

    f, k = smooth(mean[None])
    point = float(stays_above(x, f, mean[:1])[0])
    f = f[0]
    point, interval, censored_fraction, shift = bootstrap(x, f, var, df, point, onsets_of, n_boot, seed)
    censored = math.isnan(point)
    if not censored and source == TOO_FEW:
        interval = [x[0] if interval is None else interval[0], None]  # no measure of the training noise: not established
    if not censored and interval is not None and point > x[-2]:
        # above the reference at the last checkpoint only: one checkpoint cannot show that it stays
        # so (a 522-parameter run crossed at its fifth cycle end and fell back below for 20 more)
        interval = [interval[0], None]
    ref = float(tokens[0])
    return dict(onset_tokens=None if censored else point * ref, censored=censored,
                resolved=bool(censored or point > x[1]),
                interval=None if censored or interval is None else
                [round(interval[0] * ref, 3), None if interval[1] is None else round(interval[1] * ref, 3)],
                censored_fraction=censored_fraction, last_tokens=float(tokens[-1]), ref_tokens=ref,
                best_tokens=float(tokens[int(np.argmin(f))]),
                ref_level=float(mean[0]), delta_smooth=[float(100 * (v / mean[0] - 1)) for v in f],
                smooth_curve=[float(v) for v in f],
                noise_sd=[float(v) for v in np.sqrt(var * table.shape[0])], noise_df=int(df),
                checkpoint_noise_share=nugget_share, noise_source=source, bias_correction=-shift * ref,
                estimator="smooth-bootstrap", definition="delta")


def smallest_sustained(tokens, table, runs=None, n_boot=300, share=0.25, top=50.0):
    """The power of the paper's onset on one run: the smallest dAUC (%) from which on every larger one,
    sustained over the last `share` of its checkpoints (at least 2), estimate_delta_onset establishes
    on this run's own data and noise. The run's seed values at those checkpoints are moved so that their
    mean lies that far above the reference, and the cell's other runs (runs) by the same amounts, so
    that every deviation the noise model measures is kept. A grid (0.1 points to 10%, coarser to `top`),
    not a bisection: whether a step is established need not grow with its size (a step can move the
    smooth crossing past the second-last checkpoint, where it is open above), and the first size from
    which on it always is is what a reader can rely on. None when `top` is not established (too few
    checkpoints: TOO_FEW)."""
    tokens, table = checkpoint_table(tokens, table, 3, "smallest_sustained")
    k = max(2, int(round(share * (len(tokens) - 1))))
    mean = table.mean(0)
    runs = None if runs is None else np.asarray(runs, float)

    def established(d):
        step = np.zeros(len(tokens))
        step[-k:] = mean[0] * (1 + d / 100) - mean[-k:]
        est = estimate_delta_onset(tokens, table + step, n_boot, runs=None if runs is None else runs + step)
        return not est["censored"] and est["interval"] is not None and est["interval"][1] is not None

    grid = [round(0.1 * i, 1) for i in range(1, 101)] + [12.0, 15.0, 20.0, 30.0, top]
    found = None
    for d in reversed(grid):
        if not established(d):
            break
        found = d
    return found
