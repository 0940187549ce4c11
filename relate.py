"""
The checkpoint diagnostics (diagnostics.py, in each checkpoint's sidecar) read back: one number
per diagnostic and checkpoint (summary, table: onset.json keeps the table), and how each goes
with the probe metric across runs (relate: fit.py's report). Numbers only, no torch: fit.py and
report.py read them without importing it.
"""

import math

import numpy as np

SUMMARY = ("weight_norm", "embedding_norm", "dormant", "dormant_paper", "inactive", "mlp_rank", "final_rank",
           "attn_entropy", "attn_collapsed", "attn_collapsed_paper", "attn_lazy", "unseen_over_seen", "update_ratio",
           "grad_norm_mean")


def summary(d):
    """One number per diagnostic of a checkpoint's sidecar (None where it was not measured):
    attention and MLP weights' norm together, means over blocks and heads."""
    w, t = d["weights"], d["train"]

    def mean(v):
        v = [x for x in v if x is not None]
        return sum(v) / len(v) if v else None

    upd = [v for k, v in w.get("update_ratio", {}).items() if k.startswith(("attention", "mlp"))]
    return dict(weight_norm=math.sqrt(w["norm"].get("attention", 0) ** 2 + w["norm"].get("mlp", 0) ** 2),
                embedding_norm=w["norm"].get("embedding"), dormant=mean(t["dormant"]), inactive=mean(t["inactive"]),
                dormant_paper=mean(t.get("dormant_paper", [])), attn_lazy=mean(t.get("attn_lazy", [])),
                attn_collapsed_paper=mean(t.get("attn_collapsed_paper", [])),
                mlp_rank=mean(t["mlp_rank"]), final_rank=t["final_rank"],
                attn_entropy=mean([mean(h) for h in t["attn_entropy"]]), attn_collapsed=mean(t["attn_collapsed"]),
                unseen_over_seen=(d.get("tokens") or {}).get("unseen_over_seen"),
                update_ratio=mean(upd) if upd else None, grad_norm_mean=d.get("grad_norm_mean"))


def table(cards):
    """{"tokens": [...], name: [...]} from checkpoint sidecars (sorted by step) that have diagnostics."""
    cards = sorted((c for c in cards if "diagnostics" in c), key=lambda c: c["step"])
    rows = [summary(c["diagnostics"]) for c in cards]
    return dict(tokens=[c["tokens"] for c in cards], **{k: [r[k] for r in rows] for k in SUMMARY}) if cards else None


def merge(new, old):
    """A diagnostics table (as table() gives) with old's rows at the tokens new lacks: the checkpoints
    whose cards a run no longer has (a run extended from a kept copy) keep what was measured on them."""
    if not old:
        return new
    if not new:
        return old
    rows = {t: {k: old[k][i] for k in old if k != "tokens"} for i, t in enumerate(old["tokens"])}
    rows.update({t: {k: new[k][i] for k in new if k != "tokens"} for i, t in enumerate(new["tokens"])})
    keys = [k for k in new if k != "tokens"]
    tokens = sorted(rows)
    return dict(tokens=tokens, **{k: [rows[t].get(k) for t in tokens] for k in keys})


def spearman(a, b):
    """Rank correlation of two equal-length sequences (average ranks for ties)."""
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    sa, sb = math.sqrt(sum((x - ma) ** 2 for x in ra)), math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (sa * sb) if sa > 0 and sb > 0 else None


def relate(runs, n_boot=2000, seed=0):
    """How each diagnostic goes with the probe metric, across runs. runs: dicts with "diagnostics"
    (a table()), "tokens" and "curve" (the probe metric's seed mean at the probed checkpoints),
    "onset_tokens" (None when censored) and "best_tokens". Per diagnostic: the mean over runs of
    the within-run rank correlation with the probe metric (trained checkpoints both measured, at
    least 4), with a 95% bootstrap interval over runs (the independent unit); and, over runs with
    an onset, in how many the diagnostic was higher at the last checkpoint before the onset than
    at the best checkpoint (it rose before the onset). Over whole runs the correlation mostly
    follows training progress (both move while the probe improves); rho_after_best uses only
    the checkpoints from the best one on, where a loss of plasticity would show."""
    def rho_of(pairs):
        return spearman([p[0] for p in pairs], [p[1] for p in pairs]) if len(pairs) >= 4 else None

    def mean_ci(v, rng):
        if not v:
            return None, None
        boot = np.asarray(v)[rng.integers(0, len(v), (n_boot, len(v)))].mean(1)
        return float(np.mean(v)), [float(x) for x in np.percentile(boot, [2.5, 97.5])]

    out = {}
    for name in SUMMARY:
        rhos, after, rose, with_onset = [], [], 0, 0
        for r in runs:
            d = r.get("diagnostics")
            if not d:
                continue
            at = {t: v for t, v in zip(d["tokens"], d.get(name) or []) if v is not None and t > 0}
            pairs = [(at[t], m) for t, m in zip(r["tokens"], r["curve"]) if t in at]
            for v, rho in ((rhos, rho_of(pairs)), (after, rho_of([(a, m) for (a, m), t in zip(
                    pairs, [t for t in r["tokens"] if t in at]) if t >= r["best_tokens"]]))):
                if rho is not None:
                    v.append(rho)
            onset = r.get("onset_tokens")
            before = [t for t in at if r["best_tokens"] < t <= (onset or 0)]
            if onset is not None and r["best_tokens"] in at and before:
                with_onset += 1
                rose += at[max(before)] > at[r["best_tokens"]]
        if not rhos:
            continue
        rng = np.random.default_rng(seed)
        rho, rho_ci = mean_ci(rhos, rng)
        rho_after, rho_after_ci = mean_ci(after, rng)
        out[name] = dict(rho=rho, rho_ci=rho_ci, runs=len(rhos), rho_after_best=rho_after,
                         rho_after_best_ci=rho_after_ci, runs_after_best=len(after),
                         rose_before_onset=rose if with_onset else None, runs_with_onset=with_onset)
    return out


FRACTIONS = ("dormant", "dormant_paper", "inactive", "attn_collapsed", "attn_collapsed_paper", "attn_lazy")


def early_warning(runs):
    """Can a diagnostic warn of the onset before it comes? runs: dicts with "diagnostics" (a table()),
    "ref_tokens" (the checkpoint dAUC is measured from) and "onset_tokens" (an established onset;
    runs without one are left out). The rule, per diagnostic: warn at the first checkpoint after the
    reference where its change since the reference (relative; a difference for fractions) passes a
    threshold in a direction; direction and threshold are chosen on the other runs (the smallest
    median |log10(warning / onset)|) and applied to the run left out, from its own checkpoints, in
    order. Per diagnostic, over runs left out one at a time: the median error as a factor (10^median
    |log10|; a run never warned counts with its last checkpoint), the runs warned at or before their
    onset, and the same error for a rule without diagnostics (the geometric mean of the other runs'
    onsets) as the baseline a diagnostic must beat."""
    runs = [r for r in runs if r.get("diagnostics") and r.get("onset_tokens") and r.get("ref_tokens") is not None]
    if len(runs) < 3:
        return {}

    def changes(r, name):
        d = r["diagnostics"]
        at = {t: v for t, v in zip(d["tokens"], d.get(name) or []) if v is not None}
        ref = at.get(r["ref_tokens"])
        if ref is None:
            return None
        rel = name not in FRACTIONS and ref > 0
        return [(t, v / ref - 1 if rel else v - ref) for t, v in sorted(at.items()) if t > r["ref_tokens"]]

    def warned(series, sign, theta):
        return next((t for t, c in series if sign * c >= theta), None)

    def error(series, sign, theta, onset):
        t = warned(series, sign, theta) or series[-1][0]
        return abs(math.log10(t / onset))

    out = {}
    for name in SUMMARY:
        data = [(changes(r, name), r["onset_tokens"]) for r in runs]
        data = [(s, o) for s, o in data if s]
        if len(data) < 3:
            continue
        errs, early, base = [], 0, []
        for i, (series, onset) in enumerate(data):
            rest = data[:i] + data[i + 1:]
            rules = [(sign, sign * c) for sign in (1, -1) for s, _ in rest for _, c in s]
            sign, theta = min(rules, key=lambda rule: np.median([error(s, *rule, o) for s, o in rest]))
            errs.append(error(series, sign, theta, onset))
            t = warned(series, sign, theta)
            early += t is not None and t <= onset
            base.append(abs(math.log10(onset) - np.mean([math.log10(o) for _, o in rest])))
        out[name] = dict(error_factor=float(10 ** np.median(errs)), warned_early=early, runs=len(data),
                         baseline_factor=float(10 ** np.median(base)))
    return out
