"""
The plasticity probe: how well can each checkpoint of a run still learn a new language?

    python probe.py --run_dir=out/tiny                       # every checkpoint, seeds 0,1,2, full fine-tuning
    python probe.py --run_dir=out/tiny --modes=full,lora4,last1 --lr_grid=1e-3,3e-3

For every checkpoint (the step-0 one is the from-scratch reference: same architecture and
initialisation, never trained) and every probe seed: load the weights, give them a fresh
AdamW, fine-tune on the probe language (Vietnamese by default) for probe_steps steps at a
constant learning rate, and evaluate the probe language's validation loss every eval_every
steps on fixed batches. In the same pass, the training languages' validation loss is
measured along the way: that is forgetting.

Common random numbers: the fine-tuning batches (and LoRA's initialisation) depend on the
probe seed only, so every checkpoint of a run sees exactly the same data in the same order
and differences between checkpoints are not sampling noise.

Outputs in the run directory:
  probe.jsonl   one record per (checkpoint, seed, mode, lr): the curve, zero-shot, final and
                mean-over-curve loss, forgetting curves, trainable parameters, best_lr flag.
                Finished probes are skipped when the command runs again; the file is
                rewritten atomically, so an interruption never leaves a partial record.
  onset.json    the onset of plasticity loss per fine-tuning mode, with a bootstrap interval
                over probe seeds, or "censored" when no loss is measurable; "resolved" is
                false when the best checkpoint is the first one and the onset lies before the
                second: then the checkpoint grid only bounds the onset.
  probe.png     the probe metric against training tokens, a band over seeds, the from-scratch
                line and the onset.

Onset: on the mean over seeds of the metric (final loss by default), find the best
checkpoint; the onset is the first point after it where the metric is worse than the best by
more than onset_tol nats, interpolated in log tokens. Separately, where the metric becomes
worse than the from-scratch reference, if it does.
"""

import json
import math
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from configurator import configure
from data import Sampler, fixed_batches, load_corpus, write_json
from model import GPT, GPTConfig, add_lora, estimate_loss, train_only_last

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
metric = "final"  # final | mean : what the onset is computed from
onset_tol = 0.05  # nats worse than the best checkpoint that count as plasticity loss
n_boot = 1000
device = "auto"
dtype = "auto"
# -----------------------------------------------------------------------------


def mode_setup(model, mode):
    """Apply a fine-tuning mode to a fresh model; returns (kind, trainable parameter count)."""
    if mode == "full":
        return "full", sum(p.numel() for p in model.parameters())
    if mode.startswith("lora") and mode[4:].isdigit():
        return "lora", add_lora(model, int(mode[4:]))
    if mode.startswith("last") and mode[4:].isdigit():
        return "last", train_only_last(model, int(mode[4:]))
    raise SystemExit(f"probe.py: unknown mode {mode!r}; use full, lora<r> (lora4) or last<k> (last1)")


def finetune(weights, cfg, mode, lr, seed, train_batches, evals, run, ctx, dev):
    """Fine-tune one checkpoint; returns the curves. evals: {"probe": batches, lang: batches}."""
    torch.manual_seed(seed)  # LoRA's initialisation: the same for every checkpoint
    model = GPT(GPTConfig(**cfg))
    model.load_state_dict(weights)
    kind, trainable = mode_setup(model, mode)
    model.to(dev).train()
    opt = model.optimizer(lr, run["weight_decay"], (run["beta1"], run["beta2"]), dev.split(":")[0])
    steps, curves = [], {name: [] for name in evals}

    def record(step):
        steps.append(step)
        for name, loss in estimate_loss(model, evals, ctx).items():
            curves[name].append(round(loss, 5))

    record(0)
    for i, (x, y) in enumerate(train_batches):
        with ctx:
            loss = model(x.to(dev), y.to(dev))[1]
        loss.backward()
        if run["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), run["grad_clip"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        if (i + 1) % eval_every == 0 or i + 1 == len(train_batches):
            record(i + 1)
    curve = curves.pop("probe")
    if not all(math.isfinite(v) for v in curve):
        raise SystemExit(f"probe.py: the probe loss became non-finite (mode {mode}, lr {lr}, seed {seed}); "
                         "fix: lower probe_lr")
    return dict(mode=kind, mode_name=mode, lr=lr, seed=seed, trainable_params=trainable, eval_steps=steps,
                curve=curve, zero_shot=curve[0], final=curve[-1], mean=round(float(np.mean(curve[1:])), 5),
                forget=curves)


# ----------------------------------------------------------------------------- onset


def crossing(tokens, values, level, start):
    """First index j > start with values[j] > level, and the log-token interpolated crossing."""
    for j in range(start + 1, len(values)):
        if values[j] > level:
            a, b = values[j - 1], values[j]
            frac = 0.0 if b == a or a > level else (level - a) / (b - a)
            lt = math.log(tokens[j - 1]) + frac * (math.log(tokens[j]) - math.log(tokens[j - 1]))
            return math.exp(lt)
    return None


def onset_of(tokens, curve, tol):
    """Onset for one curve over checkpoints with tokens > 0: after the best point, the first
    point worse than the best by more than tol. None when there is none (censored)."""
    best = int(np.argmin(curve))
    return crossing(tokens, curve, curve[best] + tol, best)


def estimate_onset(tokens, table, scratch, tol=0.05, n_boot=1000, seed=0):
    """tokens: (C,) training tokens of the checkpoints (> 0); table: (S, C) probe metric per
    seed and checkpoint; scratch: (S,) the from-scratch (step 0) metric per seed, or None."""
    tokens = np.asarray(tokens, dtype=float)
    table = np.asarray(table, dtype=float)
    mean = table.mean(0)
    best = int(np.argmin(mean))
    point = onset_of(tokens, mean, tol)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        o = onset_of(tokens, table[rng.integers(len(table), size=len(table))].mean(0), tol)
        boot.append(math.inf if o is None else o)
    lo, hi = np.percentile(boot, [2.5, 97.5], method="inverted_cdf") if len(table) > 1 else (math.nan, math.nan)
    scratch_cross = None if scratch is None else crossing(tokens, mean, float(np.mean(scratch)), best)
    # best at the first checkpoint and already worse at the second: the grid bounds the onset, not resolves it
    resolved = not (point is not None and best == 0 and len(tokens) > 1 and point <= tokens[1])
    return dict(onset_tokens=point, censored=point is None, resolved=resolved, last_tokens=float(tokens[-1]),
                interval=None if len(table) < 2 else [_finite(lo), _finite(hi)],
                censored_fraction=float(np.mean(np.isinf(boot))),
                seed_onsets=None, scratch_cross_tokens=scratch_cross,
                best_tokens=float(tokens[best]), tol=tol)


def _finite(x):
    return float(x) if math.isfinite(x) else None


def metric_table(records, mode, seed_list):
    """(tokens, table[seed][checkpoint], scratch[seed] or None) over the trained checkpoints
    that every seed has probed, from the best-lr records of one mode."""
    by = {(r["ckpt_step"], r["seed"]): r for r in records if r["mode_name"] == mode and r["best_lr"]}
    steps = sorted({s for s, _ in by})
    trained = [s for s in steps if s > 0 and all((s, sd) in by for sd in seed_list)]
    tokens = [by[(s, seed_list[0])]["tokens"] for s in trained]
    table = [[by[(s, sd)][metric] for s in trained] for sd in seed_list]
    scratch = [by[(0, sd)][metric] for sd in seed_list] if all((0, sd) in by for sd in seed_list) else None
    return tokens, table, scratch


def onsets_from_records(records, seed_list, tol, n_boot):
    """{mode_name: onset dict} from the records of a run."""
    out = {}
    for mode in sorted({r["mode_name"] for r in records}):
        tokens, table, scratch = metric_table(records, mode, seed_list)
        if len(tokens) < 2:
            continue
        est = estimate_onset(tokens, table, scratch, tol, n_boot)
        est["seed_onsets"] = {str(sd): onset_of(tokens, row, tol) for sd, row in zip(seed_list, table)}
        est.update(metric=metric, mode=mode, n_seeds=len(seed_list), tokens=tokens,
                   mean_curve=[float(v) for v in np.mean(table, 0)],
                   scratch=None if scratch is None else float(np.mean(scratch)))
        out[mode] = est
    return out


def plot(run, onsets, records, seed_list, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (mode, est) in enumerate(onsets.items()):
        color = f"C{i}"
        tokens, table, _ = metric_table(records, mode, seed_list)
        table = np.asarray(table)
        ax.plot(tokens, table.mean(0), "o-", color=color, label=f"{mode}: mean of {len(table)} seeds")
        ax.fill_between(tokens, table.min(0), table.max(0), color=color, alpha=0.2)
        if est["scratch"] is not None:
            ax.axhline(est["scratch"], color=color, ls=":", label=f"{mode}: from scratch (step 0)")
        if est["onset_tokens"]:
            ax.axvline(est["onset_tokens"], color=color, ls="--", label=f"{mode}: onset {est['onset_tokens']:.3g} tokens")
            if est["interval"] and est["interval"][0]:
                ax.axvspan(est["interval"][0], est["interval"][1] or tokens[-1], color=color, alpha=0.08)
    ax.set_xscale("log")
    ax.set_xlabel("training tokens of the checkpoint")
    ax.set_ylabel(f"{run['probe_lang']} validation loss after fine-tuning ({metric})")
    ax.set_title(f"{Path(run['out_dir']).name}: {run['model']} ({run['n_nonembed'] / 1e6:.3g}M), {run['schedule']}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = str(path) + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- main


def main(argv):
    configure(globals(), argv)
    run_path = Path(run_dir)
    if not (run_path / "config.json").exists():
        raise SystemExit(f"probe.py: {run_path} is not a training run (no config.json); fix: --run_dir=out/<run>")
    run = json.loads((run_path / "config.json").read_text())
    lang = probe_lang or run["probe_lang"]
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    use_bf16 = dtype == "bfloat16" or (dtype == "auto" and dev.startswith("cuda"))
    ctx = torch.autocast(dev.split(":")[0], dtype=torch.bfloat16) if use_bf16 else nullcontext()

    # checkpoints: complete ones have a sidecar
    cards = {int(p.stem.split("_")[1]): json.loads(p.read_text()) for p in sorted((run_path / "ckpt").glob("step_*.json"))}
    wanted = [int(s) for s in checkpoints.split(",") if s] or sorted(cards)
    missing = [s for s in wanted if s not in cards]
    if missing or not wanted:
        raise SystemExit(f"probe.py: no checkpoint at step(s) {missing or 'any'} in {run_path}/ckpt; "
                         f"available: {sorted(cards)}")

    # data: loaded once; batches built once per seed and reused for every checkpoint
    bins, vocab = load_corpus(data_dir or run["data_dir"], run["corpus"], [lang] + run["train_langs"])
    if vocab.hash != run["vocab_hash"]:
        raise SystemExit(f"probe.py: corpus {run['corpus']} has another vocabulary than the run; fix: rebuild it or "
                         "point data_dir at the run's data")
    T, B = run["block_size"], probe_batch_size or run["batch_size"]
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
    same = dict(probe_lang=lang, probe_steps=probe_steps, batch_size=B, eval_every=eval_every)
    other = {k: sorted({str(r.get(k)) for r in records} - {str(v)}) for k, v in same.items()}
    other = {k: v for k, v in other.items() if v}
    if other:
        raise SystemExit(f"probe.py: {records_path} holds probes made with other settings {other} (now {same}); "
                         "fix: rerun with those settings, or move the file aside to start a new probe")
    done = {(r["ckpt_step"], r["seed"], r["mode_name"], r["lr"]) for r in records}
    todo = [(s, m, lr, sd) for s in wanted for m in mode_list for lr in lrs for sd in seed_list
            if (s, sd, m, lr) not in done]
    print(f"probe {run_path}: {len(wanted)} checkpoints x {len(seed_list)} seeds x {len(mode_list)} modes x "
          f"{len(lrs)} lrs; {len(todo)} to do, {probe_steps} steps of {B}x{T} on {lang}")

    t0, weights, loaded = time.time(), None, None
    for i, (step, mode, lr, sd) in enumerate(todo):
        if loaded != step:
            ckpt = torch.load(run_path / "ckpt" / f"step_{step:07d}.pt", map_location="cpu", weights_only=True)
            weights, cfg, loaded = ckpt["model"], ckpt["model_args"], step
        rec = finetune(weights, cfg, mode, lr, sd, batches[sd], evals, run, ctx, dev)
        card = cards[step]
        rec = dict(ckpt_step=step, tokens=card["tokens"], task_index=card["task_index"], lang=card["lang"],
                   **rec, probe_lang=lang, probe_steps=probe_steps, batch_size=B, eval_every=eval_every, n_nonembed=run["n_nonembed"],
                   model=run["model"], schedule=run["schedule"], run_seed=run["seed"],
                   code_version=run.get("code_version"))
        records.append(rec)
        mark_best(records)
        tmp = records_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        os.replace(tmp, records_path)
        el = time.time() - t0
        print(f"[{i + 1}/{len(todo)}] step {step} ({card['tokens']:,} tokens) {mode} lr {lr:g} seed {sd}: "
              f"{rec['zero_shot']:.3f} -> {rec['final']:.3f} | eta {el / (i + 1) * (len(todo) - i - 1) / 60:.1f}m", flush=True)

    mark_best(records)
    records = [r for r in records if r["ckpt_step"] in wanted]
    onsets = onsets_from_records(records, seed_list, onset_tol, n_boot)
    if not onsets:
        print("probe.py: fewer than two trained checkpoints probed: no onset estimated")
        return
    head = onsets.get("full") or next(iter(onsets.values()))
    write_json(run_path / "onset.json", dict(head, run=run_path.name, onsets_by_mode=onsets))
    plot(run, onsets, records, seed_list, run_path / "probe.png")
    for mode, est in onsets.items():
        if est["censored"]:
            desc = f"no onset up to {est['last_tokens']:,.0f} tokens (censored)"
        else:
            iv = est["interval"] or [None, None]
            lo = "n/a" if iv[0] is None else f"{iv[0]:,.0f}"
            hi = "censored" if iv[1] is None else f"{iv[1]:,.0f}"
            desc = f"onset at {est['onset_tokens']:,.0f} tokens (95% interval over seeds {lo} .. {hi})"
            if not est["resolved"]:
                desc += "; unresolved: the probe was best at the first checkpoint, add earlier ones"
        print(f"{mode}: {desc}; best checkpoint at {est['best_tokens']:,.0f} tokens")
    print(f"wrote {records_path}, {run_path / 'onset.json'}, {run_path / 'probe.png'}")


def mark_best(records):
    """best_lr: per (checkpoint, mode), the lr with the lowest mean final loss over seeds."""
    groups = {}
    for r in records:
        groups.setdefault((r["ckpt_step"], r["mode_name"]), {}).setdefault(r["lr"], []).append(r["final"])
    for r in records:
        by_lr = groups[(r["ckpt_step"], r["mode_name"])]
        r["best_lr"] = r["lr"] == min(by_lr, key=lambda lr: np.mean(by_lr[lr]))


if __name__ == "__main__":
    main(sys.argv[1:])
