"""
What fit.py writes: the figures and the Markdown report of a fit, and summary.json.

    python fit.py out/demo/*-s0 --out out/demo/fit      # calls write_outputs() below
    python report.py --compare out/s/fit/none out/s/fit/snp --out out/s/fit/mitigations

onset_vs_size.png  each run's onset and 95% interval against N, unresolved (x) and censored
                   (^) runs marked, the fitted line over the sizes it was fitted on, its band
probe_curves.png   the probe metric of every run against training tokens, one colour per
                   size, the onsets marked
forgetting.png     forgetting against fine-tuning steps per trainable-parameter count, with
                   the fitted law; final forgetting against final learning
report.md          every run's onset, the laws with their intervals and verdicts
summary.json       everything above as numbers; written last, so its presence means the
                   whole output was written
mitigations.md     (--compare) each mitigation's fit against that of the runs without one
"""

import json
import os

import matplotlib
import numpy as np

import fit
import forgetting
import regression
from onset import t_quantile

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def write_outputs(out, summary, runs, fdata):
    """The three figures, report.md and (last) summary.json into the directory out."""
    os.makedirs(out, exist_ok=True)
    plot_onsets(os.path.join(out, "onset_vs_size.png"), summary["onset"])
    plot_probe_curves(os.path.join(out, "probe_curves.png"), runs)
    plot_forgetting(os.path.join(out, "forgetting.png"), summary["forgetting"], fdata)
    write_atomic(os.path.join(out, "report.md"), write_report(summary))
    write_atomic(os.path.join(out, "summary.json"), json.dumps(_jsonable(summary), indent=2, allow_nan=False))


# ----------------------------------------------------------------------------- figures

COLOURS = {"continual": "C0", "stationary": "C1"}
STYLES = {"continual": "-", "stationary": "--"}


def plot_onsets(path, onset):
    fig, ax = plt.subplots(figsize=(7.5, 5))
    groups = onset["groups"] + onset["skipped"]
    modes = sorted({g["mode"] for g in groups})
    for g in groups:
        colour, k = COLOURS.get(g["schedule"], "C2"), modes.index(g["mode"])
        label = f"{g['schedule']} / {g['mode']}"
        seen = [p for p in g["runs"] if not p["censored"]]
        if seen:
            errs = np.array([[p["onset"] - p["interval"][0], (p["interval"][1] or p["last_tokens"]) - p["onset"]]
                             if p["interval"] else [0.0, 0.0] for p in seen]).T
            ax.errorbar([p["N"] for p in seen], [p["onset"] for p in seen], yerr=np.clip(errs, 0, None),
                        fmt="osDvP*"[k % 6], color=colour, alpha=0.8, capsize=2, label=label)
        grid_bound = [p for p in seen if not p["resolved"]]
        if grid_bound:
            ax.scatter([p["N"] for p in grid_bound], [p["onset"] for p in grid_bound], marker="x", s=90,
                       color=colour, label=f"{label}: unresolved, before the second checkpoint")
        cens = [p for p in g["runs"] if p["censored"]]
        if cens:
            ax.scatter([p["N"] for p in cens], [p.get("bound") or p["last_tokens"] for p in cens], marker="^", s=60,
                       facecolors="none", edgecolors=colour, label=f"{label}: censored or not established, at its bound")
        if g.get("censored_fit"):  # the line by censored likelihood, over every size of the group
            cf, grid = g["censored_fit"], np.geomspace(min(p["N"] for p in g["runs"]), max(p["N"] for p in g["runs"]), 60)
            ax.plot(grid, np.exp(cf["log_a"] + cf["alpha"] * np.log(grid)), ":", lw=2.5, color=colour,
                    label=f"{label} censored likelihood: alpha = {cf['alpha']:.2f} {fmt_open(cf['alpha_ci'])}")
        if "alpha" in g:  # a fitted group: the line over the sizes it was fitted on, and its 95% band
            grid = np.geomspace(min(g["sizes"]), max(g["sizes"]), 60)
            ax.plot(grid, np.exp(g["log_a"] + g["alpha"] * np.log(grid)), ["-", "--", ":", "-."][k % 4],
                    color=colour, label=f"{label} fit: alpha = {g['alpha']:.2f} {fmt_ci(g['alpha_ci'])}, "
                    + g["verdict"].split(":")[0])
            if g["covs"] is not None:
                V = np.stack([np.ones_like(grid), np.log(grid)], 1)
                half = t_quantile(0.975, g["df"]) * np.sqrt([regression.line_variance(g["covs"], v) for v in V])
                centre = g["log_a"] + g["alpha"] * np.log(grid)
                ax.fill_between(grid, np.exp(centre - half), np.exp(centre + half), color=colour, alpha=0.15, lw=0)
    sizes = sorted({p["N"] for g in groups for p in g["runs"]})
    ax.set(xscale="log", yscale="log", xlabel="non-embedding parameters N", ylabel="onset (training tokens)",
           title="Onset of plasticity loss vs model size (bars: 95% per run; band: 95% for the line)")
    ax.set_xticks(sizes, [f"{n:,.0f}" for n in sizes])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlim(min(sizes) / 1.5, max(sizes) * 1.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)


def plot_probe_curves(path, runs):
    metric = runs[0].metric
    modes = sorted({rec["mode_name"] for r in runs for rec in r.records}) or ["(none)"]
    fig, axes = plt.subplots(1, len(modes), figsize=(6.5 * len(modes), 4.5), squeeze=False)
    sizes = sorted({r.n for r in runs if r.records})
    colour_of = {n: f"C{i % 10}" for i, n in enumerate(sizes)}  # one colour per size
    for ax, mode in zip(axes[0], modes):
        for r in runs:
            by_tokens = {}
            for rec in r.records:
                if rec["mode_name"] == mode and rec.get(metric) is not None:
                    by_tokens.setdefault(rec["tokens"], []).append(rec[metric])
            if not by_tokens:
                continue
            colour = colour_of[r.n]
            if 0 in by_tokens:  # the step-0 checkpoint cannot sit on a log axis: draw it as a reference line
                ax.axhline(np.mean(by_tokens.pop(0)), color=colour, ls=":", lw=0.8)
            t = np.array(sorted(by_tokens))
            mean = np.array([np.mean(by_tokens[k]) for k in t])
            std = np.array([np.std(by_tokens[k]) for k in t])
            ax.plot(t, mean, STYLES.get(r.config["schedule"], "-."), color=colour, marker=".")
            ax.fill_between(t, mean - std, mean + std, color=colour, alpha=0.15, lw=0)
            o = r.onsets.get(mode)
            if o is not None and o.tokens is not None and t[0] <= o.tokens <= t[-1]:  # the onset, on the curve
                ax.plot([o.tokens], [np.interp(np.log(o.tokens), np.log(t), mean)], "v", ms=9, color=colour,
                        markeredgecolor="k")
        ax.set(xscale="log", xlabel="training tokens of the checkpoint",
               ylabel=f"probe: {'AUC of the loss curve' if metric == 'auc' else 'final loss'} (nats)",
               title=f"fine-tuning mode {mode}")
    handles = [matplotlib.lines.Line2D([], [], color=colour_of[n], lw=3, label=f"N = {n:,.0f}") for n in sizes]
    handles += [matplotlib.lines.Line2D([], [], color="grey", ls=ls, label=schedule) for schedule, ls in STYLES.items()]
    handles += [matplotlib.lines.Line2D([], [], color="grey", marker="v", ls="", markeredgecolor="k", label="onset")]
    axes[0, -1].legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Probe metric per run: mean ± sd over probe seeds; dotted: the step-0 (from scratch) checkpoint")
    save_figure(fig, path)


def plot_forgetting(path, result, d):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if d is None:
        left.text(0.5, 0.5, "no forgetting data", ha="center")
    else:
        params = result["params"]
        for i, P in enumerate(result["distinct_P"]):
            at = d["P"] == P
            steps = np.unique(d["S"][at])
            left.plot(steps, [d["F"][at & (d["S"] == s)].mean() for s in steps], "o", color=f"C{i}",
                      label=f"P = {P:.3g}")
            left.plot(steps, forgetting.forgetting_law(params, P, steps), color=f"C{i}")
        left.set(xscale="log", xlabel="fine-tuning step S", ylabel="forgetting F (nats)",
                 title=f"F = {result['form']}: b = {params['b']:.3g}, a = {params['a']:.3g}")
        ticks = np.unique(d["S"])  # the steps themselves, written plainly (not 2x10^1)
        ticks = ticks[::-(-len(ticks) // 8)]
        left.set_xticks(ticks, [f"{s:g}" for s in ticks])
        left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left.legend(fontsize=7)
        lin = result["linear"]
        right.plot(d["learn"], d["final"], ".", alpha=0.4)
        xs = np.linspace(d["learn"].min(), d["learn"].max(), 2)
        right.plot(xs, lin["c"] * xs + lin["d"], "k")
        right.set(xlabel="final learning (zero-shot - final probe loss)", ylabel="final forgetting",
                  title=f"F = {lin['c']:.3g} learn + {lin['d']:.3g}, R² = {lin['r2']:.2f}")
    save_figure(fig, path)


# ----------------------------------------------------------------------------- output

def save_figure(fig, path):
    tmp = path + ".tmp"
    fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None  # strict JSON has no NaN or inf
    return v.item() if isinstance(v, np.generic) else v


def fmt(v):
    return "–" if v is None else f"{v:.3g}"


def fmt_open(ci):
    """An interval whose ends may be unbounded (None), as the censored fit's alpha can be."""
    if ci is None:
        return "–"
    return f"[{'-inf' if ci[0] is None else f'{ci[0]:.3g}'}, {'unbounded' if ci[1] is None else f'{ci[1]:.3g}'}]"


def fmt_ci(ci):
    """An interval; an upper end of None (the onset may lie past the last checkpoint) reads 'censored'."""
    return "–" if ci is None else f"[{ci[0]:.3g}, " + ("censored]" if ci[1] is None else f"{ci[1]:.3g}]")


def write_report(s):
    o = s["onset"]
    lines = [f"# Fit report\n\n{len(s['inputs'])} runs, corpus `{s['corpus']}`, vocab `{s['vocab_hash']}`. "
             "Onset law: least squares over runs, 95% t interval (the larger of the classical and HC3 "
             "standard errors); Huber fit "
             f"(delta {s['options']['huber_delta']} in log onset) alongside. Forgetting law: "
             f"{s['options']['bootstrap']} bootstrap replicates, seed {s['options']['seed']}.\n",
             "## Onsets per run\n",
             "Each run's onset from all its checkpoints and probe seeds (onset.py), with its 95% interval.\n",
             "| schedule | mode | run | N | onset (tokens) [95%] | last checkpoint |",
             "|---|---|---|---|---|---|"]
    for g in sorted(o["groups"] + o["skipped"], key=lambda g: (g["schedule"], g["mode"])):
        for p in sorted(g["runs"], key=lambda p: p["N"]):
            seen = (f"not established: {fmt(p['estimate'])} {fmt_ci(p['interval'])}, fitted as censored"
                    if p.get("open_above") else "none seen (censored)") if p["censored"] else \
                f"{fmt(p['onset'])} {fmt_ci(p['interval'])}" + (
                f" = {p['tasks']:.3g} tasks" if p.get("tasks") else "") + (
                "" if p["resolved"] else " unresolved: before the second checkpoint")
            lines.append(f"| {g['schedule']} | {g['mode']} | {p['run']} | {fmt(p['N'])} | {seen} | "
                         f"{fmt(p['last_tokens'])} |")
    lines.append("\n## Onset law: onset = a N^alpha\n")
    if not o["groups"]:
        lines.append("Not fitted: no (schedule, mode) group has onsets at two model sizes or more.")
    else:
        lines += ["alpha by least squares over the seen onsets; where runs are censored (no onset by the last "
                  "checkpoint, or one not established), also by censored maximum likelihood over all runs "
                  "(a censored run counts as an onset beyond its bound): least squares alone would then be "
                  "biased towards a flat line, so the verdict is the censored fit's.\n",
                  "| schedule | mode | runs (fitted/all) | sizes | alpha [95% CI] | alpha Huber | a [95% CI] "
                  "| alpha, censored likelihood [95%] | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {g['n_fitted']}/{g['n_runs']} | {len(g['sizes'])} | "
                  f"{g['alpha']:.3f} {fmt_ci(g['alpha_ci'])} | {g['alpha_huber']:.3f} | "
                  f"{fmt(g['a'])} {fmt_ci(g['a_ci'])} | "
                  + (f"{g['censored_fit']['alpha']:.3f} {fmt_open(g['censored_fit']['alpha_ci'])}"
                     if g["censored_fit"] else "– (none censored)")
                  + f" | **{g['verdict']}** |" for g in o["groups"]]
        predicted = [g for g in o["groups"] if g["predictions"]]
        lines += ["\n### Predicted onsets (tokens)\n"]
        if predicted:
            lines += ["| schedule | mode | " + " | ".join(f"N = {n:.0e}" for n in fit.PREDICT_N) + " |",
                      "|---|---|" + "---|" * len(fit.PREDICT_N)]
            lines += [f"| {g['schedule']} | {g['mode']} | "
                      + " | ".join(f"{fmt(p['onset'])} {fmt_ci(p['ci'])}" for p in g["predictions"]) + " |"
                      for g in predicted]
        lines += [(f"{g['schedule']}/{g['mode']}: none; the verdict is the censored fit's, whose line has no "
                   "interval at other sizes (and a few sizes say little about N a million times larger)."
                   if g["censored_fit"] and g["verdict"] in ("sublinear", "superlinear") else
                   f"{g['schedule']}/{g['mode']}: none, the law is not established ({g['verdict']}); "
                   "extrapolating it would say nothing.") for g in o["groups"] if not g["predictions"]]
    bounds = [g for g in o["skipped"] if g.get("censored_fit")]
    if bounds:
        lines += ["\n### Groups with onsets at one size: what the censored runs say\n",
                  "| schedule | mode | runs (censored) | alpha, censored likelihood [95%] |", "|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {g['censored_fit']['n_runs']} ({g['censored_fit']['n_censored']}) "
                  f"| {g['censored_fit']['alpha']:.3f} {fmt_open(g['censored_fit']['alpha_ci'])} |" for g in bounds]
    loso = [(g, x) for g in o["groups"] for x in g["loso"]]
    if loso:
        lines += ["\n### Leave one size out\n",
                  "| schedule | mode | held-out N | alpha | observed / predicted onset |", "|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {fmt(x['held_out_N'])} | {x['alpha']:.3f} | "
                  f"{x['observed_over_predicted']:.3g} |" for g, x in loso]
    cens = [(g, c) for g in o["groups"] for c in g["censored"]]
    if cens:
        lines.append(f"\n### Censored runs in fitted groups: {len(cens)}")
        lines += ["", "The bound is the last checkpoint, or for an onset not established the lower end of its "
                  "interval; consistent: the least-squares line predicts an onset beyond it.", "",
                  "| schedule | mode | run | N | onset beyond | predicted onset | consistent |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {c['run']} | {fmt(c['N'])} | {fmt(c['bound'])} | "
                  f"{fmt(c['predicted_onset'])} | {'yes' if c['consistent'] else 'NO'} |" for g, c in cens]
    if o["schedule_comparison"]:
        lines += ["\n### Continual vs stationary\n",
                  "| mode | alpha cont. | alpha stat. | difference [95% CI] | excludes 0 |", "|---|---|---|---|---|"]
        lines += [f"| {c['mode']} | {c['alpha_continual']:.3f} | {c['alpha_stationary']:.3f} | {c['diff']:.3f} "
                  f"{fmt_ci(c['diff_ci'])} | "
                  + (("yes" if c["excludes_zero"] else "no") if c["both_resolved"] else
                     "not compared: the onsets of one schedule do not resolve a law") + " |"
                  for c in o["schedule_comparison"]]
        if any(c["censored_present"] for c in o["schedule_comparison"]):
            lines.append("\nThe difference is of the least-squares alphas; a schedule has censored runs, so read "
                         "it beside the censored fits above.")
    f = s["forgetting"]
    lines.append("\n## Forgetting law\n")
    if "skipped" in f:
        lines.append(f"Skipped: {f['skipped']}.")
    else:
        lines += [f"F = {f['form']} over {f['n_points']} points ({f['n_records']} records, {f['n_runs']} runs, "
                  f"{len(f['distinct_P'])} distinct P), Huber delta {f['huber_delta']} nats. {f.get('note', '')}\n",
                  "| parameter | value | 95% CI |", "|---|---|---|"]
        lines += [f"| {k} | {fmt(v)} | {fmt_ci(f['ci'][k])} |" for k, v in f["params"].items()]
        lin = f["linear"]
        lines.append(f"\nFinal forgetting vs final learning: F = c * learn + d with c = {lin['c']:.3g} "
                     f"{fmt_ci(lin['c_ci'])}, d = {lin['d']:.3g}, R² = {lin['r2']:.3f}.")
    lines.append("\n## Diagnostics against the probe metric\n")
    d = s.get("diagnostics") or {}
    if not d:
        lines.append("None: these runs' checkpoints carry no diagnostics (trained before train.py recorded them, "
                     "or with --diagnostics=False).")
    else:
        lines += ["Per run, the rank correlation (Spearman) between each diagnostic and the probe metric over the "
                  "trained checkpoints (positive: higher with a worse probe); its mean over runs with a 95% "
                  "bootstrap interval over runs; the same over the checkpoints from each run's best one on (where "
                  "a loss of plasticity would show; over whole runs the correlation mostly follows training "
                  "progress); and, in runs with an onset and a checkpoint between the best one and the onset, how "
                  "often the diagnostic was higher at the last checkpoint before the onset than at the best.\n",
                  "| diagnostic | rank correlation, whole runs [95%] | runs | from the best checkpoint on [95%] | "
                  "runs | rose before the onset |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['rho']:+.2f} {fmt_ci(v['rho_ci'])} | {v['runs']} | "
                  + ("–" if v["rho_after_best"] is None else f"{v['rho_after_best']:+.2f} {fmt_ci(v['rho_after_best_ci'])}")
                  + f" | {v['runs_after_best']} | "
                  + (f"{v['rose_before_onset']} of {v['runs_with_onset']}" if v["runs_with_onset"] else "–")
                  + " |" for k, v in d.items()]
    if s["warnings"]:
        lines += ["\n## Warnings\n"] + [f"- {w}" for w in s["warnings"]]
    lines.append("\nFigures: `onset_vs_size.png`, `probe_curves.png`, `forgetting.png`.\n")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- mitigations against none

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
            ci = fit.alpha_difference_ci(g, b) if fitted else None
            lg, lb = loss(s, key[0]), loss(summaries["none"], key[0])
            sizes = sorted(set(on_g) | set(on_b))
            ratios = {n: ratio(on_g.get(n), on_b.get(n)) for n in sizes}
            cf = g.get("censored_fit")
            rows.append(dict(mitigation=mit, schedule=key[0], mode=key[1],
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
    out = ["| mitigation | schedule / mode | onset ratio to none, per size N | alpha [95%] | alpha - alpha(none) "
           "[95%] | verdict | training-loss cost (nats) |", "|---|---|---|---|---|---|---|"]
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
        out.append(f"| {r['mitigation']} | {r['schedule']} / {r['mode']} | {ratios} | {alpha} | {diff} | "
                   f"{r['verdict']} | {cost} |")
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
    rows = compare_mitigations(summaries)
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "mitigations.md"),
                 "# Mitigations against none\n\nOne fit per mitigation (" + ", ".join(f"`{d}`" for d in fit_dirs)
                 + "). Per (schedule, fine-tuning mode): the onset with the mitigation over the onset without, at "
                 "every size (geometric means over runs, a run without an onset entering with its bound: >= where "
                 "only the mitigation's runs have such, <= where only the baseline's, – where both; in brackets the "
                 "mitigation's runs with an onset), alpha with its 95% interval (by censored likelihood where runs "
                 "are censored), its difference from alpha without (Welch interval; least squares, so only without "
                 "censored runs), the verdict, and the training-loss cost (the "
                 "training languages' loss at the last checkpoint, mean over runs, minus that without; positive is "
                 "worse).\n\n" + comparison_table(rows) + "\n")
    write_atomic(os.path.join(out, "mitigations.json"), json.dumps(_jsonable(rows), indent=2, allow_nan=False))
    return rows


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Compare fits of runs with and without mitigations.")
    ap.add_argument("--compare", nargs="+", required=True, help="fit directories (fit.py --out), none among them")
    ap.add_argument("--out", required=True, help="directory for mitigations.md and mitigations.json")
    a = ap.parse_args()
    print(comparison_table(write_comparison(a.out, a.compare)))
