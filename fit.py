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
   (Long and Ervin 2000), because the onset's noise differs between sizes. Point estimate and
   interval are one statistic. A bootstrap with 3 runs per size undercovered (89% for a
   nominal 95%, and it excluded the truth when noise differed between sizes); this interval
   covers at >= 92% in
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
   at or beyond the run's last checkpoint). So is an onset that is not established: its
   interval is open above (2.5% or more of onset.py's bootstrap curves never rise), so the
   run does not show that the curve turns; its estimate is reported beside it. Where a group
   has such runs, least squares over the seen onsets is biased flat (the largest sizes enter
   only through their earliest onsets), so alpha is also fitted by censored maximum likelihood
   over all runs (regression.censored_line; `--calibrate` prints its bias and coverage), and
   that fit gives the verdict.

2. Forgetting law (Kalajdzievski 2024): F = A * (P^a * S)^b + E, fitted in forgetting.py from
   the runs' probe records (its docstring says how); the line fits and intervals both laws
   use are in regression.py.

Usage:
    python fit.py out/run_a out/run_b ... --out out/fit
        [--bootstrap 1000] [--seed 0] [--huber-delta 0.1] [--forget-huber-delta 0.02] [--starts 5]
    python fit.py --calibrate        # the onset law's fits on simulated censored studies
Directories without onset.json are skipped with a warning. Writes summary.json, report.md,
onset_vs_size.png, probe_curves.png and forgetting.png into --out (report.py draws and writes
them).
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass

import numpy as np

import relate
import report
import run_onset
import turn
from configurator import code_version
from forgetting import fit_forgetting_law
from regression import (alpha_difference_ci, bounds, calibrate_censored, censored_line, fit_power_law,
                        line_variance, t_interval)

CONFIG_KEYS = ("schedule", "corpus", "vocab_hash", "seed", "n_nonembed", "model")
PREDICT_N = (1e9, 7e9, 70e9)


def fail(message):
    raise SystemExit(f"fit.py: {message}")


def warn(message, warnings):
    print(f"fit.py: warning: {message}", file=sys.stderr)
    warnings.append(message)


# ----------------------------------------------------------------------------- loading

@dataclass
class Onset:
    tokens: float | None      # None when censored or not established (what the law is fitted on)
    last_tokens: float
    interval: list | None
    resolved: bool = True     # False: best at the first checkpoint, onset before the second
    tasks: float | None = None  # continual runs: the onset in tasks
    estimate: float | None = None  # onset.py's point estimate, also when it is not established
    open_above: bool = False  # an estimate whose interval is open above: fitted as censored

    @property
    def bound(self):
        """What a censored onset is known to exceed: the last checkpoint, or for an estimate that
        is not established the lower end of its interval."""
        return self.interval[0] if self.open_above else self.last_tokens


@dataclass
class Run:
    name: str
    path: str
    config: dict
    onsets: dict              # mode name -> Onset
    records: list             # probe.jsonl records with best_lr == true
    metric: str = "final"     # the probe metric the onsets were estimated from
    head: dict | None = None  # onset.json's head mode: tokens, mean_curve, onset_tokens, best_tokens
    diagnostics: dict | None = None  # onset.json's table of checkpoint diagnostics (relate.table)

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
    estimate = None if censored else float(entry["onset_tokens"])
    if estimate is not None and estimate <= 0:
        fail(f"{where} has a non-positive onset ({estimate}); an onset is a token count > 0, check "
             "probe.py's output for this run and rerun it")
    interval = entry.get("interval")
    open_above = estimate is not None and interval is not None and interval[1] is None
    if "last_tokens" not in entry:
        fail(f"{where} lacks last_tokens; rerun probe.py for this run")
    return Onset(None if open_above else estimate, float(entry["last_tokens"]), interval,
                 bool(entry.get("resolved", True)), entry.get("onset_tasks"), estimate, open_above)


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
    return run_onset.complete(records)  # records made before a metric existed get it from their curves


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
    metrics = sorted({f"{r.metric}/{r.head.get('definition', 'rise')}" for r in runs})
    if len(metrics) > 1:
        fail(f"runs' onsets come from different probe metrics or definitions ({', '.join(metrics)}); fix: "
             "recompute them with one: python probe.py --run_dir=<run> --onset_only=True --metric=M --definition=D")
    if unprobed:
        warn(f"{len(unprobed)} run(s) have no probe.jsonl and give no probe curves or forgetting: "
             f"{', '.join(unprobed)}", warnings)
    return runs


# ----------------------------------------------------------------------------- onset law

def verdict(ci):
    """Sublinearity from the 95% interval of alpha. An interval below 1 that reaches 0 or
    below does not show an onset growing with size at all, and says so."""
    if ci is None:
        return "inconclusive"
    lo, hi = bounds(ci)
    if lo <= 1 <= hi:
        return "inconclusive"
    if lo > 1:
        return "superlinear"
    if hi < 0:
        return "below 1, but decreasing: onset shrinks with size"
    if lo <= 0:
        return "below 1, but not shown to grow with size"
    return "sublinear"


def censored_fit(runs, mode):
    """alpha by censored maximum likelihood over every run of a group: onsets where seen, and
    for the others the bound their onset exceeds (regression.censored_line); None when fewer
    than 2 runs have an onset or all runs have one size."""
    onsets = [r.onsets[mode] for r in runs]
    cens = np.array([o.tokens is None for o in onsets])
    x = np.log([r.n for r in runs])
    if (~cens).sum() < 2 or np.unique(x).size < 2:
        return None
    y = np.log([o.bound if o.tokens is None else o.tokens for o in onsets])
    line = censored_line(x, y, cens)
    return {"alpha": line["m"], "alpha_ci": line["m_ci"], "log_a": line["c"], "scatter_sd": line["s"],
            "n_censored": int(cens.sum()), "n_runs": len(runs)}


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
    # with censored runs, least squares over the seen onsets is biased towards a flat line (the
    # largest sizes enter only through their earliest onsets): the verdict is the censored fit's
    cfit = censored_fit(runs, mode) if (~seen).any() else None
    law = "unresolved: fewer than 2 sizes have an onset that the checkpoint grid resolves" \
        if len(resolved_sizes) < 2 else verdict(cfit["alpha_ci"] if cfit else alpha_ci)
    predictions = []
    if law in ("sublinear", "superlinear") and cfit is None:  # extrapolating a law that is not established says nothing
        for n in PREDICT_N:
            v = np.array([1.0, np.log(n)])
            ci = t_interval(fit["log_a"] + fit["alpha"] * np.log(n), line_variance(covs, v), df)
            predictions.append({"N": n, "onset": predict(n), "ci": None if ci is None else np.exp(ci).tolist()})
    # a censored run only bounds its onset from below: the line agrees if it predicts an onset beyond that bound
    censored = [{"run": r.name, "N": r.n, "last_tokens": o.last_tokens, "bound": o.bound,
                 "predicted_onset": predict(r.n), "consistent": predict(r.n) >= o.bound}
                for r, o in zip(runs, onsets) if o.tokens is None]
    return {"schedule": schedule, "mode": mode, "n_runs": len(runs), "n_fitted": int(seen.sum()),
            "sizes": sorted(set(N[seen].tolist())), "alpha": fit["alpha"], "alpha_ci": alpha_ci,
            "alpha_se": None if alpha_var is None else float(np.sqrt(alpha_var)), "df": df,
            "log_a": fit["log_a"], "log_a_ci": log_a_ci, "a": float(np.exp(fit["log_a"])),
            "a_ci": None if log_a_ci is None else np.exp(log_a_ci).tolist(), "covs": covs,
            "alpha_huber": fit["alpha_huber"], "log_a_huber": fit["log_a_huber"],
            "start_spread": fit["start_spread"], "censored_fit": cfit,
            "verdict_from": "censored likelihood" if cfit else "least squares", "verdict": law, "unresolved": unresolved,
            "loso": loso, "predictions": predictions, "censored": censored}


def _group_points(runs, mode):
    return [{"run": r.name, "N": r.n, "onset": o.tokens, "tasks": o.tasks, "censored": o.tokens is None,
             "resolved": o.resolved, "last_tokens": o.last_tokens, "interval": o.interval,
             "estimate": o.estimate, "open_above": o.open_above, "bound": o.bound if o.tokens is None else None,
             "all_onsets": {name: {d: by_mode.get(mode) for d, by_mode in defs.items()}
                            for name, defs in (r.head or {}).get("onsets_by_metric", {}).items()}}
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
                            "censored_fit": censored_fit(members, mode), "runs": _group_points(members, mode)})
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
    if len({r.n for r in runs}) < 2:  # a study at one size (mitigations compared there): its runs, no law
        warn(f"all runs have one model size (N = {runs[0].n:.3g}): no onset law (a power law in N needs runs of 2 "
             "sizes or more); the runs, their onsets and their changes against cycle 1 are reported", warnings)
    elif not fitted:  # a result, not an error: no onset law is measurable from these runs
        warn("no (schedule, mode) group has onsets at 2 sizes or more: no onset law fitted; the runs "
             "and their censoring are reported; train longer to see onsets", warnings)
    for g in skipped:
        cf = g["censored_fit"]
        bound = "" if cf is None else (f"; with its censored runs, alpha by censored likelihood is {cf['alpha']:.3g} "
                                       f"{cf['alpha_ci']} (None: unbounded)")
        warn(f"group {g['schedule']}/{g['mode']} skipped: onsets at {len(g['sizes_with_onset'])} model "
             f"size(s), a fit needs 2 or more{bound}", warnings)
    by_key = {(g["schedule"], g["mode"]): g for g in fitted}
    comparisons = []
    for mode in sorted({m for _, m in by_key}):
        if ("continual", mode) in by_key and ("stationary", mode) in by_key:
            c, st = by_key["continual", mode], by_key["stationary", mode]
            ci = alpha_difference_ci(c, st)
            resolved = not any(g["verdict"].startswith("unresolved") for g in (c, st))
            comparisons.append({"mode": mode, "alpha_continual": c["alpha"], "alpha_stationary": st["alpha"],
                                "diff": c["alpha"] - st["alpha"], "diff_ci": ci, "both_resolved": resolved,
                                "excludes_zero": ci is not None and (ci[0] > 0 or ci[1] < 0),
                                "censored_present": any(g["censored_fit"] for g in (c, st))})
    return {"groups": fitted, "skipped": skipped, "schedule_comparison": comparisons}


# ----------------------------------------------------------------------------- outputs

def final_train_loss(run):
    """The training languages' validation loss at the run's last probed checkpoint (the probe
    measures it before fine-tuning, step 0 of its forgetting curves), mean over languages and
    seeds; None without probe records."""
    recs = [r for r in run.records if r.get("forget") and r.get("mode_name", "full") == "full"]
    if not recs:
        return None
    last = max(r["tokens"] for r in recs)
    return float(np.mean([np.mean([v[0] for v in r["forget"].values()]) for r in recs if r["tokens"] == last]))


def changes_against_reference(runs):
    """Per run (head mode, mean over probe seeds): every metric's change at every probed checkpoint
    against the checkpoint dAUC is measured from (cycle 1), in percent: what the onsets are read from,
    so a reader sees how far each run is from crossing (rows for report.md's table); and each
    metric's value at the last checkpoint (nats; mitigations.md compares them)."""
    rows = []
    for r in runs:
        mode = "full" if any(rec["mode_name"] == "full" for rec in r.records) else None
        by = {}
        for rec in r.records:
            if mode in (None, rec["mode_name"]):
                for key in run_onset.METRICS:
                    if rec.get(key) is not None:
                        by.setdefault(key, {}).setdefault(rec["tokens"], []).append(rec[key])
        tokens = sorted(by.get("auc", {}))
        if "task_tokens" not in r.config or "train_langs" not in r.config or not tokens:
            continue
        ref = run_onset.reference_tokens(tokens, r.config)
        rows.append(dict(run=r.name, N=r.n, schedule=r.config["schedule"], ref_tokens=ref, tokens=tokens,
                         cycles=[t / run_onset.cycle_tokens(r.config) for t in tokens],
                         change={k: [round(100 * (np.mean(v[t]) / np.mean(v[ref]) - 1), 2) if t in v else None
                                     for t in tokens] for k, v in by.items()},
                         last={k: round(float(np.mean(v[tokens[-1]])), 5) for k, v in by.items() if tokens[-1] in v}))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="*", help="run directories (out/<run>), e.g. out/*")
    p.add_argument("--out", default="out/fit", help="directory for summary.json, report.md and figures")
    p.add_argument("--arm", default="", help="the name these runs go by when arms are compared (report.py "
                   "--compare; sweep.py names each): default, the mitigation their config.json names")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (forgetting law)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--huber-delta", type=float, default=0.1, help="Huber delta on log onset residuals")
    p.add_argument("--forget-huber-delta", type=float, default=0.02,
                   help="Huber delta on forgetting residuals (nats)")
    p.add_argument("--starts", type=int, default=5, help="grid of starts: this many values per parameter")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a fit in --out that was made from other run directories (refused otherwise)")
    p.add_argument("--calibrate", action="store_true",
                   help="print the onset law's bias and coverage on simulated censored studies, and stop")
    args = p.parse_args(argv)
    if args.calibrate:
        print("simulated studies: 5 sizes 888-1,908 x 4 runs, stopped at 4e7 tokens (regression.calibrate_censored)")
        print(f"{'alpha':>6}{'sd':>5}{'censored':>10}{'studies':>8}  censored fit: median, coverage"
              "  | least squares over seen: median, coverage")
        for r in calibrate_censored():
            print(f"{r['alpha']:>6.1f}{r['sd']:>5.1f}{r['censored']:>10.2f}{r['studies']:>8}  "
                  f"{r['censored_fit_median']:>20.2f} {r['censored_fit_coverage']:>8.3f}  | "
                  f"{r['least_squares_median']:>30.2f} {r['least_squares_coverage']:>8.3f}")
        return None
    if args.bootstrap < 0 or args.starts < 1 or args.huber_delta <= 0 or args.forget_huber_delta <= 0:
        fail("--bootstrap must be >= 0, --starts >= 1 and the Huber deltas > 0")

    warnings = []
    runs = load_runs(args.runs, warnings)
    earlier = os.path.join(args.out, "summary.json")
    if os.path.exists(earlier) and not args.overwrite:
        before = sorted(os.path.normpath(i["dir"]) for i in _read_json(earlier)["inputs"])
        if before != sorted(os.path.normpath(r.path) for r in runs):
            fail(f"{args.out} holds a fit of {len(before)} other run directories ({earlier}); fix: a new --out for "
                 "this one, or --overwrite to replace it")
    rng = np.random.default_rng(args.seed)
    onset = fit_onset_law(runs, args.huber_delta, args.starts, warnings)
    forgetting, fdata = fit_forgetting_law(runs, args.forget_huber_delta, args.starts, args.bootstrap, rng,
                                           lambda message: warn(message, warnings))
    summary = {"inputs": [{"run": r.name, "dir": r.path, **{k: r.config[k] for k in CONFIG_KEYS},
                           "mitigation": r.config.get("mitigation", "none"), "final_train_loss": final_train_loss(r)}
                          for r in runs],
               "mitigation": args.arm or runs[0].config.get("mitigation", "none"),
               "metric": runs[0].metric, "definition": runs[0].head.get("definition", "rise"),
               "probe_kinds": sorted({r.head.get("probe_kind", "short (made before probe kinds were recorded)")
                                      for r in runs}),
               "corpus": runs[0].config["corpus"], "vocab_hash": runs[0].config["vocab_hash"],
               "options": {"bootstrap": args.bootstrap, "seed": args.seed, "huber_delta": args.huber_delta,
                           "forget_huber_delta": args.forget_huber_delta, "starts": args.starts},
               "code_version": code_version(), "onset": onset, "forgetting": forgetting, "warnings": warnings,
               "changes": changes_against_reference(runs),
               "turn": turn.turn_summary(runs),
               "diagnostics": relate.relate([dict(diagnostics=r.diagnostics, tokens=r.head.get("tokens", []),
                                                       curve=r.head.get("mean_curve", []),
                                                       onset_tokens=r.head.get("onset_tokens"),
                                                       best_tokens=r.head.get("best_tokens"))
                                                  for r in runs if r.diagnostics and r.head.get("mean_curve")]),
               "early_warning": relate.early_warning([dict(diagnostics=r.diagnostics, ref_tokens=r.head.get("ref_tokens"),
                                                           onset_tokens=r.head["onset_tokens"])
                                                      for r in runs if r.diagnostics and report.established(r.head)])}

    report.write_outputs(args.out, summary, runs, fdata)
    for g in onset["groups"]:
        ci = report.fmt_ci(g["alpha_ci"])
        cf = g["censored_fit"]
        print(f"{g['schedule']}/{g['mode']}: alpha = {g['alpha']:.3f} {ci}"
              + (f", censored likelihood {cf['alpha']:.3f} {report.fmt_open(cf['alpha_ci'])}" if cf else "")
              + f" -> {g['verdict']}")
    for law in summary["turn"]["laws"]:
        print(f"turn, {law['schedule']}: " + (law["note"] or f"alpha = {law['alpha']:.3f} {report.fmt_ci(law['alpha_ci'])}"))
    print(f"wrote {args.out}/summary.json, report.md and 5 figures")
    return summary


if __name__ == "__main__":
    main()
