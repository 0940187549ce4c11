"""
The figures of a fit (report.py writes them with report.md).

onset_vs_size.png  each run's onset and 95% interval against N (the runs of a size side by side),
                   unresolved (x) and censored (^) runs marked, the fitted line over the sizes
                   it was fitted on, its band; the title names the metric and definition
probe_curves.png   the probe metric of every run against training tokens, one colour per
                   size, the onsets marked
probe_parts.png    the probe language's loss before fine-tuning, the AUC, the AUC without step 0
                   and the final loss, side by side, each with its own onset: which part of the
                   fine-tuning curve an onset comes from
forgetting.png     forgetting against fine-tuning steps per trainable-parameter count, with
                   the fitted law where it is identified; final forgetting against final learning
"""

import os

import matplotlib
import numpy as np

import forgetting
import regression
from onset import t_quantile

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


# ----------------------------------------------------------------------------- numbers (report.md writes them so too)

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


# ----------------------------------------------------------------------------- figures

COLOURS = {"continual": "C0", "stationary": "C1"}
STYLES = {"continual": "-", "stationary": "--"}


def side_by_side(groups):
    """The x position of every run of a figure, by (schedule, mode, run): its N, spread by a few
    percent when several runs share a size (schedules apart, then the runs of each), so no marker
    hides another."""
    by_size = {}
    for g in groups:
        for p in g["runs"]:
            by_size.setdefault(p["N"], set()).add((g["schedule"], g["mode"], p["run"]))
    return {key: n * 1.06 ** (i - (len(keys) - 1) / 2)
            for n, keys in by_size.items() for i, key in enumerate(sorted(keys))}


def plot_onsets(path, onset, what="the probe metric"):
    fig, ax = plt.subplots(figsize=(7.5, 5))
    groups = onset["groups"] + onset["skipped"]
    modes = sorted({g["mode"] for g in groups})
    x_of = side_by_side(groups)

    def at(g, points):
        return [x_of[(g["schedule"], g["mode"], p["run"])] for p in points]

    for g in groups:
        colour, k = COLOURS.get(g["schedule"], "C2"), modes.index(g["mode"])
        label = f"{g['schedule']} / {g['mode']}"
        seen = [p for p in g["runs"] if not p["censored"]]
        if seen:
            errs = np.array([[p["onset"] - p["interval"][0], (p["interval"][1] or p["last_tokens"]) - p["onset"]]
                             if p["interval"] else [0.0, 0.0] for p in seen]).T
            ax.errorbar(at(g, seen), [p["onset"] for p in seen], yerr=np.clip(errs, 0, None),
                        fmt="osDvP*"[k % 6], color=colour, alpha=0.8, capsize=2, label=label)
        grid_bound = [p for p in seen if not p["resolved"]]
        if grid_bound:
            ax.scatter(at(g, grid_bound), [p["onset"] for p in grid_bound], marker="x", s=90,
                       color=colour, label=f"{label}: unresolved, at the grid's first interval (right after "
                       "cycle 1, or before the second checkpoint)")
        cens = [p for p in g["runs"] if p["censored"]]
        if cens:
            ax.scatter(at(g, cens), [p.get("bound") or p["last_tokens"] for p in cens], marker="^", s=60,
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
           title=f"Onset of plasticity loss vs model size: {what}\n(bars: 95% per run, the runs of a size side by "
                 "side; band: 95% for the line)")
    ax.set_xticks(sizes, [f"{n:,.0f}" for n in sizes])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlim(min(sizes) / 1.5, max(sizes) * 1.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)


def onset_of(run, mode, key):
    """The run's onset of metric `key` under its head definition (onset.json's onsets_by_metric;
    the head onset itself for the head metric, or for runs probed before every metric had one)."""
    every = (run.head or {}).get("onsets_by_metric", {})
    definition = (run.head or {}).get("definition", "rise")
    o = every.get(key, {}).get(definition, {}).get(mode)
    if o is not None:
        return None if o["censored"] else o["onset_tokens"]
    head = run.onsets.get(mode)
    return head.tokens if head is not None and key == run.metric else None


def draw_probe_metric(ax, runs, mode, key, colour_of, onsets=True):
    """One line per run: the probe records' `key` (auc, final, zero_shot, ...) against training
    tokens, mean ± sd over probe seeds; the step-0 checkpoint as a dotted line; the onset of
    that metric marked."""
    for r in runs:
        by_tokens = {}
        for rec in r.records:
            if rec["mode_name"] == mode and rec.get(key) is not None:
                by_tokens.setdefault(rec["tokens"], []).append(rec[key])
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
        o = onset_of(r, mode, key) if onsets else None
        if o is not None and t[0] <= o <= t[-1]:  # on the curve
            ax.plot([o], [np.interp(np.log(o), np.log(t), mean)], "v", ms=9, color=colour, markeredgecolor="k")
    ax.set(xscale="log", xlabel="training tokens of the checkpoint")


def legend(ax, sizes, colour_of, schedules):
    handles = [matplotlib.lines.Line2D([], [], color=colour_of[n], lw=3, label=f"N = {n:,.0f}") for n in sizes]
    handles += [matplotlib.lines.Line2D([], [], color="grey", ls=STYLES.get(s, "-."), label=s) for s in schedules]
    handles += [matplotlib.lines.Line2D([], [], color="grey", ls=":", lw=0.8, label="the step-0 checkpoint (from scratch)")]
    handles += [matplotlib.lines.Line2D([], [], color="grey", marker="v", ls="", markeredgecolor="k", label="onset")]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


METRIC_LABEL = {"auc": "AUC of the loss curve", "auc_no_step0": "AUC without step 0", "final": "final loss",
                "zero_shot": "loss before fine-tuning"}


def schedules_of(runs):
    return sorted({r.config["schedule"] for r in runs if r.records})


def plot_probe_curves(path, runs):
    metric = runs[0].metric
    modes = sorted({rec["mode_name"] for r in runs for rec in r.records}) or ["(none)"]
    fig, axes = plt.subplots(1, len(modes), figsize=(6.5 * len(modes), 4.5), squeeze=False)
    sizes = sorted({r.n for r in runs if r.records})
    colour_of = {n: f"C{i % 10}" for i, n in enumerate(sizes)}  # one colour per size
    for ax, mode in zip(axes[0], modes):
        draw_probe_metric(ax, runs, mode, metric, colour_of)
        ax.set(ylabel=f"probe: {METRIC_LABEL.get(metric, metric)} (nats)", title=f"fine-tuning mode {mode}")
    legend(axes[0, -1], sizes, colour_of, schedules_of(runs))
    definition = (runs[0].head or {}).get("definition", "rise")
    fig.suptitle(f"Probe metric ({METRIC_LABEL.get(metric, metric)}) per run: mean ± sd over probe seeds; onsets: "
                 + ("dAUC > 0 for good against cycle 1" if definition == "delta" else "the rise from the best so far"))
    save_figure(fig, path)


def plot_probe_parts(path, runs):
    """Where the probe metric moves: the probe language's loss before fine-tuning (the
    checkpoint as it is), the AUC over the fine-tuning and the loss at its end, side by side,
    for the head mode (full where probed). An onset the AUC shows and the final loss does not is
    a worse starting point that the fine-tuning makes up for."""
    modes = sorted({rec["mode_name"] for r in runs for rec in r.records})
    mode = "full" if "full" in modes else (modes or ["(none)"])[0]
    fig, axes = plt.subplots(1, 4, figsize=(22, 4.5))
    sizes = sorted({r.n for r in runs if r.records})
    colour_of = {n: f"C{i % 10}" for i, n in enumerate(sizes)}
    for ax, key, title in zip(axes, ("zero_shot", "auc", "auc_no_step0", "final"),
                              ("before fine-tuning (step 0)", "AUC over the fine-tuning", "AUC without step 0",
                               "after the last step")):
        draw_probe_metric(ax, runs, mode, key, colour_of)
        ax.set(ylabel="probe-language loss (nats)", title=title)
    legend(axes[-1], sizes, colour_of, schedules_of(runs))
    definition = (runs[0].head or {}).get("definition", "rise")
    fig.suptitle(f"The probe's loss curve in four parts (mode {mode}); on each, that metric's onset ("
                 + ("dAUC > 0 for good against cycle 1" if definition == "delta" else "rise from the best so far")
                 + "), where it has one")
    save_figure(fig, path)


def plot_cycle_curves(path, runs):
    """What the probe saw: its fine-tuning loss curves, one per probed checkpoint, coloured by the
    cycles of training before it (the first task's end is 1/8 of a cycle; from scratch grey,
    dashed), the mean over probe seeds and the runs' training seeds; one panel per size and
    schedule (head mode). The y axis is cut to the curves' last 90%, where later checkpoints
    either learn faster than earlier ones (a lower curve: no loss of plasticity) or not."""
    mode = "full" if any(rec["mode_name"] == "full" for r in runs for rec in r.records) else None
    schedules, sizes = schedules_of(runs), sorted({r.n for r in runs if r.records})
    if not sizes:
        return
    fig, axes = plt.subplots(len(schedules), len(sizes), figsize=(4.5 * len(sizes), 4 * len(schedules)),
                             squeeze=False, sharey="row")
    cmap = matplotlib.colormaps["viridis_r"]
    for row, sch in zip(axes, schedules):
        for ax, n in zip(row, sizes):
            group = [r for r in runs if r.n == n and r.config["schedule"] == sch]
            curves = {}  # checkpoint tokens -> curves over probe and training seeds
            for r in group:
                for rec in r.records:
                    if mode in (None, rec["mode_name"]):
                        curves.setdefault(rec["tokens"], []).append((rec["eval_steps"], rec["curve"]))
            tails, trained = [], sorted(t for t in curves if t > 0)
            # at most 8 labelled (the first, the last and evenly between): every curve is drawn
            named = {trained[i] for i in np.unique(np.linspace(0, len(trained) - 1, min(8, len(trained))).round()
                                                   .astype(int))} if trained else set()
            for t in sorted(curves):
                steps = np.array(curves[t][0][0])
                mean = np.mean([c for _, c in curves[t] if len(c) == len(steps)], axis=0)
                label = "from scratch" if t == 0 else f"{t:.2g} tokens"
                task, langs = group[0].config.get("task_tokens"), group[0].config.get("train_langs")
                if t and task and langs:  # in whole tasks: the first task's end, cycle 1, 2, ... (tasks when a
                    per = group[0].config.get("cycle_tasks") or len(langs)  # cycle is one: a stream of new languages)
                    cyc, unit = round(t / task) / per, "cycle" if per > 1 else "task"
                    label = f"first task ({t:.2g} tokens)" if cyc < 1 else f"{unit} {cyc:g} ({t:.2g} tokens)"
                style = dict(color="grey", ls="--") if t == 0 else \
                    dict(color=cmap(0.15 + 0.85 * (trained.index(t) + 1) / len(trained)))
                ax.plot(steps, mean, lw=1.1, label=label if t == 0 or t in named else "_unlabelled", **style)
                tails.append(mean[len(mean) // 10:])
            if tails:
                lo, hi = min(map(np.min, tails)), max(map(np.max, tails))
                ax.set_ylim(lo - 0.02 * (hi - lo), hi)
            seeds = len({r.config["seed"] for r in group})
            ax.set(title=f"N = {n:,.0f}, {sch} ({seeds} training seed{'s' if seeds != 1 else ''})",
                   xlabel="probe fine-tuning step")
            ax.legend(fontsize=6, title=None if len(named) == len(trained) else
                      f"{len(named)} of {len(trained)} checkpoints named", title_fontsize=6)
        row[0].set_ylabel("probe-language loss (nats)")
    fig.suptitle("The probe's fine-tuning curves at each probed checkpoint\n(mean over probe and training seeds; "
                 "y axis: the last 90% of the curves)")
    fig.tight_layout()
    save_figure(fig, path)


def plot_forgetting(path, result, d):
    """Forgetting against fine-tuning steps per trainable-parameter count, with the fitted law
    where it is identified (otherwise the points alone, the reason in the title); final
    forgetting against final learning. Runs are named by N, as in every figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if d is None:
        left.text(0.5, 0.5, "no forgetting data", ha="center")
    else:
        params = result["params"]
        n_steps = np.unique(d["S"]).size
        identified = result["ci"].get("b") is not None and n_steps >= 3
        sizes_of = {}  # trainable parameters P -> the N of the runs fine-tuned with it
        for P, k in zip(d["P"], d["rec_of_pt"]):
            sizes_of.setdefault(P, set()).add(d["size_of_run"][int(d["run_of"][k])])
        for i, P in enumerate(result["distinct_P"]):
            at = d["P"] == P
            steps = np.unique(d["S"][at])
            names = ", ".join(f"{n:,.0f}" for n in sorted(sizes_of.get(P, [])))
            left.plot(steps, [d["F"][at & (d["S"] == s)].mean() for s in steps], "o", color=f"C{i}",
                      label=f"N = {names} ({P:,.0f} parameters fine-tuned)")
            if identified:
                left.plot(steps, forgetting.forgetting_law(params, P, steps), color=f"C{i}")
        title = (f"F = {result['form']}: b = {params['b']:.3g}, a = {params['a']:.3g}" if identified else
                 f"law not drawn: {'only ' + str(n_steps) + ' evaluated steps' if n_steps < 3 else 'b near 0'}, "
                 "a and b not identified (report.md)")
        left.set(xscale="log", xlabel="fine-tuning step S", ylabel="forgetting F (nats, mean over records)",
                 title=title)
        ticks = np.unique(d["S"])  # the steps themselves, written plainly (not 2x10^1)
        ticks = ticks[::-(-len(ticks) // 8)]
        left.set_xticks(ticks, [f"{s:g}" for s in ticks])
        left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left.legend(fontsize=7)
        lin = result["linear"]
        right.plot(d["learn"], d["final"], ".", alpha=0.4)
        xs = np.linspace(d["learn"].min(), d["learn"].max(), 2)
        right.plot(xs, lin["c"] * xs + lin["d"], "k")
        sign = "+" if lin["d"] >= 0 else "-"
        right.set(xlabel="final learning (loss before - after fine-tuning, nats)", ylabel="final forgetting (nats)",
                  title=f"F = {lin['c']:.3g} learn {sign} {abs(lin['d']):.3g}, R² = {lin['r2']:.2f}")
    save_figure(fig, path)


def save_figure(fig, path):
    tmp = path + ".tmp"
    fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
