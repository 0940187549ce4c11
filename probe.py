"""
The plasticity probe: how well can each checkpoint of a run still learn a new language?

    python probe.py --run_dir=out/tiny                       # cycle ends, task-length fine-tunes, seeds 0,1,2
    python probe.py --run_dir=out/tiny --probe_steps=100     # a short probe (named so in every report)
    python probe.py --run_dir=out/tiny --modes=full,lora4,last1 --lr_grid=1e-3,3e-3
    python probe.py --run_dir=results/demo/runs/cpu-1k-continual-s0 --onset_only=True   # onsets again, from probe.jsonl
    python probe.py --calibrate                              # the onset estimators on simulated curves

The paper's protocol, as far as we know it (README: secondary readings): at the end of every
cycle of tasks (n_langs tasks; plus the end of the first task, and the step-0 checkpoint as the
from-scratch reference), a discarded copy of the checkpoint gets a fresh AdamW and is fine-tuned
on the probe language (Vietnamese) for as many tokens as a task, at a constant learning rate,
its validation loss evaluated densely along the way (n_evals evaluations, evenly spaced: the
paper evaluates every 95 of 9,537 steps). The metric is the area under that curve, per step
(AUC, the mean loss in nats), and the onset is where dAUC = 100 (AUC_k / AUC_1 - 1) against
cycle 1 turns positive and stays so. A stationary run, checkpointed at the same token counts,
is probed at them. Evenly spaced evaluations, not log-spaced: the AUC weighs every fine-tuning
step alike, so evaluations bunched at the start would cost without changing what it weighs;
with 100 of them the step-0 evaluation carries 1/200 of the AUC times its loss over the
mean (about 0.5-1.5%; every record says it: step0_share), where a 5-evaluation probe let it
carry 5-25% and made onsets out of a worse start.

Every record keeps the loss before fine-tuning (zero_shot), the AUC, the AUC without the
step-0 term and the final loss, and onset.json has the onset of each of them under both
definitions (run_onset.py), so a worse start is never read as a worse learner.

Common random numbers: the fine-tuning batches (and LoRA's initialisation) depend on the
probe seed only, so every checkpoint of a run sees exactly the same data in the same order
and differences between checkpoints are not sampling noise. While fine-tuning, the training
languages' validation loss is measured too: that is forgetting.

Determinism: the fine-tuning amplifies float differences (up to 0.05 nats between 1 and 2
CPU threads on one checkpoint), so the probe runs with a fixed thread count (`threads`, 1 by
default: every machine has one) and records it with the dtype, device and torch version in
every record; records that differ in any of these, or in any setting that changes their
numbers, are refused rather than mixed into one onset.

Outputs in the run directory:
  probe.jsonl   one record per (checkpoint, seed, mode, lr): the curve, the four metrics and
                step0_share, dAUC against cycle 1, forgetting curves, trainable parameters,
                best_lr flag, and the settings that made it. Finished probes are skipped
                when the command runs again; the file is rewritten atomically.
  onset.json    the head onset (metric, definition) per fine-tuning mode with its interval, in
                tokens and tasks; onsets_by_metric: every metric under both definitions; the
                probe's kind (task-length or short); dAUC per checkpoint.
  probe.png     the head metric against training tokens: mean and range over seeds, the
                smooth curve, cycle 1, the onset and its interval, dAUC on a second axis.

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

import torch

import calibration
import relate
import run_onset
from configurator import configure
from data import Batches, corpus_fingerprint, corpus_languages, fixed_batches, load_corpus, token_ids
from finetune import cores, free_bytes, members_that_fit, run_all
from schedule import cycle_ends
from checkpoint import write_json
from run_onset import METRICS
from model import GPTConfig, n_total, step_bytes, tune_malloc

# ----------------------------------------------------------------------------- settings
run_dir = "out/run"
data_dir = ""  # "" = the run's own
probe_lang = ""  # "" = the run's own (vi)
checkpoints = ""  # "" = cycle ends, the first task's end and step 0 (runs checkpointed at task ends; else every
# checkpoint) | all | comma-separated steps
seeds = "0,1,2"  # probe seeds: each gives its own fine-tuning batches
modes = "full"  # comma-separated: full, lora<r> (e.g. lora4), last<k> (e.g. last1)
probe_tokens = 0  # fine-tuning tokens per probe; 0 = the run's task_tokens (the paper's: a task-length fine-tune)
probe_steps = 0  # > 0: this many steps instead of probe_tokens (a short probe, named so in every report)
probe_lr = 0.0  # 0 = the run's own learning rate
lr_grid = ""  # comma-separated learning rates; replaces probe_lr; best per checkpoint is marked
probe_batch_size = 0  # 0 = the run's batch_size
probe_micro_batch = 0  # > 0: each step's batch in micro-batches of this many sequences, gradients accumulated to it
# (the protocol's batch in the memory of a micro-batch; model.step_bytes); not with batched
warmup_tokens = -1  # linear lr warmup of each fine-tune; -1 = as the run's tasks: its warmup_tokens when it restarts
# the warmup at every task (the paper's schedule: a probe is one more task, with a fresh optimizer), else none
n_evals = 100  # evaluations after step 0, evenly spaced (the paper's: every 95 of 9,537 steps)
eval_every = 0  # > 0: an evaluation every this many steps instead of n_evals
eval_batches = 4  # fixed probe-language validation batches
forget_batches = 1  # fixed validation batches per training language, for forgetting; 0 = none measured
metric = "auc"  # the head onset's metric: auc | auc_no_step0 | final | zero_shot (onset.json has all four)
definition = "delta"  # the head onset's definition: delta (dAUC against cycle 1 turns positive for good, the
# paper's) | rise (onset_tol nats worse than the best checkpoint before it)
onset_tol = 0.05  # rise: nats worse than the best earlier checkpoint that count as plasticity loss
n_boot = 1000
threads = 1  # CPU threads per fine-tune; fixed, because the numbers depend on it (recorded per record)
workers = 0  # processes fine-tuning side by side, each with `threads` threads; 0 = as the cores allow
batched = False  # full-mode fine-tunes as one computation, `members` at a time (finetune.py; for a GPU)
members = 0  # batched: members per group; 0 = as many as the device's free memory holds (model.step_bytes)
compile = False  # batched: the step and evaluation through torch.compile, paid once per process and group shape
reset_unseen = False  # before fine-tuning, the embedding rows of tokens the probe language uses and the training
# languages never do go back to their step-0 values: how much of the probe curve lives in those rows
device = "auto"
tf32 = False  # TF32 for float32 matmuls on a GPU: set for every fine-tune (never inherited from training in the
# same process), and recorded when on
dtype = "auto"  # auto (bfloat16 on a GPU, else float32) | float32 | bfloat16 | float64: weights and arithmetic in
# double precision, to tell float rounding that a fine-tune amplifies from a difference between two ways of computing
onset_only = False  # only recompute onset.json and probe.png from probe.jsonl (no checkpoints, no corpus needed)
calibrate = False  # only run the onset estimator's calibration on simulated curves and print it
calib_sets = 200  # calibrate: simulated cells (curve sets) per row of each table
# -----------------------------------------------------------------------------


# ----------------------------------------------------------------------------- main


def main(argv):
    settings = configure(globals(), argv)
    if calibrate:
        boot = min(n_boot, 200)
        rows = calibration.calibrate_cells(n_sets=calib_sets, n_boot=boot)
        print(f"the paper's onset (dAUC against cycle 1 turns positive for good) on simulated cells ({calib_sets} flat "
              f"and {calib_sets} with a known onset per row, 3 probe seeds, probe noise 0.002-0.005 nats):\n"
              + calibration.cells_table(rows), flush=True)
        rows = calibration.calibrate(n_sets=calib_sets, tol=onset_tol, n_boot=boot)
        for nugget in (0.02, 0.05):
            rows += calibration.calibrate(noises=(0.005,), n_sets=calib_sets, tol=onset_tol, n_boot=boot, nugget=nugget)
        print("\nthe rise from the best (running minimum) on simulated probe curves (3 seeds, 10 checkpoints per "
              f"decade, 3 decades, onset_tol {onset_tol}):\n" + calibration.calibration_table(rows))
        return
    if metric not in METRICS or definition not in run_onset.DEFINITIONS:
        raise SystemExit(f"probe.py: metric must be one of {', '.join(METRICS)} and definition one of "
                         f"{', '.join(run_onset.DEFINITIONS)}; got {metric!r}, {definition!r}")
    if probe_steps < 0 or probe_tokens < 0 or n_evals < 1 or eval_every < 0 or forget_batches < 0:
        raise SystemExit("probe.py: probe_steps, probe_tokens, eval_every and forget_batches must be >= 0 and "
                         "n_evals >= 1")
    if threads < 1:
        raise SystemExit(f"probe.py: threads must be >= 1, got {threads}")
    if dtype not in ("auto", "float32", "bfloat16", "float64"):
        raise SystemExit(f"probe.py: dtype must be auto, float32, bfloat16 or float64, got {dtype!r}")
    if probe_micro_batch and batched:
        raise SystemExit("probe.py: probe_micro_batch accumulates the sequential fine-tune's gradients; fix: "
                         "--batched=False, or probe_micro_batch=0 with members that fit")
    if probe_micro_batch < 0:
        raise SystemExit(f"probe.py: probe_micro_batch must be >= 0 (0: none), got {probe_micro_batch}")
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
                    onset_recomputed=dict(metric=metric, definition=definition, onset_tol=onset_tol,
                                          n_boot=n_boot),
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
    wanted = choose_checkpoints(run, cards)

    # data: loaded once; each seed's batches drawn afresh, the same ones, for every checkpoint
    data_root = data_dir or run["data_dir"]
    bins, vocab = load_corpus(data_root, run["corpus"], [lang] + run["train_langs"])
    metas = corpus_languages(Path(data_root) / run["corpus"])
    fingerprint = corpus_fingerprint(metas, run["eval_langs"])
    if vocab.hash != run["vocab_hash"] or run.get("data_sha256", fingerprint) != fingerprint:  # older runs have none
        raise SystemExit(f"probe.py: corpus {Path(data_root) / run['corpus']} is not the one the run was trained on "
                         "(other bins or vocabulary); fix: point --data_dir at the run's corpus, or rebuild it as it was")
    probe_meta = metas[lang]
    T, B = run["block_size"], probe_batch_size or run["batch_size"]
    steps = probe_steps or max(1, -(-(probe_tokens or run["task_tokens"]) // (B * T)))
    every = eval_every or max(1, round(steps / n_evals))
    warm = run.get("warmup_tokens", 0) if warmup_tokens < 0 and run.get("restart_at_task") else max(warmup_tokens, 0)
    warmup_steps = max(1, warm // (B * T)) if warm else 0
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
    lrs = [float(x) for x in lr_grid.split(",") if x] or [probe_lr or run.get("peak_lr") or run["lr"]]
    evals = {"probe": fixed_batches(bins[lang]["val"], eval_batches, B, T, name=f"{lang} val.bin")}
    if forget_batches:  # 0: no forgetting curves (a stream of many languages would spend its probe on them)
        evals.update({lg: fixed_batches(bins[lg]["val"], forget_batches, B, T, name=f"{lg} val.bin")
                      for lg in run["train_langs"]})
    batches = {sd: Batches(bins[lang]["train"], T, 10_000 + sd, B, steps, lang) for sd in seed_list}  # read lazily

    # resume: skip what is done
    records_path = run_path / "probe.jsonl"
    records = [json.loads(ln) for ln in records_path.read_text().splitlines()] if records_path.exists() else []
    # records made with other settings would mix into the onset; refuse rather than overwrite them
    same = dict(probe_lang=lang, probe_data=probe_meta["train_sha256"][:16] + probe_meta["val_sha256"][:16],
                probe_steps=steps, batch_size=B, lr_grid=",".join(f"{x:g}" for x in lrs), eval_every=every,
                eval_batches=eval_batches, forget_batches=forget_batches, threads=threads, batched=batched,
                dtype=precision, device=dev.split(":")[0], torch_version=torch.__version__)
    for key, on in (("reset_unseen", reset_unseen), ("compiled", compile), ("tf32", tf32),
                    ("warmup_steps", warmup_steps), ("micro_batch", probe_micro_batch)):
        if on:  # absent otherwise, as in records made before the setting existed
            same[key] = on
    other = {k: sorted({str(r.get(k)) for r in records} - {str(same.get(k))})
             for k in {*same, "reset_unseen", "compiled", "tf32", "warmup_steps", "micro_batch"}}
    other = {k: v for k, v in other.items() if v}
    if other:
        raise SystemExit(f"probe.py: {records_path} holds probes made with other settings {other} (now {same}); "
                         "fix: rerun with those settings (threads, device and dtype too), or move the file aside "
                         "to start a new probe")
    done = {(r["ckpt_step"], r["seed"], r["mode_name"], r["lr"]) for r in records}
    todo = [(s, m, lr, sd) for s in wanted for m in mode_list for lr in lrs for sd in seed_list
            if (s, sd, m, lr) not in done]
    print(f"probe {run_path}: {len(wanted)} checkpoints x {len(seed_list)} seeds x {len(mode_list)} modes x "
          f"{len(lrs)} lrs; {len(todo)} to do, {steps} steps of {B}x{T} tokens on {lang} "
          f"({steps * B * T / run['task_tokens']:.3g} of a task), an evaluation every {every} steps"
          + (f", the lr warmed up over {warmup_steps} steps" if warmup_steps else ""))

    # the fine-tunes: one at a time, or full-mode ones of one lr in groups of at most `members`,
    # as even as they can be (batched); in this process or in worker processes of `threads`
    # threads each, the results in order
    jobs = [[t] for t in todo if not batched or t[1] != "full"]
    if batched:
        fit = members or fit_members(run["model_args"], B * T, precision == "bfloat16", dev)
        full = [t for t in todo if t[1] == "full"]
        for lr in lrs:
            group = [t for t in full if t[2] == lr]
            n = -(-len(group) // fit)
            jobs += [group[i * len(group) // n:(i + 1) * len(group) // n] for i in range(n)]
    n_workers = workers or (1 if dev != "cpu" or len(todo) * steps < 2000 else max(1, cores() // threads))
    if n_workers > 1:
        print(f"{n_workers} worker processes of {threads} thread(s) each")
    shared = dict(run_path=run_path, run=run, batches=batches, evals=evals, eval_every=every, dev=dev,
                  precision=precision, reset_ids=reset_ids, compiled=compile, tf32=tf32, warmup_steps=warmup_steps, micro=probe_micro_batch,
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
        run_onset.annotate(records, run, metric)
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
    # a run extended from a kept copy (tools/keep_run.py) may lack its earlier checkpoints' cards: their
    # records and diagnostics (from the onset.json before this probe) stay in, as they were
    old = json.loads((run_path / "onset.json").read_text()) if (run_path / "onset.json").exists() else {}
    finish(run, run_path, [r for r in records if r["ckpt_step"] in wanted or r["ckpt_step"] not in cards], seed_list,
           dict(probe_settings=settings,
                diagnostics=relate.merge(relate.table(cards.values()), old.get("diagnostics"))))


def fit_members(model_args, tokens, bf16, dev):
    """members=0: as many batched members as the device's free memory holds (finetune.members_that_fit)."""
    free = free_bytes(dev)
    k = members_that_fit(model_args, tokens, bf16, free)
    each = step_bytes(GPTConfig(**model_args), n_total(GPTConfig(**model_args)), tokens, bf16)
    if k < 1:
        raise SystemExit(f"probe.py: one batched member needs {each / 1e9:.2f} GB (model.step_bytes) and "
                         f"{free / 1e9:.2f} GB are free on {dev}; fix: --batched=False, or a smaller probe_batch_size")
    print(f"probe.py: {k} batched members fit in the {free / 1e9:.1f} GB free on {dev} ({each / 1e9:.2f} GB each, "
          "a tenth kept free)")
    return k


def choose_checkpoints(run, cards):
    """The steps to probe: the `checkpoints` setting's, checked against the run's checkpoints."""
    if checkpoints in ("", "all"):
        ends = cycle_ends(run["task_tokens"], run["tokens_per_step"], run_onset.cycle_tasks(run), run["max_steps"])
        at_ends = [s for s in sorted(cards) if s == 0 or s in ends]
        if checkpoints == "" and run.get("ckpt_schedule") == "tasks" and len([s for s in at_ends if s]) >= 3:
            if max(cards) not in at_ends:  # the run ended between cycle ends: say so, and what would probe it
                last = max(cards)
                print(f"probe.py: the last checkpoint, step {last} ({cards[last]['tokens']:,} tokens), is not a cycle "
                      "end: not probed (the protocol probes cycle ends); fix: --checkpoints=all to probe it, or "
                      "train to a max_tokens of whole cycles")
            return at_ends
        if checkpoints == "":
            print(f"probe.py: {run_dir} has fewer than three checkpoints at the first task's end and at cycle ends "
                  "(a cycle is a task of every training language): every checkpoint is probed")
        return sorted(cards)
    try:
        wanted = [int(s) for s in checkpoints.split(",") if s]
    except ValueError:
        raise SystemExit(f"probe.py: checkpoints must be empty (cycle ends), all, or comma-separated steps; got "
                         f"{checkpoints!r}") from None
    missing = [s for s in wanted if s not in cards]
    if missing or not wanted:
        raise SystemExit(f"probe.py: no checkpoint at step(s) {missing or 'any'} in {run_dir}/ckpt; "
                         f"available: {sorted(cards)}")
    return wanted


def finish(run, run_path, records, seed_list, provenance):
    """The onsets from the records: onset.json (with provenance), probe.png and a line per
    mode for the head onset and for every metric under both definitions."""
    run_onset.annotate(records, run, metric)
    cell = run_onset.cell_runs(run_path, run, metric)  # the cell's other training runs: the paper's onset's noise
    head, every = run_onset.onsets(records, seed_list, run, metric, definition, onset_tol, n_boot, cell)
    if not head and definition == "delta":  # fewer than 2 checkpoints after cycle 1: the rise from the best
        head, every = run_onset.onsets(records, seed_list, run, metric, "rise", onset_tol, n_boot, cell)
        if head:
            print("probe.py: fewer than two checkpoints after cycle 1 (the reference of dAUC): the head onset is "
                  "the rise from the best (--definition=rise), as onset.json says")
    if not head:
        print("probe.py: fewer than two trained checkpoints probed: no onset estimated")
        return
    kind = run_onset.probe_kind(records, run)
    first = head.get("full") or next(iter(head.values()))
    write_json(run_path / "onset.json", dict(first, run=run_path.name, max_steps=run.get("max_steps"), probe_kind=kind,
                                             onsets_by_mode=head,
                                             onsets_by_metric=every, **provenance))
    run_onset.plot(run, head, records, seed_list, run_path / "probe.png", provenance.get("diagnostics"), kind)
    share = max(r["step0_share"] for r in records)
    print(f"{kind} probe; the step-0 evaluation carries at most {share:.1%} of a record's AUC")
    for mode, est in head.items():
        line = f"{mode}: {run_onset.describe(est)}"
        if est.get("checkpoint_noise_share", 0) >= 0.5:
            line += (f"; {est['checkpoint_noise_share']:.0%} of the noise is checkpoint-to-checkpoint, "
                     "which more probe seeds cannot reduce (more checkpoints or training seeds can)")
        print(line)
        for name in METRICS:
            for d in run_onset.DEFINITIONS:
                o = every.get(name, {}).get(d, {}).get(mode)
                if o is not None:
                    print(f"    {name:>12} {d:>5}: " + (f"none up to {o['last_tokens']:,.0f}" if o["censored"]
                                                        else f"{o['onset_tokens']:,.0f} tokens"
                                                        + ("" if o["interval"] and o["interval"][1] else " (open)")))
    print(f"wrote {'' if onset_only else str(run_path / 'probe.jsonl') + ', '}{run_path / 'onset.json'}, "
          f"{run_path / 'probe.png'}")


def cost_tokens(rec, block_size):
    """What one probe record cost, in training tokens of the same model: its fine-tuning steps
    (forward and backward, as in training) plus its probe-language and forgetting evaluations,
    counted at a third (forward only). A study's probe cost over its training cost is the sum
    of these over its records divided by the tokens it trained on (sweep.py's RUN.md)."""
    tokens = rec["batch_size"] * block_size
    evals = len(rec["eval_steps"]) * (rec["eval_batches"] + len(rec["forget"]) * rec["forget_batches"])
    return tokens * (rec["probe_steps"] + evals / 3)


if __name__ == "__main__":
    main(sys.argv[1:])
