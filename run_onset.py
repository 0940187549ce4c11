"""
What a run's probe records say: the onset of plasticity loss for every probe metric under both
definitions, dAUC against cycle 1, and the figure of the run. probe.py writes them to onset.json
and probe.png after probing; `python probe.py --onset_only=True` recomputes them from
probe.jsonl alone (records made before a metric existed get it from their curves).

The metrics (probe_metrics below; every probe record keeps them), so that a worse start is never
read as a worse learner:
  auc           the area under the fine-tuning curve per step (the paper's)
  auc_no_step0  the same without the step-0 evaluation: how the checkpoint learns
  final         the loss at the end of the fine-tune: where it gets to
  zero_shot     the loss before fine-tuning: where it starts

The definitions:
  delta  the paper's: dAUC_k = 100 (AUC_k / AUC_1 - 1) against cycle 1 (the first checkpoint
         at or after a cycle's tasks, cycle_tasks below; after the first task, or the first trained checkpoint, when
         the run is shorter), and the onset where dAUC turns positive and stays so to the last
         checkpoint (onset.estimate_delta_onset), over the checkpoints from cycle 1 on;
  rise   the first point where the metric is onset_tol nats worse than the best checkpoint
         before it (onset.estimate_onset, running minimum), over every trained checkpoint.
Both come with the bootstrap interval of onset.py, in tokens and in tasks (task_tokens: a
stationary run is checkpointed and probed at the same token counts as a continual one).
"""

import json
import os

import numpy as np

import onset
import relate
import turn

DEFINITIONS = ("delta", "rise")
SUMMARY_KEYS = ("metric", "definition", "onset_tokens", "onset_tasks", "interval", "censored", "resolved",
                "last_tokens", "best_tokens", "ref_tokens", "noise_source", "turn", "smallest_sustained")


# ----------------------------------------------------------------------------- the metrics of a probe curve
def auc(steps, curve):
    """Area under the loss curve over the fine-tuning steps, per step (the mean loss, nats)."""
    s, c = np.asarray(steps, float), np.asarray(curve, float)
    return round(float(np.sum((c[1:] + c[:-1]) * np.diff(s)) / 2 / (s[-1] - s[0])), 5)


METRICS = ("auc", "auc_no_step0", "final", "zero_shot")  # what every probe record keeps of its curve


def probe_metrics(steps, curve):
    """The numbers a probe record keeps of its curve (evaluated at steps, the first 0):
    zero_shot  the loss before fine-tuning (where the checkpoint starts);
    auc        the area under the whole curve per step (the paper's metric);
    auc_no_step0  the same from the first evaluation after step 0 on (how it learns, without
               where it starts);
    final      the loss at the end (where it gets to);
    step0_share  the part of auc that the step-0 evaluation carries (its trapezoid half)."""
    whole = auc(steps, curve)
    after = auc(steps[1:], curve[1:]) if len(steps) > 2 else curve[-1]
    share = (steps[1] - steps[0]) * curve[0] / 2 / ((steps[-1] - steps[0]) * whole) if len(steps) > 1 else 1.0
    return dict(zero_shot=curve[0], auc=whole, auc_no_step0=after, final=curve[-1], step0_share=round(share, 5))


# ----------------------------------------------------------------------------- onsets
def complete(records):
    """Fill in the metrics of records made before they existed, from their curves (in place)."""
    for r in records:
        if any(k not in r for k in (*METRICS, "step0_share")):
            r.update({k: v for k, v in probe_metrics(r["eval_steps"], r["curve"]).items() if k not in r})
    return records


def cycle_tasks(run):
    """The tasks of one cycle: a task of every training language, or the run's cycle_tasks (a stream
    whose every task is a new language sets 1: dAUC against the first task's end)."""
    return run.get("cycle_tasks") or len(run["train_langs"])


def cycle_tokens(run):
    return run["task_tokens"] * cycle_tasks(run)


def reference_tokens(tokens, run):
    """The checkpoint dAUC is relative to: the first at or after the end of cycle 1; when the run
    is shorter, the first at or after the first task's end; else the first trained one."""
    trained = sorted(t for t in tokens if t > 0)
    for mark in (cycle_tokens(run), run["task_tokens"]):
        at = [t for t in trained if t >= mark]
        if at:
            return at[0]
    return trained[0] if trained else None


def probe_kind(records, run):
    """'task-length' when a record's fine-tune covers at least a task's tokens, else 'short'
    with its length, as every report names it."""
    r = records[0]
    tokens = r["probe_steps"] * r["batch_size"] * run["block_size"]
    if tokens >= run["task_tokens"] - r["batch_size"] * run["block_size"]:
        return "task-length"
    return f"short ({r['probe_steps']} steps, {tokens / run['task_tokens']:.2g} of a task)"


def mark_best(records, metric):
    """best_lr: per (checkpoint, mode), the lr with the lowest mean metric over seeds."""
    groups = {}
    for r in records:
        groups.setdefault((r["ckpt_step"], r["mode_name"]), {}).setdefault(r["lr"], []).append(r[metric])
    for r in records:
        by_lr = groups[(r["ckpt_step"], r["mode_name"])]
        r["best_lr"] = r["lr"] == min(by_lr, key=lambda lr: np.mean(by_lr[lr]))


def annotate(records, run, metric):
    """best_lr per (checkpoint, mode), and each record's dAUC against its own seed, mode and lr
    at the reference checkpoint (None until that one is probed)."""
    complete(records)
    mark_best(records, metric)
    ref = reference_tokens({r["tokens"] for r in records}, run)
    ref_auc = {(r["seed"], r["mode_name"], r["lr"]): r["auc"] for r in records if r["tokens"] == ref}
    for r in records:
        a = ref_auc.get((r["seed"], r["mode_name"], r["lr"]))
        r["dauc"] = None if a is None else round(100 * (r["auc"] / a - 1), 4)


def metric_table(records, mode, seed_list, name):
    """(tokens, table[seed][checkpoint], scratch[seed] or None) over the trained checkpoints
    that every seed has probed, from the best-lr records of one mode."""
    by = {(r["ckpt_step"], r["seed"]): r for r in records if r["mode_name"] == mode and r["best_lr"]}
    steps = sorted({s for s, _ in by})
    trained = [s for s in steps if s > 0 and all((s, sd) in by for sd in seed_list)]
    tokens = [by[(s, seed_list[0])]["tokens"] for s in trained]
    table = [[by[(s, sd)][name] for s in trained] for sd in seed_list]
    scratch = [by[(0, sd)][name] for sd in seed_list] if all((0, sd) in by for sd in seed_list) else None
    return tokens, table, scratch


def estimate(records, mode, seed_list, run, name, definition, tol, n_boot, cell=(), power=False):
    """One onset (a dict, as onset.py's estimators give it, plus what the run adds), or None
    when the checkpoints cannot give one (fewer than 2 trained; for delta, fewer than 2 after
    cycle 1). cell: the other training runs of the run's cell (cell_runs), whose seed means give
    the paper's onset its training noise where they were probed at all of this run's checkpoints
    from cycle 1 on. power (delta): also the smallest sustained dAUC the run could have shown
    established (onset.smallest_sustained)."""
    tokens, table, scratch = metric_table(records, mode, seed_list, name)
    if len(tokens) < 2:
        return None
    ref = tokens.index(reference_tokens(tokens, run))
    if definition == "delta":
        if len(tokens) - ref < 3:
            return None
        after = tokens[ref:]
        means, replicates = [np.mean([row[ref:] for row in table], 0)], []
        for other, other_records, other_seeds in cell:
            t, tab, _ = metric_table(other_records, mode, other_seeds, name)
            if set(after) <= set(t):
                means.append(np.mean(tab, 0)[[t.index(v) for v in after]])
                replicates.append(other)
        cell = means if len(means) >= 2 else None
        est = onset.estimate_delta_onset(after, [row[ref:] for row in table], n_boot, runs=cell)
        est["smooth_tokens"], est["noise_replicates"] = after, replicates
        est["turn"] = turn.estimate_turn(after, [row[ref:] for row in table], n_boot, runs=cell)
        if power:
            est["smallest_sustained"] = onset.smallest_sustained(after, [row[ref:] for row in table], cell,
                                                                 min(n_boot, 300))
    else:
        est = onset.estimate_onset(tokens, table, scratch, tol, n_boot)
        est["smooth_tokens"] = tokens
    mean = np.mean(table, 0)
    task = run["task_tokens"]
    est.update(metric=name, mode=mode, n_seeds=len(seed_list), tokens=tokens, mean_curve=[float(v) for v in mean],
               scratch=None if scratch is None else float(np.mean(scratch)), ref_tokens=tokens[ref],
               delta_ref_tokens=tokens[ref], delta_pct=[float(100 * (v / mean[ref] - 1)) for v in mean],
               task_tokens=task, onset_tasks=None if est["onset_tokens"] is None else est["onset_tokens"] / task,
               interval_tasks=None if est["interval"] is None else
               [None if t is None else t / task for t in est["interval"]])
    return est


# what may differ between the training runs of one cell: the seed (and the language order it draws), and where and
# with what they ran
NOT_THE_CELL = ("seed", "lang_order", "out_dir", "resume_changes", "trained_by", "code_version", "torch_version", "max_steps", "max_tokens",
                "ckpt_steps", "cpu_threads", "threads", "device", "data_dir", "world_size", "compile")


def cell_runs(run_path, run, metric):
    """The other probed training runs of this run's cell: the run directories beside it whose
    config.json differs from its own only in NOT_THE_CELL, as [(name, records annotated for
    metric, probe seeds)], by name. Their seed means are the replicates of the paper's onset's
    noise model (onset.cycle_noise): a run's training noise, which its probe seeds cannot see."""
    key = {k: v for k, v in run.items() if k not in NOT_THE_CELL}
    out = []
    for other in sorted(p for p in run_path.parent.iterdir() if p.is_dir() and p.resolve() != run_path.resolve()):
        if not (other / "config.json").exists() or not (other / "probe.jsonl").exists():
            continue
        cfg = json.loads((other / "config.json").read_text())
        if {k: v for k, v in cfg.items() if k not in NOT_THE_CELL} != key:
            continue
        records = [json.loads(ln) for ln in (other / "probe.jsonl").read_text().splitlines()]
        annotate(records, cfg, metric)
        out.append((other.name, records, sorted({r["seed"] for r in records})))
    return out


def onsets(records, seed_list, run, metric, definition, tol, n_boot, cell=()):
    """(the head metric and definition's onset per mode, {metric: {definition: {mode: summary}}});
    cell as estimate() takes it."""
    head, every = {}, {}
    for mode in sorted({r["mode_name"] for r in records}):
        for name in METRICS:
            for d in DEFINITIONS:
                est = estimate(records, mode, seed_list, run, name, d, tol, n_boot, cell,
                               power=(name, d) == (metric, "delta") == (metric, definition))
                if est is None:
                    continue
                every.setdefault(name, {}).setdefault(d, {})[mode] = {k: est.get(k) for k in SUMMARY_KEYS}
                if (name, d) == (metric, definition):
                    head[mode] = est
    return head, every


def describe(est):
    """One line for an onset: where it is, with its interval, or up to where there is none."""
    if est["censored"]:
        return f"no onset up to {est['last_tokens']:,.0f} tokens (censored)"
    iv = est["interval"] or [None, None]
    lo = "n/a" if iv[0] is None else f"{iv[0]:,.0f}"
    hi = "open" if iv[1] is None else f"{iv[1]:,.0f}"
    tasks = f" = {est['onset_tasks']:.3g} tasks" if est.get("onset_tasks") else ""
    text = f"onset at {est['onset_tokens']:,.0f} tokens{tasks} (95% interval {lo} .. {hi})"
    if est.get("noise_source") == onset.TOO_FEW:
        text += "; not established: too few cycle ends to measure the training noise, and no other training run"
    if not est["resolved"]:
        text += "; unresolved: right after the " + ("reference (cycle 1)" if est["definition"] == "delta"
                                                   else "first checkpoint, add earlier ones")
    return text


# ----------------------------------------------------------------------------- the figure of a run

METRIC_LABEL = {"auc": "AUC of the validation loss", "auc_no_step0": "AUC without step 0",
                "final": "final loss", "zero_shot": "loss before fine-tuning"}


def plot(run, head, records, seed_list, path, diag=None, kind=""):
    """The head metric against training tokens (mean, seed range, smooth curve, onset) with
    dAUC against cycle 1 on a second axis; below it, with diagnostics, each one against
    training tokens on the same axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = head.get("full") or next(iter(head.values()))
    names = [k for k in relate.SUMMARY if diag and any(v is not None for v in diag.get(k) or [])]
    rows = -(-len(names) // 4)
    w, h = 7.2, 4.4 + 1.5 * rows
    fig = plt.figure(figsize=(w, h))  # laid out by hand, in inches: tight_layout doubles the cost of a probe's figure
    ax = fig.add_axes([0.8 / w, (h - 3.85) / h, (w - 1.6) / w, 3.3 / h])
    if rows:
        grid = fig.add_gridspec(rows, 4, left=0.8 / w, right=(w - 0.3) / w, top=(h - 4.65) / h, bottom=0.3 / h,
                                hspace=0.75, wspace=0.45)
    for i, name in enumerate(names):
        sub = fig.add_subplot(grid[i // 4, i % 4], sharex=ax)
        pts = [(t, v) for t, v in zip(diag["tokens"], diag[name]) if v is not None and t > 0]
        sub.plot([t for t, _ in pts], [v for _, v in pts], ".-", ms=3, lw=0.8, color="0.3")
        sub.set_title(name, fontsize=7)
        sub.tick_params(labelsize=6)
        if first["onset_tokens"]:
            sub.axvline(first["onset_tokens"], color="C0", ls="--", lw=0.8)
    for i, (mode, est) in enumerate(head.items()):
        color = f"C{i}"
        tokens, table, _ = metric_table(records, mode, seed_list, est["metric"])
        table = np.asarray(table)
        ax.plot(tokens, table.mean(0), "o", ms=4, color=color, label=f"{mode}: mean of {len(table)} seeds")
        ax.fill_between(tokens, table.min(0), table.max(0), color=color, alpha=0.2, lw=0,
                        label=f"{mode}: range over seeds")
        ax.plot(est["smooth_tokens"], est["smooth_curve"], "-", color=color, lw=1.2,
                label=f"{mode}: smooth curve (onset.py)")
        if est["scratch"] is not None:
            ax.axhline(est["scratch"], color=color, ls=":", label=f"{mode}: the step-0 checkpoint (from scratch)")
        if est["definition"] == "delta":
            ax.axhline(est.get("ref_level", est["smooth_curve"][0]), color=color, ls="-.", lw=0.8,
                       label=f"{mode}: cycle 1 (dAUC = 0), {est['ref_tokens']:,} tokens")
        if est["onset_tokens"]:
            tasks = f" = {est['onset_tasks']:.3g} tasks" if est.get("onset_tasks") else ""
            ax.axvline(est["onset_tokens"], color=color, ls="--",
                       label=f"{mode}: onset {est['onset_tokens']:.3g} tokens{tasks}")
            if est["interval"]:
                ax.axvspan(est["interval"][0], est["interval"][1] or tokens[-1], color=color, alpha=0.08, lw=0,
                           label=f"{mode}: onset, 95% interval")
    ax.set_xscale("log")
    ax.set_xlabel("training tokens of the checkpoint")
    ax.set_ylabel(f"{records[0]['probe_lang']} probe: {METRIC_LABEL[first['metric']]} (nats)", fontsize=8)
    ref = first["mean_curve"][first["tokens"].index(first["ref_tokens"])]
    sec = ax.secondary_yaxis("right", functions=(lambda a: 100 * (a / ref - 1), lambda d: ref * (1 + d / 100)))
    sec.set_ylabel(f"change (%) vs the checkpoint at {first['ref_tokens']:,} tokens", fontsize=8)
    what = "dAUC > 0 for good (the paper's)" if first["definition"] == "delta" else f"a rise of {first['tol']} nats"
    ax.set_title(f"{path.parent.name}: {run['model']} (N = {run['n_nonembed']:,}), {run['schedule']}\n"
                 f"onset: {what}; {kind} probe", fontsize=9)
    ax.legend(fontsize=6)
    tmp = str(path) + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
