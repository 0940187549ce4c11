"""
Arms against none: each mitigation's (or protection's) fit set against the fit of the runs without
one, as `python report.py --compare <fit dirs> --out <dir>` writes it (mitigations.md and
mitigations.json; sweep.py runs it for a study of several arms).

    compare_mitigations  per arm and (schedule, mode): the onset ratio to none at every size, alpha and
                         its difference from none's, how the last checkpoint learns, the training-loss cost
    seed_effects         per arm and size, paired over training seeds with none (a study gives every arm
                         the same seeds: the same initialisation and data order): the dAUC at the last
                         checkpoint, its difference from none's and the AUC against none's, each with a
                         95% t interval over seeds; the onsets established and their shift in tasks
"""

import json
import os

import numpy as np

import regression
from figures import fmt, fmt_ci, fmt_open
from onset import t_quantile
from report import _jsonable, established, write_atomic


def compare_mitigations(summaries):
    """{mitigation: fit summary} (one fit per mitigation, "none" among them) -> one row per
    mitigation and (schedule, mode) group that "none" has too: the onset ratio to "none" at every
    size (geometric means over runs; None where either saw no onset), alpha and its difference from
    "none" with a 95% interval (Welch), and the training-loss cost (the training languages' loss
    at the last checkpoint, mean over runs, minus that of "none")."""
    if "none" not in summaries:
        raise SystemExit("report.py: the comparison needs the fit of the runs without mitigation (none); "
                         "fix: add its fit directory")

    def groups(s):
        return {(g["schedule"], g["mode"]): g for g in s["onset"]["groups"] + s["onset"]["skipped"]}

    def by_size(g):
        """N -> (geometric mean over runs, runs with an onset, runs): a censored run enters with its
        bound, so the mean is a lower bound on the runs' mean onset unless every run saw one."""
        sizes = {}
        for p in g["runs"]:
            sizes.setdefault(p["N"], []).append(p["bound"] if p["censored"] else p["onset"])
        seen = {}
        for p in g["runs"]:
            seen[p["N"]] = seen.get(p["N"], 0) + (not p["censored"])
        return {n: (float(np.exp(np.mean(np.log(v)))), seen[n], len(v)) for n, v in sizes.items()}

    def ratio(m, b):
        """The onset ratio at one size and what it is: = (all runs saw onsets), >= (only the
        mitigation's runs have censored ones), <= (only the baseline's), None (both)."""
        if m is None or b is None or (m[1] < m[2] and b[1] < b[2]):
            return None, None
        return m[0] / b[0], "=" if m[1] == m[2] and b[1] == b[2] else (">=" if m[1] < m[2] else "<=")

    def loss(s, schedule):
        v = [i["final_train_loss"] for i in s["inputs"] if i["schedule"] == schedule and i.get("final_train_loss")]
        return float(np.mean(v)) if v else None

    def learning(s, schedule):
        """Over the runs of a schedule: the mean AUC at the last checkpoint (nats) and the mean
        dAUC there against cycle 1 (%), from fit.changes_against_reference; (None, None) without."""
        rows = [c for c in s.get("changes", []) if c["schedule"] == schedule and c.get("last", {}).get("auc")]
        if not rows:
            return None, None
        return float(np.mean([c["last"]["auc"] for c in rows])), float(np.mean([c["change"]["auc"][-1] for c in rows]))

    base, rows = groups(summaries["none"]), []
    for mit, s in sorted(summaries.items()):
        if mit == "none":
            continue
        for key, g in sorted(groups(s).items()):
            b = base.get(key)
            if b is None:
                continue
            on_g, on_b = by_size(g), by_size(b)
            # alphas differenced only by least squares without censored runs (with them it is biased)
            fitted = "alpha" in g and "alpha" in b and not (g.get("censored_fit") or b.get("censored_fit"))
            ci = regression.alpha_difference_ci(g, b) if fitted else None
            lg, lb = loss(s, key[0]), loss(summaries["none"], key[0])
            sizes = sorted(set(on_g) | set(on_b))
            ratios = {n: ratio(on_g.get(n), on_b.get(n)) for n in sizes}
            cf = g.get("censored_fit")
            (auc_g, dauc_g), (auc_b, dauc_b) = learning(s, key[0]), learning(summaries["none"], key[0])
            rows.append(dict(mitigation=mit, schedule=key[0], mode=key[1],
                             auc_vs_none=None if auc_g is None or auc_b is None else 100 * (auc_g / auc_b - 1),
                             dauc=dauc_g, dauc_none=dauc_b,
                             onset_ratio={n: v[0] for n, v in ratios.items()},
                             onset_ratio_kind={n: v[1] for n, v in ratios.items()},
                             onsets_seen={n: f"{on_g[n][1]}/{on_g[n][2]}" for n in on_g},
                             alpha=cf["alpha"] if cf else g.get("alpha"),
                             alpha_ci=cf["alpha_ci"] if cf else g.get("alpha_ci"),
                             alpha_from="censored likelihood" if cf else "least squares", alpha_none=b.get("alpha"),
                             verdict=g.get("verdict", "no law: onsets at fewer than 2 sizes"),
                             diff=g["alpha"] - b["alpha"] if fitted else None, diff_ci=ci,
                             excludes_zero=ci is not None and (ci[0] > 0 or ci[1] < 0),
                             loss_cost=None if lg is None or lb is None else lg - lb))
    return rows


def comparison_table(rows):
    out = ["| mitigation | schedule / mode | AUC at the last checkpoint vs none | dAUC there vs cycle 1 (none's) | "
           "onset ratio to none, per size N | alpha [95%] | alpha - alpha(none) [95%] | verdict | training-loss cost "
           "(nats) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        kinds, seen = r.get("onset_ratio_kind", {}), r.get("onsets_seen", {})
        ratios = ", ".join(f"{fmt(n)}: " + ("–" if v is None else ("" if kinds.get(n, "=") == "=" else kinds[n])
                                             + f"{v:.2f}") + (f" ({seen[n]})" if n in seen else "")
                           for n, v in r["onset_ratio"].items())
        alpha = "–" if r["alpha"] is None else f"{r['alpha']:.3f} {fmt_open(r['alpha_ci'])}" + (
            " (censored lik.)" if r.get("alpha_from") == "censored likelihood" else "")
        diff = "–" if r["diff"] is None else f"{r['diff']:+.3f} {fmt_ci(r['diff_ci'])}" + (
            " (excludes 0)" if r["excludes_zero"] else "")
        cost = "–" if r["loss_cost"] is None else f"{r['loss_cost']:+.3f}"
        auc = "–" if r.get("auc_vs_none") is None else f"{r['auc_vs_none']:+.2f}%"
        dauc = "–" if r.get("dauc") is None else f"{r['dauc']:+.2f}% ({r['dauc_none']:+.2f}%)"
        out.append(f"| {r['mitigation']} | {r['schedule']} / {r['mode']} | {auc} | {dauc} | {ratios} | {alpha} | "
                   f"{diff} | {r['verdict']} | {cost} |")
    return "\n".join(out)


def write_comparison(out, fit_dirs):
    """mitigations.md and mitigations.json in out, from the summary.json of each fit directory."""
    summaries = {}
    for d in fit_dirs:
        path = os.path.join(d, "summary.json")
        if not os.path.isfile(path):
            raise SystemExit(f"report.py: {path} is missing; fix: run fit.py into {d} first")
        s = json.load(open(path))
        summaries[s.get("mitigation", "none")] = s
    rows, paired = compare_mitigations(summaries), seed_effects(summaries)
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "mitigations.md"),
                 "# Mitigations against none\n\nOne fit per mitigation (" + ", ".join(f"`{d}`" for d in fit_dirs)
                 + "). Per (schedule, fine-tuning mode): how the last checkpoint learns the probe language, the "
                 "AUC of its fine-tuning with the mitigation against without (mean over runs and probe seeds; "
                 "negative: it learns better) and its dAUC against cycle 1 (mean over runs; without the mitigation "
                 "in brackets); the onset with the mitigation over the onset without, at "
                 "every size (geometric means over runs, a run without an onset entering with its bound: >= where "
                 "only the mitigation's runs have such, <= where only the baseline's, – where both; in brackets the "
                 "mitigation's runs with an onset), alpha with its 95% interval (by censored likelihood where runs "
                 "are censored), its difference from alpha without (Welch interval; least squares, so only without "
                 "censored runs), the verdict, and the training-loss cost (the "
                 "training languages' loss at the last checkpoint, mean over runs, minus that without; positive is "
                 "worse).\n\n" + comparison_table(rows) + "\n\n## Paired over training seeds\n\nEach arm's runs "
                 "set against none's of the same training seed (the same initialisation and data order) and size: "
                 "the dAUC at the last checkpoint against each run's own reference (cycle 1), the arm's minus "
                 "none's, and the AUC there against none's (positive: the arm learns worse), each a mean over "
                 "seeds with its 95% t interval; the onsets of the head metric (the paper's definition) "
                 "established, with their median in tasks, and their mean shift where every run of both has "
                 "one.\n\n" + seed_effects_table(paired) + "\n")
    write_atomic(os.path.join(out, "mitigations.json"),
                 json.dumps(_jsonable(dict(fits=rows, paired=paired)), indent=2, allow_nan=False))
    return rows


def mean_ci(values):
    """(mean, [low, high]) with the 95% t interval over the values (independent units); the interval
    is None with fewer than two."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return float(v.mean()) if len(v) else None, None
    half = t_quantile(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), [float(v.mean() - half), float(v.mean() + half)]


def seed_effects(summaries):
    """{arm: fit summary} -> one row per arm (not none) and (schedule, size N) that none has too, its
    runs paired with none's by training seed: the arm's dAUC at the last checkpoint (% against its own
    reference) with its 95% interval over seeds, its difference from none's (paired), the AUC at the
    last checkpoint against none's (%, paired), and the head metric's onsets (the paper's definition)
    established over runs with their median in tasks and, where every run of both has one, the mean
    shift in tasks (paired). Runs whose seed none lacks are left out (counted in `unpaired`)."""
    if "none" not in summaries:
        raise SystemExit("report.py: the comparison needs the fit of the runs without mitigation (none); "
                         "fix: add its fit directory")

    def per_run(s):
        """{(schedule, N, seed): (dAUC at the last checkpoint, AUC there, onset in tasks or None)}."""
        seed = {i["run"]: i["seed"] for i in s["inputs"]}
        onsets = {}
        for g in s["onset"]["groups"] + s["onset"]["skipped"]:
            for p in g["runs"]:
                o = p.get("all_onsets", {}).get(s.get("metric", "auc"), {}).get("delta")
                onsets[p["run"]] = o["onset_tasks"] if established(o) else None
        return {(c["schedule"], c["N"], seed[c["run"]]): (c["change"]["auc"][-1], c["last"]["auc"],
                                                         onsets.get(c["run"]))
                for c in s.get("changes", []) if c["run"] in seed and c["change"].get("auc")}

    base, rows = per_run(summaries["none"]), []
    for arm, s in sorted(summaries.items()):
        if arm == "none":
            continue
        mine = per_run(s)
        for schedule, n in sorted({k[:2] for k in mine}):
            keys = sorted(k for k in mine if k[:2] == (schedule, n) and k in base)
            if not keys:
                continue
            a, b = [mine[k] for k in keys], [base[k] for k in keys]
            shift = [x[2] - y[2] for x, y in zip(a, b)] if all(x[2] is not None and y[2] is not None
                                                              for x, y in zip(a, b)) else None

            def onsets(runs):
                seen = [r[2] for r in runs if r[2] is not None]
                return f"{len(seen)}/{len(runs)}", float(np.median(seen)) if seen else None

            (seen_a, med_a), (seen_b, med_b) = onsets(a), onsets(b)
            rows.append(dict(arm=arm, schedule=schedule, N=n, seeds=[k[2] for k in keys],
                             unpaired=sum(1 for k in mine if k[:2] == (schedule, n) and k not in base),
                             dauc=mean_ci([x[0] for x in a]), dauc_none=mean_ci([y[0] for y in b]),
                             dauc_diff=mean_ci([x[0] - y[0] for x, y in zip(a, b)]),
                             auc_vs_none=mean_ci([100 * (x[1] / y[1] - 1) for x, y in zip(a, b)]),
                             onsets=seen_a, onset_median_tasks=med_a, onsets_none=seen_b,
                             onset_median_tasks_none=med_b, onset_shift_tasks=mean_ci(shift) if shift else None))
    return rows


def seed_effects_table(rows):
    def mci(v, unit="%"):
        if v is None or v[0] is None:
            return "–"
        return f"{v[0]:+.2f}{unit}" + ("" if v[1] is None else f" [{v[1][0]:+.2f}, {v[1][1]:+.2f}]")

    def onset(seen, med):
        return seen + ("" if med is None else f", median {med:.3g}")

    out = ["| arm | schedule | N | seeds | dAUC at the last checkpoint [95%] | none's | arm - none [95%] | "
           "AUC there vs none's [95%] | onsets established (tasks) | none's | onset shift, tasks [95%] |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['arm']} | {r['schedule']} | {fmt(r['N'])} | {len(r['seeds'])} | {mci(r['dauc'])} | "
                   f"{mci(r['dauc_none'])} | {mci(r['dauc_diff'])} | {mci(r['auc_vs_none'])} | "
                   f"{onset(r['onsets'], r['onset_median_tasks'])} | "
                   f"{onset(r['onsets_none'], r['onset_median_tasks_none'])} | "
                   f"{mci(r['onset_shift_tasks'], '') if r['onset_shift_tasks'] else '–'} |")
    return "\n".join(out)
