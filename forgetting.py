"""
The forgetting law (Kalajdzievski 2024), fitted from the probe records of run directories.

From every best-lr probe record of a trained checkpoint: forgetting F at fine-tuning step S =
mean over training languages of the rise of their validation loss since step 0; P = trainable
parameters. Fit
    F = A * (P^a * S)^b + E        (A = exp(log A) > 0, b = exp(log b) > 0)
with a Huber loss by Levenberg-Marquardt from a grid of (a, b) starts; with one distinct P the
law is F = A * S^b + E. Uncertainty: a bootstrap over the independent units, runs within sizes
(every size stays present), then probe seeds within each run. Also the linear relation of
final forgetting to final learning (zero-shot minus final probe loss). Records of the step-0
checkpoint are left out (an untrained model has nothing to forget). fit.py calls
fit_forgetting_law; report.py draws the result.
"""

import numpy as np

from regression import huber_line, huber_loss, _irls_weights, interval, resample_runs


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


def fit_forgetting_law(runs, delta, starts, n_boot, rng, warn):
    """The law and its bootstrap intervals from fit.Run objects; warn(message) reports what was
    skipped or is degenerate. Returns (result for summary.json, the points for report.py)."""
    d = forgetting_points(runs)
    if d is None or np.unique(d["S"]).size < 2 or d["F"].size < 5:
        warn("forgetting law skipped: too few probe records with forgetting curves")
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
        warn(f"forgetting law: {notes[-1]}")
    if notes:
        result["note"] = "; ".join(notes)
    return result, d
