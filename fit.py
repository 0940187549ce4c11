"""
The laws of the study, fitted from run directories that probe.py has measured.

1. Onset law (Hernandez-Garcia et al. 2026). Per (schedule, fine-tuning mode) group,
       log onset = log a + alpha * log N            (N = non-embedding parameters)
   by least squares over the runs, each run one point: its onset_tokens from onset.json
   (onset.py's bias-corrected estimate from all its checkpoints and probe seeds). The runs
   are the independent units, and their scatter around the line holds everything that
   varies between them (training seed, probe noise, the estimator's error), so the interval
   comes from that scatter: a t interval with n - 2 degrees of freedom around the slope, with
   the larger of the classical and the HC3 heteroscedasticity-consistent standard error
   (Long and Ervin 2000), because the onset's noise differs between sizes. Point estimate and interval are one statistic. A
   bootstrap with 3 runs per size undercovered (89% for a nominal 95%, and it excluded the
   truth when noise differed between sizes); this interval covers at >= 92% in
   tests/test_fit.py's simulated studies (5 sizes x 3 runs, onsets carrying the estimator's
   measured error). The same covariance gives intervals for log a, onsets predicted at large
   N (given only when the verdict establishes a law) and, with Welch-Satterthwaite degrees
   of freedom, the difference in alpha between schedules. A Huber fit (delta 0.1 in log
   onset, from a grid of --starts x --starts starts) is reported alongside as a check on
   single runs pulling the line. Verdict: sublinear if the alpha interval lies in (0, 1),
   superlinear if above 1, inconclusive otherwise; no verdict unless two sizes have a
   resolved onset. Leave-one-size-out refits with >= 3 sizes.
   Censored runs (no onset seen by their last checkpoint) are not fitted; they are listed,
   drawn as lower bounds and checked against the line (consistent if the predicted onset is
   at or beyond the run's last checkpoint).

2. Forgetting law (Kalajdzievski 2024). From every best-lr probe record of a trained
   checkpoint: forgetting F at fine-tuning step S = mean over training languages of the rise
   of their validation loss since step 0; P = trainable parameters. Fit
       F = A * (P^a * S)^b + E        (A = exp(log A) > 0, b = exp(log b) > 0)
   with a Huber loss by Levenberg-Marquardt from a grid of (a, b) starts; with one distinct P
   the law is F = A * S^b + E. Uncertainty: a bootstrap over the independent units, runs
   within sizes (every size stays present), then probe seeds within each run. Also the
   linear relation of final forgetting to final learning (zero-shot minus final probe loss).
   Records of the step-0 checkpoint are left out (an untrained model has nothing to forget).

Usage:
    python fit.py out/run_a out/run_b ... --out out/fit
        [--bootstrap 1000] [--seed 0] [--huber-delta 0.1] [--forget-huber-delta 0.02] [--starts 5]
Directories without onset.json are skipped with a warning. Writes summary.json, report.md,
onset_vs_size.png, probe_curves.png and forgetting.png into --out (report.py draws and writes
them).
"""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

import diagnostics
from onset import t_quantile

CONFIG_KEYS = ("schedule", "corpus", "vocab_hash", "seed", "n_nonembed", "model")
PREDICT_N = (1e9, 7e9, 70e9)
MIN_BOOT = 10  # with fewer valid bootstrap replicates no interval is reported


def fail(message):
    raise SystemExit(f"fit.py: {message}")


def warn(message, warnings):
    print(f"fit.py: warning: {message}", file=sys.stderr)
    warnings.append(message)


# ----------------------------------------------------------------------------- loading

@dataclass
class Onset:
    tokens: float | None      # None when censored
    last_tokens: float
    interval: list | None
    resolved: bool = True     # False: best at the first checkpoint, onset before the second
    tasks: float | None = None  # continual runs: the onset in tasks


@dataclass
class Run:
    name: str
    path: str
    config: dict
    onsets: dict              # mode name -> Onset
    records: list             # probe.jsonl records with best_lr == true
    metric: str = "final"     # the probe metric the onsets were estimated from
    head: dict | None = None  # onset.json's head mode: tokens, mean_curve, onset_tokens, best_tokens
    diagnostics: dict | None = None  # onset.json's table of checkpoint diagnostics (diagnostics.table)

    @property
    def n(self):
        return float(self.config["n_nonembed"])


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        fail(f"{path} is missing; every run directory needs it (rerun train.py/probe.py)")
    except json.JSONDecodeError as e:
        fail(f"{path} is not valid JSON ({e}); it may be half-written, rerun the script that wrote it")


def _parse_onset(entry, where):
    censored = bool(entry.get("censored")) or entry.get("onset_tokens") is None
    tokens = None if censored else float(entry["onset_tokens"])
    if tokens is not None and tokens <= 0:
        fail(f"{where} has a non-positive onset ({tokens}); an onset is a token count > 0, check "
             "probe.py's output for this run and rerun it")
    if "last_tokens" not in entry:
        fail(f"{where} lacks last_tokens; rerun probe.py for this run")
    return Onset(tokens, float(entry["last_tokens"]), entry.get("interval"), bool(entry.get("resolved", True)),
                 entry.get("onset_tasks"))


def _read_probe(path):
    records = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                fail(f"{path} line {i} is not valid JSON; rerun probe.py for this run")
            if record.get("best_lr"):
                records.append(record)
    return records


def load_runs(dirs, warnings=None):
    """Runs from directories written by train.py and probe.py; refuses mixed corpora or vocabularies."""
    warnings = [] if warnings is None else warnings
    runs, unprobed = [], []
    for d in sorted(dirs):  # the bootstrap draws by position: the same runs give the same numbers in any order
        if not os.path.isfile(os.path.join(d, "onset.json")):
            warn(f"{d} has no onset.json, skipped (run probe.py on it first)", warnings)
            continue
        config = _read_json(os.path.join(d, "config.json"))
        missing = [k for k in CONFIG_KEYS if k not in config]
        if missing:
            fail(f"{d}/config.json lacks {', '.join(missing)}; rerun train.py to write a full config")
        onset = _read_json(os.path.join(d, "onset.json"))
        name = onset.get("run") or os.path.basename(os.path.normpath(d))
        by_mode = onset.get("onsets_by_mode") or {onset.get("mode", "full"): onset}
        onsets = {m: _parse_onset(e, f"run {name} mode {m}") for m, e in by_mode.items()}
        if float(config["n_nonembed"]) <= 0:
            fail(f"{d}/config.json has n_nonembed {config['n_nonembed']}; it must be > 0")
        probe = os.path.join(d, "probe.jsonl")
        has_probe = os.path.isfile(probe)
        if not has_probe:
            unprobed.append(name)
        runs.append(Run(name, d, config, onsets, _read_probe(probe) if has_probe else [],
                        onset.get("metric", "final"), onset, onset.get("diagnostics")))
    if not runs:
        fail(f"no run directories with onset.json found among {list(dirs)}; pass the run "
             "directories written by train.py and probe.py, e.g. out/*")
    for key, what in (("corpus", "corpora"), ("vocab_hash", "vocabularies")):
        values = sorted({str(r.config[key]) for r in runs})
        if len(values) > 1:
            fail(f"runs mix {what} ({key}: {', '.join(values)}); onsets are comparable only on one "
                 "corpus and vocabulary, fit each set of runs separately")
    mits = sorted({r.config.get("mitigation", "none") for r in runs})
    if len(mits) > 1:
        fail(f"runs mix mitigations ({', '.join(mits)}); fix: fit each separately (sweep.py does), then compare "
             "the fits with python report.py --compare <fit dirs> --out <dir>")
    metrics = sorted({r.metric for r in runs})
    if len(metrics) > 1:
        fail(f"runs' onsets come from different probe metrics ({', '.join(metrics)}); fix: rerun probe.py on "
             "them with one --metric")
    if unprobed:
        warn(f"{len(unprobed)} run(s) have no probe.jsonl and give no probe curves or forgetting: "
             f"{', '.join(unprobed)}", warnings)
    return runs


# ----------------------------------------------------------------------------- robust fits

def huber_loss(r, delta, w):
    a = np.abs(r)
    with np.errstate(invalid="ignore"):  # delta = inf makes the unused branch inf - inf
        return (w * np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))).sum(-1)


def _irls_weights(r, delta, w):
    # psi(r) / r for the Huber loss; 1 inside delta, so delta = inf gives least squares
    return w * np.minimum(1.0, delta / np.maximum(np.abs(r), 1e-300))


def huber_line(x, y, w, delta, start, iters=500, tol=1e-12):
    """Huber regression y ~ c + m x by IRLS, batched over the leading axes of y, w and start.

    x: (n,); y, w: (..., n) (w = 0 drops a point); start: (..., 2) as (c, m).
    Returns (params (..., 2), loss (...)); NaN where the weighted x has < 2 distinct values.
    """
    batch = np.broadcast_shapes(np.shape(start)[:-1], np.shape(y)[:-1])
    params = np.array(np.broadcast_to(start, batch + (2,)), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(iters):
            omega = _irls_weights(y - params[..., :1] - params[..., 1:] * x, delta, w)
            s0, s1, s2 = omega.sum(-1), (omega * x).sum(-1), (omega * x * x).sum(-1)
            t0, t1 = (omega * y).sum(-1), (omega * x * y).sum(-1)
            det = s0 * s2 - s1 * s1
            slope = np.where(det > 1e-9 * s0 * s2, (s0 * t1 - s1 * t0) / det, np.nan)
            new = np.stack([(t0 - slope * s1) / s0, slope], -1)
            change = np.abs(new - params)
            params = new
            if np.max(change, where=np.isfinite(change), initial=0.0) < tol:
                break
        loss = huber_loss(y - params[..., :1] - params[..., 1:] * x, delta, w)
    return params, loss


def ols_line(x, y):
    """Least squares y ~ c + m x; returns (c, m), the classical and the HC3 covariance of (c, m)
    (None when n < 3 or a point has leverage 1: no residual to learn from), and n - 2."""
    X = np.stack([np.ones_like(x), x], 1)
    XtXi = np.linalg.inv(X.T @ X)
    beta = XtXi @ X.T @ y
    r = y - X @ beta
    lev = np.einsum("ij,jk,ik->i", X, XtXi, X)
    covs = None
    if x.size >= 3 and lev.max() < 1 - 1e-9:
        covs = [r @ r / (x.size - 2) * XtXi, XtXi @ (X.T @ (X * (r / (1 - lev))[:, None] ** 2)) @ XtXi]
    return beta, covs, x.size - 2


def line_variance(covs, v):
    """Variance of v . (log a, alpha): the larger of the classical and the HC3 estimate. HC3 alone
    is noisy with 15 runs (it can be half the classical one on homoscedastic data); the classical
    one misses noise that differs between sizes. The larger one covers in both cases (test_fit)."""
    return None if covs is None else max(float(v @ c @ v) for c in covs)


def fit_power_law(logN, logy, delta=0.1, starts=5):
    """Fit log y = log a + alpha log N by least squares (with the classical and HC3 covariances
    and the degrees of freedom), and by a Huber loss from a grid of starts x starts as a check."""
    x, y = np.asarray(logN, float), np.asarray(logy, float)
    if np.unique(x).size < 2:
        raise ValueError("a power law needs points at 2 distinct sizes or more")
    (log_a, alpha), covs, df = ols_line(x, y)
    alpha0, offset = np.meshgrid(np.linspace(0.0, 2.0, starts), np.linspace(-3.0, 3.0, starts))
    grid = np.stack([np.median(y) - alpha0 * np.median(x) + offset, alpha0], -1).reshape(-1, 2)
    params, loss = huber_line(x, y, np.ones_like(y), delta, grid)
    best = int(np.nanargmin(loss))
    return {"log_a": float(log_a), "alpha": float(alpha), "covs": covs, "df": df,
            "log_a_huber": float(params[best, 0]), "alpha_huber": float(params[best, 1]),
            "start_spread": float(np.nanmax(np.abs(params[:, 1] - params[best, 1])))}


def t_interval(estimate, variance, df):
    """95% t interval, or None without a variance or degrees of freedom."""
    if variance is None or df < 1 or not np.isfinite(variance):
        return None
    half = t_quantile(0.975, df) * float(np.sqrt(max(variance, 0.0)))
    return [float(estimate - half), float(estimate + half)]


def forgetting_law(params, P, S):
    """F = A * (P^a * S)^b + E, evaluated in logs."""
    with np.errstate(divide="ignore"):  # A = 0 (a degenerate fit) gives the constant E
        z = np.log(params["A"]) + params["b"] * (params["a"] * np.log(P) + np.log(S))
    return np.exp(z) + params["E"]


def _lm_huber(theta, free, resid_jac, w, delta, iters=300):
    """Levenberg-Marquardt on the Huber loss: IRLS-weighted Gauss-Newton steps, damped until the loss falls."""
    r, J = resid_jac(theta)
    loss, lam = huber_loss(r, delta, w), 1e-3
    for _ in range(iters):
        omega = _irls_weights(r, delta, w)
        Jf = J[:, free]
        H, g = Jf.T @ (omega[:, None] * Jf), Jf.T @ (omega * r)
        while lam < 1e12:
            trial = theta.copy()
            trial[free] -= np.linalg.solve(H + lam * np.diag(np.diag(H) + 1e-12), g)
            with np.errstate(over="ignore", invalid="ignore"):  # a wild trial may overflow
                r_t, J_t = resid_jac(trial)
                loss_t = huber_loss(r_t, delta, w)
            if loss_t < loss:  # False for nan, so such a trial is rejected
                break
            lam *= 4
        else:
            break  # no damping makes progress: at a minimum
        done = loss - loss_t <= 1e-12 * loss
        theta, r, J, loss, lam = trial, r_t, J_t, loss_t, max(lam / 3, 1e-12)
        if done:
            break
    return theta, loss


def fit_forgetting(P, S, F, delta=0.02, starts=5, weights=None, start=None):
    """Fit F = A (P^a S)^b + E (or A S^b + E with one distinct P) with a Huber loss.

    Starts from a grid of (a, b), with A and E by least squares for each; `start` (a previous
    result) replaces the grid, as in the bootstrap. Returns dict A, a, b, E, loss, form.
    """
    P, S, F = (np.asarray(v, float) for v in (P, S, F))
    w = np.ones_like(F) if weights is None else np.asarray(weights, float)
    # Logs are centred so that log A is not tied to b through the large mean of log(P^a S).
    mlp, mls = np.log(P).mean(), np.log(S).mean()
    lp, ls = np.log(P) - mlp, np.log(S) - mls
    fit_a = np.unique(P).size > 1
    free = np.array([True, fit_a, True, True])

    def resid_jac(theta):  # theta = (centred log A, a, log b, E)
        b = np.exp(theta[2])
        u = theta[1] * lp + ls
        g = np.exp(np.clip(theta[0] + b * u, -700, 700))
        return g + theta[3] - F, np.stack([g, g * b * lp, g * b * u, np.ones_like(g)], 1)

    if start is not None:
        a0 = start["a"] if fit_a else 0.0
        logA_c = np.log(start["A"]) + start["b"] * (a0 * mlp + mls)
        thetas = [np.array([logA_c, a0, np.log(start["b"]), start["E"]])]
    else:
        thetas = []
        for a0 in (np.linspace(-1.0, 1.0, starts) if fit_a else [0.0]):
            for b0 in np.geomspace(0.05, 2.0, starts):
                (E0, A0), _ = huber_line(np.exp(b0 * (a0 * lp + ls)), F, w, np.inf, [0.0, 0.0])
                thetas.append(np.array([np.log(max(A0, 1e-6)), a0, np.log(b0), E0]))
    best = min((_lm_huber(t, free, resid_jac, w, delta) for t in thetas), key=lambda tl: tl[1])
    (logA_c, a, logb, E), loss = best
    b = np.exp(logb)
    return {"A": float(np.exp(logA_c - b * (a * mlp + mls))), "a": float(a), "b": float(b), "E": float(E),
            "loss": float(loss), "form": "A*(P^a*S)^b+E" if fit_a else "A*S^b+E"}


# ----------------------------------------------------------------------------- bootstrap

def resample_runs(sizes, rng):
    """Run indices drawn with replacement within each model size; position i keeps size sizes[i]."""
    sizes = np.asarray(sizes)
    idx = np.arange(sizes.size)
    for s in np.unique(sizes):
        members = np.flatnonzero(sizes == s)
        idx[members] = rng.choice(members, size=members.size)
    return idx


def interval(samples):
    """95% percentile interval of the finite samples, or None when too few replicates succeeded."""
    s = np.asarray(samples, float)
    s = s[np.isfinite(s)]
    return [float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))] if s.size >= MIN_BOOT else None


def verdict(ci):
    """Sublinearity from the 95% interval of alpha. An interval below 1 that reaches 0 or
    below does not show an onset growing with size at all, and says so."""
    if ci is None or ci[0] <= 1 <= ci[1]:
        return "inconclusive"
    if ci[0] > 1:
        return "superlinear"
    if ci[1] < 0:
        return "below 1, but decreasing: onset shrinks with size"
    if ci[0] <= 0:
        return "below 1, but not shown to grow with size"
    return "sublinear"


# ----------------------------------------------------------------------------- onset law

def fit_onset_group(schedule, mode, runs, delta, starts):
    onsets = [r.onsets[mode] for r in runs]
    N = np.array([r.n for r in runs])
    seen = np.array([o.tokens is not None for o in onsets])
    x, logy = np.log(N), np.log([o.tokens if o.tokens is not None else 1.0 for o in onsets])
    fit = fit_power_law(x[seen], logy[seen], delta, starts)
    covs, df = fit["covs"], fit["df"]
    alpha_var = line_variance(covs, np.array([0.0, 1.0]))
    alpha_ci = t_interval(fit["alpha"], alpha_var, df)
    log_a_ci = t_interval(fit["log_a"], line_variance(covs, np.array([1.0, 0.0])), df)

    def predict(n):
        return float(np.exp(fit["log_a"] + fit["alpha"] * np.log(n)))

    loso = []
    if np.unique(N[seen]).size >= 3:
        for held in np.unique(N[seen]):
            keep, out = seen & (N != held), seen & (N == held)
            refit = fit_power_law(x[keep], logy[keep], delta, starts)
            miss = np.mean(logy[out] - refit["log_a"] - refit["alpha"] * x[out])
            loso.append({"held_out_N": held, "alpha": refit["alpha"], "log_a": refit["log_a"],
                         "observed_over_predicted": float(np.exp(miss))})
    unresolved = [r.name for r, o in zip(runs, onsets) if o.tokens is not None and not o.resolved]
    resolved_sizes = {r.n for r, o in zip(runs, onsets) if o.tokens is not None and o.resolved}
    law = "unresolved: fewer than 2 sizes have an onset that the checkpoint grid resolves" \
        if len(resolved_sizes) < 2 else verdict(alpha_ci)
    predictions = []
    if law in ("sublinear", "superlinear"):  # extrapolating a law that is not established says nothing
        for n in PREDICT_N:
            v = np.array([1.0, np.log(n)])
            ci = t_interval(fit["log_a"] + fit["alpha"] * np.log(n), line_variance(covs, v), df)
            predictions.append({"N": n, "onset": predict(n), "ci": None if ci is None else np.exp(ci).tolist()})
    # a censored run only bounds its onset from below: the line agrees if it predicts an onset beyond that bound
    censored = [{"run": r.name, "N": r.n, "last_tokens": o.last_tokens, "predicted_onset": predict(r.n),
                 "consistent": predict(r.n) >= o.last_tokens}
                for r, o in zip(runs, onsets) if o.tokens is None]
    return {"schedule": schedule, "mode": mode, "n_runs": len(runs), "n_fitted": int(seen.sum()),
            "sizes": sorted(set(N[seen].tolist())), "alpha": fit["alpha"], "alpha_ci": alpha_ci,
            "alpha_se": None if alpha_var is None else float(np.sqrt(alpha_var)), "df": df,
            "log_a": fit["log_a"], "log_a_ci": log_a_ci, "a": float(np.exp(fit["log_a"])),
            "a_ci": None if log_a_ci is None else np.exp(log_a_ci).tolist(), "covs": covs,
            "alpha_huber": fit["alpha_huber"], "log_a_huber": fit["log_a_huber"],
            "start_spread": fit["start_spread"], "verdict": law, "unresolved": unresolved,
            "loso": loso, "predictions": predictions, "censored": censored}


def _group_points(runs, mode):
    return [{"run": r.name, "N": r.n, "onset": o.tokens, "tasks": o.tasks, "censored": o.tokens is None,
             "resolved": o.resolved, "last_tokens": o.last_tokens, "interval": o.interval}
            for r, o in ((r, r.onsets[mode]) for r in runs)]


def fit_onset_law(runs, delta, starts, warnings):
    """Fit every (schedule, mode) group with onsets at >= 2 sizes."""
    groups = {}
    for r in runs:
        for mode in r.onsets:
            groups.setdefault((r.config["schedule"], mode), []).append(r)
    fitted, skipped = [], []
    for (schedule, mode), members in sorted(groups.items()):
        sizes = sorted({r.n for r in members if r.onsets[mode].tokens is not None})
        if len(sizes) < 2:
            skipped.append({"schedule": schedule, "mode": mode, "sizes_with_onset": sizes,
                            "runs": _group_points(members, mode)})
            continue
        result = fit_onset_group(schedule, mode, members, delta, starts)
        result["runs"] = _group_points(members, mode)
        counts = np.unique([r.n for r in members], return_counts=True)
        result["single_run_sizes"] = counts[0][counts[1] == 1].tolist()
        if result["single_run_sizes"]:
            warn(f"group {schedule}/{mode}: {len(result['single_run_sizes'])} size(s) have a single run; the "
                 "interval of alpha sees run-to-run variation only through the scatter between sizes", warnings)
        if result["unresolved"]:
            warn(f"group {schedule}/{mode}: {len(result['unresolved'])} run(s) have their onset between the first two "
                 "checkpoints, after a best at the first: the checkpoint grid bounds these onsets but does not "
                 "resolve them, so alpha measures the grid; add earlier checkpoints", warnings)
        fitted.append(result)
    if len({r.n for r in runs}) < 2:
        fail(f"all runs have one model size (N = {runs[0].n:.3g}): fewer than 2 distinct model sizes; "
             "a power law in N needs runs of 2 sizes or more")
    if not fitted:  # a result, not an error: no onset law is measurable from these runs
        warn("no (schedule, mode) group has onsets at 2 sizes or more: no onset law fitted; the runs "
             "and their censoring are reported; train longer to see onsets", warnings)
    for g in skipped:
        warn(f"group {g['schedule']}/{g['mode']} skipped: onsets at {len(g['sizes_with_onset'])} model "
             "size(s), a fit needs 2 or more", warnings)
    by_key = {(g["schedule"], g["mode"]): g for g in fitted}
    comparisons = []
    for mode in sorted({m for _, m in by_key}):
        if ("continual", mode) in by_key and ("stationary", mode) in by_key:
            c, st = by_key["continual", mode], by_key["stationary", mode]
            ci = alpha_difference_ci(c, st)
            resolved = not any(g["verdict"].startswith("unresolved") for g in (c, st))
            comparisons.append({"mode": mode, "alpha_continual": c["alpha"], "alpha_stationary": st["alpha"],
                                "diff": c["alpha"] - st["alpha"], "diff_ci": ci, "both_resolved": resolved,
                                "excludes_zero": ci is not None and (ci[0] > 0 or ci[1] < 0)})
    return {"groups": fitted, "skipped": skipped, "schedule_comparison": comparisons}


def alpha_difference_ci(g1, g2):
    """95% interval of alpha1 - alpha2 for two independently fitted groups (Welch-Satterthwaite
    degrees of freedom), or None when either has no standard error."""
    if g1["alpha_se"] is None or g2["alpha_se"] is None or min(g1["df"], g2["df"]) < 1:
        return None
    v1, v2 = g1["alpha_se"] ** 2, g2["alpha_se"] ** 2
    df = (v1 + v2) ** 2 / (v1 ** 2 / g1["df"] + v2 ** 2 / g2["df"]) if v1 + v2 > 0 else 1
    return t_interval(g1["alpha"] - g2["alpha"], v1 + v2, int(df))


# ----------------------------------------------------------------------------- forgetting law

def forgetting_points(runs):
    """(P, S, F) points from best-lr records of trained checkpoints, and per-record final values.

    Records of the step-0 checkpoint are left out: at initialisation nothing has been learnt,
    so the rise of the training languages' loss there is not forgetting.
    """
    pts, recs = [], []
    for ri, r in enumerate(runs):
        for rec in r.records:
            if rec["ckpt_step"] == 0 or not rec.get("forget"):
                continue
            steps = np.asarray(rec["eval_steps"], float)
            rise = np.mean([np.asarray(v, float) - v[0] for v in rec["forget"].values()], axis=0)
            k = len(recs)
            pts += [(rec["trainable_params"], s, f, k) for s, f in zip(steps[1:], rise[1:]) if s > 0]
            recs.append((ri, rec["seed"], r.n, rec["curve"][0] - rec["curve"][-1], rise[-1]))
    if not pts:
        return None
    P, S, F, rec_of_pt = (np.array(c) for c in zip(*pts))
    run_of, seed_of, size_of, learn, final = (np.array(c) for c in zip(*recs))
    return {"P": P, "S": S, "F": F, "rec_of_pt": rec_of_pt.astype(int), "run_of": run_of.astype(int),
            "seed_of": seed_of, "size_of_run": {int(i): n for i, n in zip(run_of, size_of)},
            "learn": learn, "final": final}


def _replicate_weights(d, rng):
    """Per-record multiplicity in one replicate: runs within sizes, then probe seeds within each run."""
    run_ids = np.array(sorted(d["size_of_run"]))
    w = np.zeros(d["run_of"].size)
    for i in run_ids[resample_runs([d["size_of_run"][i] for i in run_ids], rng)]:
        in_run = d["run_of"] == i
        seeds = np.unique(d["seed_of"][in_run])
        for s in rng.choice(seeds, size=seeds.size):
            w[in_run & (d["seed_of"] == s)] += 1
    return w


def fit_forgetting_law(runs, delta, starts, n_boot, rng, warnings):
    d = forgetting_points(runs)
    if d is None or np.unique(d["S"]).size < 2 or d["F"].size < 5:
        warn("forgetting law skipped: too few probe records with forgetting curves", warnings)
        return {"skipped": "too few probe records with forgetting curves"}, None
    fit = fit_forgetting(d["P"], d["S"], d["F"], delta, starts)
    names = ("A", "a", "b", "E")
    flat = fit["b"] < 0.05  # F does not grow with S: the law is degenerate, its replicates would be too
    reps, slopes = [], []
    for _ in range(n_boot):
        w = _replicate_weights(d, rng)
        if not flat:
            rep = fit_forgetting(d["P"], d["S"], d["F"], delta, weights=w[d["rec_of_pt"]], start=fit)
            reps.append([rep[k] for k in names])
        slopes.append(huber_line(d["learn"], d["final"], w, np.inf, [0.0, 0.0])[0][1])
    reps = np.array(reps).reshape(-1, 4)
    (d0, c), _ = huber_line(d["learn"], d["final"], np.ones_like(d["final"]), np.inf, [0.0, 0.0])
    resid = d["final"] - d0 - c * d["learn"]
    r2 = 1.0 - resid.var() / d["final"].var() if d["final"].var() > 0 else float("nan")
    distinct_P = sorted(set(d["P"].tolist()))
    result = {"form": fit["form"], "params": {k: fit[k] for k in names},
              "ci": {k: None if flat else interval(reps[:, i]) for i, k in enumerate(names)},
              "huber_delta": delta, "n_points": int(d["F"].size), "n_records": int(d["final"].size),
              "n_runs": len(d["size_of_run"]), "distinct_P": distinct_P,
              "linear": {"c": float(c), "d": float(d0), "r2": float(r2), "c_ci": interval(slopes)}}
    notes = []
    if len(distinct_P) == 1:
        notes.append("only one distinct P: fitted F = A*S^b + E (a is not identifiable, reported as 0)")
    def mean_F(P, S):
        return d["F"][(d["P"] == P) & (d["S"] == S)].mean()

    steps = {P: d["S"][d["P"] == P] for P in distinct_P}
    rising = sum(mean_F(P, s.max()) > mean_F(P, s.min()) for P, s in steps.items())
    result["rises_with_S"] = f"{rising} of {len(distinct_P)}"
    if flat:
        ab = f", only a*b = {fit['a'] * fit['b']:.3g}, the exponent of P" if fit["b"] > 1e-12 else \
            "; the fit reduces to a constant"
        notes.append(f"b = {fit['b']:.2g} is near 0: forgetting does not grow as a power of the fine-tuning steps "
                     f"here (it rises from the first to the last evaluated step for {rising} of {len(distinct_P)} "
                     f"P); a and b are then not separately identified{ab}; no intervals are given")
        warn(f"forgetting law: {notes[-1]}", warnings)
    if notes:
        result["note"] = "; ".join(notes)
    return result, d


def final_train_loss(run):
    """The training languages' validation loss at the run's last probed checkpoint (the probe
    measures it before fine-tuning, step 0 of its forgetting curves), mean over languages and
    seeds; None without probe records."""
    recs = [r for r in run.records if r.get("forget") and r.get("mode_name", "full") == "full"]
    if not recs:
        return None
    last = max(r["tokens"] for r in recs)
    return float(np.mean([np.mean([v[0] for v in r["forget"].values()]) for r in recs if r["tokens"] == last]))


def _code_version():
    try:
        return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="*", help="run directories (out/<run>), e.g. out/*")
    p.add_argument("--out", default="out/fit", help="directory for summary.json, report.md and figures")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (forgetting law)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--huber-delta", type=float, default=0.1, help="Huber delta on log onset residuals")
    p.add_argument("--forget-huber-delta", type=float, default=0.02,
                   help="Huber delta on forgetting residuals (nats)")
    p.add_argument("--starts", type=int, default=5, help="grid of starts: this many values per parameter")
    args = p.parse_args(argv)
    if args.bootstrap < 0 or args.starts < 1 or args.huber_delta <= 0 or args.forget_huber_delta <= 0:
        fail("--bootstrap must be >= 0, --starts >= 1 and the Huber deltas > 0")

    warnings = []
    runs = load_runs(args.runs, warnings)
    rng = np.random.default_rng(args.seed)
    onset = fit_onset_law(runs, args.huber_delta, args.starts, warnings)
    forgetting, fdata = fit_forgetting_law(runs, args.forget_huber_delta, args.starts, args.bootstrap, rng,
                                           warnings)
    summary = {"inputs": [{"run": r.name, "dir": r.path, **{k: r.config[k] for k in CONFIG_KEYS},
                           "mitigation": r.config.get("mitigation", "none"), "final_train_loss": final_train_loss(r)}
                          for r in runs],
               "mitigation": runs[0].config.get("mitigation", "none"),
               "corpus": runs[0].config["corpus"], "vocab_hash": runs[0].config["vocab_hash"],
               "options": {"bootstrap": args.bootstrap, "seed": args.seed, "huber_delta": args.huber_delta,
                           "forget_huber_delta": args.forget_huber_delta, "starts": args.starts},
               "code_version": _code_version(), "onset": onset, "forgetting": forgetting, "warnings": warnings,
               "diagnostics": diagnostics.relate([dict(diagnostics=r.diagnostics, tokens=r.head.get("tokens", []),
                                                       curve=r.head.get("mean_curve", []),
                                                       onset_tokens=r.head.get("onset_tokens"),
                                                       best_tokens=r.head.get("best_tokens"))
                                                  for r in runs if r.diagnostics and r.head.get("mean_curve")])}

    import report  # figures and report.md; imported here because it uses the law functions above

    report.write_outputs(args.out, summary, runs, fdata)
    for g in onset["groups"]:
        ci = report.fmt_ci(g["alpha_ci"])
        print(f"{g['schedule']}/{g['mode']}: alpha = {g['alpha']:.3f} {ci} -> {g['verdict']}")
    print(f"wrote {args.out}/summary.json, report.md and 3 figures")
    return summary


if __name__ == "__main__":
    main()
