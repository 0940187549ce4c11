"""
The plasticity probe: how well can each checkpoint of a run still learn a new language?

    python probe.py --run_dir=out/tiny                       # every checkpoint, seeds 0,1,2, full fine-tuning
    python probe.py --run_dir=out/tiny --modes=full,lora4,last1 --lr_grid=1e-3,3e-3
    python probe.py --run_dir=results/demo/runs/micro-25k-continual-s0 --onset_only=True   # onset again, from probe.jsonl
    python probe.py --run_dir=out/copy-of-a-run --reset_unseen=True   # the probe-only tokens' rows at step 0

For every checkpoint (the step-0 one is the from-scratch reference: same architecture and
initialisation, never trained) and every probe seed: load the weights, give them a fresh
AdamW, fine-tune on the probe language (Vietnamese by default) for probe_steps steps at a
constant learning rate, and evaluate the probe language's validation loss every eval_every
steps on fixed batches. In the same pass, the training languages' validation loss is
measured along the way: that is forgetting.

Common random numbers: the fine-tuning batches (and LoRA's initialisation) depend on the
probe seed only, so every checkpoint of a run sees exactly the same data in the same order
and differences between checkpoints are not sampling noise.

Determinism: the fine-tuning amplifies float differences (up to 0.05 nats between 1 and 2
CPU threads on one checkpoint), so the probe runs with a fixed thread count (`threads`, 1 by
default: every machine has one) and records it with the dtype, device and torch version in
every record; records that differ in any of these, or in any setting that changes their
numbers, are refused rather than mixed into one onset.

Outputs in the run directory:
  probe.jsonl   one record per (checkpoint, seed, mode, lr): the curve, zero-shot, final loss,
                AUC and dAUC (against the same seed at the reference checkpoint), forgetting
                curves, trainable parameters, best_lr flag, and the settings that made it. Finished probes are skipped when the command runs
                again; the file is rewritten atomically, so an interruption never leaves a
                partial record.
  onset.json    the onset of plasticity loss per fine-tuning mode (onset.py: a smooth curve
                through all checkpoints and seeds, a bootstrap interval, bias-corrected), in
                tokens and, for continual runs, in tasks; "censored" when no loss is
                measurable; "resolved" false when the best checkpoint is the first and the
                onset lies before the second (the checkpoint grid only bounds it); dAUC per
                checkpoint.
  probe.png     the probe metric against training tokens: mean and range over seeds, the
                smooth curve, the from-scratch line, the onset and its interval, dAUC.

The metric (the paper's protocol, as far as we know it): AUC, the area under the probe
language's validation-loss curve during fine-tuning (trapezoids over the evaluated steps,
divided by the steps: the mean loss in nats, so onset_tol keeps its meaning), reported as
dAUC_k = 100 (AUC_k / AUC_ref - 1) against the checkpoint at the end of the first task (the
first one at or after task_tokens, in both schedules; the first trained checkpoint when there
is none). `metric=final` uses the last loss instead.

An intervention, to locate the loss: `reset_unseen` sets the embedding rows of the tokens the
probe language uses and the training languages never do back to their initial values before
each fine-tune (those tokens never appear as inputs, so training moves their rows only
through a tied output layer, which pushes them down, and weight decay). The records say so,
and are never mixed with plain ones: probe a copy of the run.
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

import diagnostics
import onset
from configurator import configure
from data import Sampler, corpus_fingerprint, corpus_languages, fixed_batches, load_corpus, token_ids
from finetune import cores, run_all
from model import tune_malloc, write_json

# ----------------------------------------------------------------------------- settings
run_dir = "out/run"
data_dir = ""  # "" = the run's own
probe_lang = ""  # "" = the run's own (vi)
checkpoints = ""  # comma-separated steps; "" = every checkpoint of the run
seeds = "0,1,2"  # probe seeds: each gives its own fine-tuning batches
modes = "full"  # comma-separated: full, lora<r> (e.g. lora4), last<k> (e.g. last1)
probe_steps = 150
probe_lr = 0.0  # 0 = the run's own learning rate
lr_grid = ""  # comma-separated learning rates; replaces probe_lr; best per checkpoint is marked
probe_batch_size = 0  # 0 = the run's batch_size
eval_every = 15
eval_batches = 4  # fixed probe-language validation batches
forget_batches = 1  # fixed validation batches per training language, for forgetting
metric = "auc"  # auc | final : what the onset is computed from
onset_tol = 0.05  # nats worse than the best checkpoint that count as plasticity loss
n_boot = 1000
threads = 1  # CPU threads per fine-tune; fixed, because the numbers depend on it (recorded per record)
workers = 0  # processes fine-tuning side by side, each with `threads` threads; 0 = as the cores allow
batched = False  # full-mode fine-tunes as one computation, `members` at a time (finetune.py; for a GPU)
members = 8
compile = False  # batched: the step and evaluation through torch.compile, paid once per process and group shape
reset_unseen = False  # before fine-tuning, the embedding rows of tokens the probe language uses and the training
# languages never do go back to their step-0 values: how much of the probe curve lives in those rows
device = "auto"
dtype = "auto"  # auto (bfloat16 on a GPU, else float32) | float32 | bfloat16 | float64: weights and arithmetic in
# double precision, to tell float rounding that a fine-tune amplifies from a difference between two ways of computing
onset_only = False  # only recompute onset.json and probe.png from probe.jsonl (no checkpoints, no corpus needed)
calibrate = False  # only run the onset estimator's calibration on simulated curves and print it
calib_sets = 200  # calibrate: simulated curve sets per (shape, noise, checkpoint noise)
# -----------------------------------------------------------------------------


# ----------------------------------------------------------------------------- onset


def metric_table(records, mode, seed_list, name=None):
    """(tokens, table[seed][checkpoint], scratch[seed] or None) over the trained checkpoints
    that every seed has probed, from the best-lr records of one mode; name: the metric (the
    setting's by default)."""
    name = name or metric
    by = {(r["ckpt_step"], r["seed"]): r for r in records if r["mode_name"] == mode and r["best_lr"]}
    steps = sorted({s for s, _ in by})
    trained = [s for s in steps if s > 0 and all((s, sd) in by for sd in seed_list)]
    tokens = [by[(s, seed_list[0])]["tokens"] for s in trained]
    table = [[by[(s, sd)][name] for s in trained] for sd in seed_list]
    scratch = [by[(0, sd)][name] for sd in seed_list] if all((0, sd) in by for sd in seed_list) else None
    return tokens, table, scratch


def reference_tokens(tokens, task_tokens):
    """The checkpoint dAUC is relative to: the first at or after the first task's end (the
    first trained one when there is none)."""
    trained = sorted(t for t in tokens if t > 0)
    return next((t for t in trained if t >= task_tokens), trained[0]) if trained else None


def annotate(records, task_tokens):
    """best_lr per (checkpoint, mode), and each record's dAUC against its own seed, mode and lr
    at the reference checkpoint (None until that one is probed)."""
    mark_best(records)
    ref = reference_tokens({r["tokens"] for r in records}, task_tokens)
    ref_auc = {(r["seed"], r["mode_name"], r["lr"]): r["auc"] for r in records if r["tokens"] == ref}
    for r in records:
        a = ref_auc.get((r["seed"], r["mode_name"], r["lr"]))
        r["dauc"] = None if a is None else round(100 * (r["auc"] / a - 1), 4)


def onsets_from_records(records, seed_list, tol, n_boot, task_tokens, in_tasks, name=None):
    """{mode_name: onset dict} from the records of a run; in_tasks (continual runs) adds the
    onset in tasks of task_tokens. delta_pct: dAUC of the seed-mean metric per checkpoint.
    name: the metric (the setting's by default)."""
    name = name or metric
    out = {}
    for mode in sorted({r["mode_name"] for r in records}):
        tokens, table, scratch = metric_table(records, mode, seed_list, name)
        if len(tokens) < 2:
            continue
        est = onset.estimate_onset(tokens, table, scratch, tol, n_boot)
        mean = np.mean(table, 0)
        ref = tokens.index(reference_tokens(tokens, task_tokens))
        est.update(metric=name, mode=mode, n_seeds=len(seed_list), tokens=tokens,
                   mean_curve=[float(v) for v in mean],
                   scratch=None if scratch is None else float(np.mean(scratch)),
                   delta_ref_tokens=tokens[ref], delta_pct=[float(100 * (v / mean[ref] - 1)) for v in mean])
        if in_tasks:
            def tasks(t):
                return None if t is None else t / task_tokens

            est.update(task_tokens=task_tokens, onset_tasks=tasks(est["onset_tokens"]),
                       interval_tasks=None if est["interval"] is None else [tasks(t) for t in est["interval"]])
        out[mode] = est
    return out


def plot(run, onsets, records, seed_list, path, diag=None):
    """The probe metric against training tokens (mean, seed range, smooth curve, onset); below
    it, with diagnostics, each one against training tokens on the same axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in diagnostics.SUMMARY if diag and any(v is not None for v in diag[k])]
    rows = -(-len(names) // 4)
    fig = plt.figure(figsize=(7.2, 4.4 + 1.5 * rows))
    grid = fig.add_gridspec(1 + rows, 4, height_ratios=[4.4] + [1.5] * rows)
    ax = fig.add_subplot(grid[0, :])
    for i, name in enumerate(names):
        sub = fig.add_subplot(grid[1 + i // 4, i % 4], sharex=ax)
        pts = [(t, v) for t, v in zip(diag["tokens"], diag[name]) if v is not None and t > 0]
        sub.plot([t for t, _ in pts], [v for _, v in pts], ".-", ms=3, lw=0.8, color="0.3")
        sub.set_title(name, fontsize=7)
        sub.tick_params(labelsize=6)
        head = onsets.get("full") or next(iter(onsets.values()))
        if head["onset_tokens"]:
            sub.axvline(head["onset_tokens"], color="C0", ls="--", lw=0.8)
    for i, (mode, est) in enumerate(onsets.items()):
        color = f"C{i}"
        tokens, table, _ = metric_table(records, mode, seed_list)
        table = np.asarray(table)
        ax.plot(tokens, table.mean(0), "o", ms=4, color=color, label=f"{mode}: mean of {len(table)} seeds")
        ax.fill_between(tokens, table.min(0), table.max(0), color=color, alpha=0.2, lw=0,
                        label=f"{mode}: range over seeds")
        ax.plot(tokens, est["smooth_curve"], "-", color=color, lw=1.2, label=f"{mode}: smooth curve (onset.py)")
        if est["scratch"] is not None:
            ax.axhline(est["scratch"], color=color, ls=":", label=f"{mode}: from scratch (step 0)")
        if est["onset_tokens"]:
            tasks = f" = {est['onset_tasks']:.3g} tasks" if est.get("onset_tasks") else ""
            ax.axvline(est["onset_tokens"], color=color, ls="--",
                       label=f"{mode}: onset {est['onset_tokens']:.3g} tokens{tasks}")
            if est["interval"]:
                ax.axvspan(est["interval"][0], est["interval"][1] or tokens[-1], color=color, alpha=0.08, lw=0,
                           label=f"{mode}: onset, 95% interval")
    ax.set_xscale("log")
    ax.set_xlabel("training tokens of the checkpoint")
    ax.set_ylabel(f"{records[0]['probe_lang']} probe: {'AUC of the validation loss' if metric == 'auc' else 'final loss'} (nats)")
    head = onsets.get("full") or next(iter(onsets.values()))
    if metric == "auc":  # dAUC is a linear rescaling of AUC: a second axis, not a second plot
        ref = head["mean_curve"][head["tokens"].index(head["delta_ref_tokens"])]
        sec = ax.secondary_yaxis("right", functions=(lambda a: 100 * (a / ref - 1), lambda d: ref * (1 + d / 100)))
        sec.set_ylabel(f"dAUC (%) vs the checkpoint at {head['delta_ref_tokens']:,} tokens")
    ax.set_title(f"{path.parent.name}: {run['model']} ({run['n_nonembed'] / 1e6:.3g}M), {run['schedule']}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = str(path) + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- main


def main(argv):
    settings = configure(globals(), argv)
    if calibrate:
        rows = onset.calibrate(n_sets=calib_sets, tol=onset_tol, n_boot=min(n_boot, 200))
        for nugget in (0.02, 0.05):  # noise shared by a checkpoint's seeds (its own training noise)
            rows += onset.calibrate(noises=(0.005,), n_sets=calib_sets, tol=onset_tol, n_boot=min(n_boot, 200),
                                    nugget=nugget)
        print("onset estimator on simulated probe curves (3 seeds, 10 checkpoints per decade, 3 decades, "
              f"onset_tol {onset_tol}):\n" + onset.calibration_table(rows))
        return
    if metric not in ("auc", "final"):
        raise SystemExit(f"probe.py: metric must be auc or final, got {metric!r}")
    if threads < 1:
        raise SystemExit(f"probe.py: threads must be >= 1, got {threads}")
    if dtype not in ("auto", "float32", "bfloat16", "float64"):
        raise SystemExit(f"probe.py: dtype must be auto, float32, bfloat16 or float64, got {dtype!r}")
    if compile and not batched:
        raise SystemExit("probe.py: --compile=True compiles the batched fine-tunes; fix: add --batched=True")
    torch.set_num_threads(threads)
    tune_malloc()
    run_path = Path(run_dir)
    if not (run_path / "config.json").exists():
        raise SystemExit(f"probe.py: {run_path} is not a training run (no config.json); fix: --run_dir=out/<run>")
    run = json.loads((run_path / "config.json").read_text())
    if onset_only:
        records_path = run_path / "probe.jsonl"
        if not records_path.exists():
            raise SystemExit(f"probe.py: {records_path} does not exist; fix: probe the run first (without --onset_only)")
        records = [json.loads(ln) for ln in records_path.read_text().splitlines()]
        old = json.loads((run_path / "onset.json").read_text()) if (run_path / "onset.json").exists() else {}
        finish(run, run_path, records, sorted({r["seed"] for r in records}),
               dict(probe_settings=old.get("probe_settings"),  # what made the records; the onset's own now:
                    onset_recomputed=dict(metric=metric, onset_tol=onset_tol, n_boot=n_boot),
                    diagnostics=old.get("diagnostics")))
        return
    lang = probe_lang or run["probe_lang"]
    if not lang or lang in run["train_langs"]:
        raise SystemExit(f"probe.py: {lang or 'no language'} cannot be probed: "
                         + (f"{run_path} trained on it" if lang else "the run has no probe language")
                         + f"; fix: --probe_lang=<a language of the corpus it never saw, not {', '.join(run['train_langs'])}>")
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    precision = dtype if dtype != "auto" else "bfloat16" if dev.startswith("cuda") else "float32"

    # checkpoints: complete ones have a sidecar
    cards = {int(p.stem.split("_")[1]): json.loads(p.read_text()) for p in sorted((run_path / "ckpt").glob("step_*.json"))}
    wanted = [int(s) for s in checkpoints.split(",") if s] or sorted(cards)
    missing = [s for s in wanted if s not in cards]
    if missing or not wanted:
        raise SystemExit(f"probe.py: no checkpoint at step(s) {missing or 'any'} in {run_path}/ckpt; "
                         f"available: {sorted(cards)}")

    # data: loaded once; batches built once per seed and reused for every checkpoint
    data_root = data_dir or run["data_dir"]
    bins, vocab = load_corpus(data_root, run["corpus"], [lang] + run["train_langs"])
    metas = corpus_languages(Path(data_root) / run["corpus"])
    fingerprint = corpus_fingerprint(metas, run["eval_langs"])
    if vocab.hash != run["vocab_hash"] or run.get("data_sha256", fingerprint) != fingerprint:  # older runs have none
        raise SystemExit(f"probe.py: corpus {Path(data_root) / run['corpus']} is not the one the run was trained on "
                         "(other bins or vocabulary); fix: point --data_dir at the run's corpus, or rebuild it as it was")
    probe_meta = metas[lang]
    T, B = run["block_size"], probe_batch_size or run["batch_size"]
    reset_ids = None
    if reset_unseen:
        if 0 not in cards:
            raise SystemExit(f"probe.py: --reset_unseen=True needs the step-0 checkpoint of {run_path}, which is "
                             "missing; fix: probe without it, or retrain the run")
        size = run["model_args"]["vocab_size"]
        seen = set().union(*(token_ids(bins[lg]["train"], size) for lg in run["train_langs"]))
        reset_ids = sorted(token_ids(bins[lang]["train"], size) - seen)
        print(f"reset_unseen: {len(reset_ids)} token rows set back to step 0 before every fine-tune")
    seed_list = [int(s) for s in seeds.split(",") if s]
    mode_list = [m for m in modes.split(",") if m]
    lrs = [float(x) for x in lr_grid.split(",") if x] or [probe_lr or run["lr"]]
    evals = {"probe": fixed_batches(bins[lang]["val"], eval_batches, B, T, name=f"{lang} val.bin")}
    evals.update({lg: fixed_batches(bins[lg]["val"], forget_batches, B, T, name=f"{lg} val.bin")
                  for lg in run["train_langs"]})
    batches = {}
    for sd in seed_list:
        sampler = Sampler({lang: bins[lang]["train"]}, T, seed=10_000 + sd)
        batches[sd] = [sampler.sample(B)[:2] for _ in range(probe_steps)]

    # resume: skip what is done
    records_path = run_path / "probe.jsonl"
    records = [json.loads(ln) for ln in records_path.read_text().splitlines()] if records_path.exists() else []
    # records made with other settings would mix into the onset; refuse rather than overwrite them
    same = dict(probe_lang=lang, probe_data=probe_meta["train_sha256"][:16] + probe_meta["val_sha256"][:16],
                probe_steps=probe_steps, batch_size=B, lr_grid=",".join(f"{x:g}" for x in lrs), eval_every=eval_every,
                eval_batches=eval_batches, forget_batches=forget_batches, threads=threads, batched=batched,
                dtype=precision, device=dev.split(":")[0], torch_version=torch.__version__)
    for key, on in (("reset_unseen", reset_unseen), ("compiled", compile)):
        if on:  # absent otherwise, as in records made before the setting existed
            same[key] = True
    other = {k: sorted({str(r.get(k)) for r in records} - {str(same.get(k))}) for k in {*same, "reset_unseen", "compiled"}}
    other = {k: v for k, v in other.items() if v}
    if other:
        raise SystemExit(f"probe.py: {records_path} holds probes made with other settings {other} (now {same}); "
                         "fix: rerun with those settings (threads, device and dtype too), or move the file aside "
                         "to start a new probe")
    done = {(r["ckpt_step"], r["seed"], r["mode_name"], r["lr"]) for r in records}
    todo = [(s, m, lr, sd) for s in wanted for m in mode_list for lr in lrs for sd in seed_list
            if (s, sd, m, lr) not in done]
    print(f"probe {run_path}: {len(wanted)} checkpoints x {len(seed_list)} seeds x {len(mode_list)} modes x "
          f"{len(lrs)} lrs; {len(todo)} to do, {probe_steps} steps of {B}x{T} on {lang}")

    # the fine-tunes: one at a time, or full-mode ones of one lr in groups of at most `members`,
    # as even as they can be (batched); in this process or in worker processes of `threads`
    # threads each, the results in order
    jobs = [[t] for t in todo if not batched or t[1] != "full"]
    if batched:
        full = [t for t in todo if t[1] == "full"]
        for lr in lrs:
            group = [t for t in full if t[2] == lr]
            n = -(-len(group) // members)
            jobs += [group[i * len(group) // n:(i + 1) * len(group) // n] for i in range(n)]
    n_workers = workers or (1 if dev != "cpu" or len(todo) * probe_steps < 2000 else max(1, cores() // threads))
    if n_workers > 1:
        print(f"{n_workers} worker processes of {threads} thread(s) each")
    shared = dict(run_path=run_path, run=run, batches=batches, evals=evals, eval_every=eval_every, dev=dev,
                  precision=precision, reset_ids=reset_ids, compiled=compile,
                  pad_to=max(map(len, jobs), default=0) if compile else 0)
    results = ((t, rec) for job, recs in zip(jobs, run_all(jobs, shared, min(n_workers, len(jobs)), threads))
               for t, rec in zip(job, recs))
    t0, damaged = time.time(), {}
    for i, ((step, mode, lr, sd), rec) in enumerate(results):
        if isinstance(rec, str):  # the checkpoint is damaged: named once, its other probes skipped
            if step not in damaged:
                print(f"probe.py: {rec}; skipped", file=sys.stderr)
            damaged[step] = rec
            continue
        card = cards[step]
        rec = dict(ckpt_step=step, tokens=card["tokens"], task_index=card["task_index"], lang=card["lang"],
                   **rec, **same, n_nonembed=run["n_nonembed"],
                   model=run["model"], schedule=run["schedule"], run_seed=run["seed"],
                   code_version=run.get("code_version"))
        records.append(rec)
        annotate(records, run["task_tokens"])
        tmp = records_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        os.replace(tmp, records_path)
        el = time.time() - t0
        print(f"[{i + 1}/{len(todo)}] step {step} ({card['tokens']:,} tokens) {mode} lr {lr:g} seed {sd}: "
              f"{rec['zero_shot']:.3f} -> {rec['final']:.3f} | eta {el / (i + 1) * (len(todo) - i - 1) / 60:.1f}m",
              flush=True)

    if damaged:
        intact = ",".join(str(s) for s in wanted if s not in damaged)
        raise SystemExit(f"probe.py: {len(damaged)} checkpoint(s) could not be used: {'; '.join(damaged.values())}. "
                         f"The other probes are saved in {records_path}. Fix: a training run cannot rewrite a "
                         f"checkpoint, so retrain into a new out_dir for it, or leave it out with --checkpoints={intact}")
    finish(run, run_path, [r for r in records if r["ckpt_step"] in wanted], seed_list,
           dict(probe_settings=settings, diagnostics=diagnostics.table(cards.values())))


def finish(run, run_path, records, seed_list, provenance):
    """The onset per mode from the records: onset.json (with provenance), probe.png and one line
    per mode."""
    annotate(records, run["task_tokens"])
    onsets = onsets_from_records(records, seed_list, onset_tol, n_boot, run["task_tokens"],
                                 in_tasks=run["schedule"] == "continual")
    if not onsets:
        print("probe.py: fewer than two trained checkpoints probed: no onset estimated")
        return
    # the other metric too: the AUC weighs the start of the fine-tuning curve (the checkpoint's
    # loss before any step), the final loss only its end; an onset in one and not the other says which
    other = "final" if metric == "auc" else "auc"
    other_onsets = {mode: {k: est[k] for k in ("metric", "onset_tokens", "interval", "censored", "resolved",
                                                 "best_tokens", "last_tokens")}
                    for mode, est in onsets_from_records(records, seed_list, onset_tol, n_boot, run["task_tokens"],
                                                         False, other).items()}
    head = onsets.get("full") or next(iter(onsets.values()))
    write_json(run_path / "onset.json", dict(head, run=run_path.name, onsets_by_mode=onsets,
                                             other_metric_onsets=other_onsets, **provenance))
    plot(run, onsets, records, seed_list, run_path / "probe.png", provenance.get("diagnostics"))
    for mode, est in onsets.items():
        if est["censored"]:
            desc = f"no onset up to {est['last_tokens']:,.0f} tokens (censored)"
        else:
            iv = est["interval"] or [None, None]
            lo = "n/a" if iv[0] is None else f"{iv[0]:,.0f}"
            hi = "censored" if iv[1] is None else f"{iv[1]:,.0f}"
            tasks = f" = {est['onset_tasks']:.3g} tasks" if est.get("onset_tasks") else ""
            desc = f"onset at {est['onset_tokens']:,.0f} tokens{tasks} (95% interval {lo} .. {hi})"
            if not est["resolved"]:
                desc += "; unresolved: the probe was best at the first checkpoint, add earlier ones"
        if est.get("checkpoint_noise_share", 0) >= 0.5:
            desc += (f"; {est['checkpoint_noise_share']:.0%} of the noise is checkpoint-to-checkpoint, "
                     "which more probe seeds cannot reduce (more checkpoints or training seeds can)")
        print(f"{mode}: {desc}; best checkpoint at {est['best_tokens']:,.0f} tokens")
        o = other_onsets.get(mode)
        if o:
            print(f"{mode}, {o['metric']} loss: " + (f"no onset up to {o['last_tokens']:,.0f} tokens (censored)"
                                                    if o["censored"] else f"onset at {o['onset_tokens']:,.0f} tokens"))
    print(f"wrote {run_path / 'probe.jsonl'}, {run_path / 'onset.json'}, {run_path / 'probe.png'}")


def cost_tokens(rec, block_size):
    """What one probe record cost, in training tokens of the same model: its fine-tuning steps
    (forward and backward, as in training) plus its probe-language and forgetting evaluations,
    counted at a third (forward only). A study's probe cost over its training cost is the sum
    of these over its records divided by the tokens it trained on (sweep.py's RUN.md)."""
    tokens = rec["batch_size"] * block_size
    evals = len(rec["eval_steps"]) * (rec["eval_batches"] + len(rec["forget"]) * rec["forget_batches"])
    return tokens * (rec["probe_steps"] + evals / 3)


def mark_best(records):
    """best_lr: per (checkpoint, mode), the lr with the lowest mean metric over seeds."""
    groups = {}
    for r in records:
        groups.setdefault((r["ckpt_step"], r["mode_name"]), {}).setdefault(r["lr"], []).append(r[metric])
    for r in records:
        by_lr = groups[(r["ckpt_step"], r["mode_name"])]
        r["best_lr"] = r["lr"] == min(by_lr, key=lambda lr: np.mean(by_lr[lr]))


if __name__ == "__main__":
    main(sys.argv[1:])
