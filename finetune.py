"""
The probe's engine: fine-tune checkpoints on the probe language and record the curves.
probe.py decides what to fine-tune and what the curves mean; this file only runs them.

    finetune          one checkpoint and seed, in any mode (full, lora<r>, last<k>)
    finetune_batched  K checkpoints/seeds of one architecture as one computation (full mode):
                      the weights stacked and the model applied with torch.func.vmap, each member
                      with its own AdamW state and gradient clipping, exactly as finetune does it;
                      equal to finetune up to float rounding (a test checks 1e-3 nats). It pays
                      where one small model leaves a device idle (a GPU); `python probe.py
                      --batched=True` on CPU measures it against the sequential path.
    Jobs              runs a list of fine-tunes in this process or in N worker processes with a
                      fixed thread count each, returning results in order, so the numbers do
                      not depend on N.

Every fine-tune: a fresh AdamW (the run's betas and weight decay), constant learning rate,
the run's gradient clipping, the probe language's validation loss (and the training languages',
for forgetting) on fixed batches at step 0, every eval_every steps and at the end.
"""

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

import numpy as np
import torch
from torch.func import functional_call, grad_and_value, vmap

from model import GPT, GPTConfig, CheckpointError, add_lora, estimate_loss, read_file, train_only_last, tune_malloc


def mode_setup(model, mode):
    """Apply a fine-tuning mode to a fresh model; returns (kind, trainable parameter count)."""
    if mode == "full":
        return "full", sum(p.numel() for p in model.parameters())
    if mode.startswith("lora") and mode[4:].isdigit():
        return "lora", add_lora(model, int(mode[4:]))
    if mode.startswith("last") and mode[4:].isdigit():
        return "last", train_only_last(model, int(mode[4:]))
    raise SystemExit(f"probe.py: unknown mode {mode!r}; use full, lora<r> (lora4) or last<k> (last1)")


def auc(steps, curve):
    """Area under the loss curve over the fine-tuning steps, per step (the mean loss, nats)."""
    s, c = np.asarray(steps, float), np.asarray(curve, float)
    return round(float(np.sum((c[1:] + c[:-1]) * np.diff(s)) / 2 / (s[-1] - s[0])), 5)


def result(mode, kind, lr, seed, trainable, steps, curves):
    curve = curves.pop("probe")
    if not all(math.isfinite(v) for v in curve):
        raise SystemExit(f"probe.py: the probe loss became non-finite (mode {mode}, lr {lr}, seed {seed}); "
                         "fix: lower probe_lr")
    return dict(mode=kind, mode_name=mode, lr=lr, seed=seed, trainable_params=trainable, eval_steps=steps,
                curve=curve, zero_shot=curve[0], final=curve[-1], auc=auc(steps, curve), forget=curves)


def finetune(weights, cfg, mode, lr, seed, train_batches, evals, run, eval_every, ctx, dev):
    """Fine-tune one checkpoint; returns its curves. evals: {"probe": batches, lang: batches}."""
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
    return result(mode, kind, lr, seed, trainable, steps, curves)


@torch.no_grad()
def finetune_batched(members, cfg, lr, batches, evals, run, eval_every, ctx, dev):
    """Full fine-tuning of K members [(weights, seed)] of one architecture at one lr, member k
    on batches[seed_k] (common random numbers as in finetune). Returns one result per member."""
    if cfg.get("dropout", 0) > 0:
        raise SystemExit("probe.py: --batched=True cannot reproduce dropout's random masks member by member; "
                         "fix: probe this run without --batched")
    model = GPT(GPTConfig(**cfg)).to(dev)
    names = [n for n, _ in model.named_parameters()]  # a tied output layer appears once
    params = {n: torch.stack([w[n] for w, _ in members]).to(dev) for n in names}
    decay = {n: params[n].dim() > 2 for n in names}  # matrices (one more dim: the members)
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    b1, b2, wd, clip = run["beta1"], run["beta2"], run["weight_decay"], run["grad_clip"]
    K = len(members)

    def loss_of(p, x, y):
        with ctx:
            return functional_call(model, p, (x, y))[1]

    step_fn = vmap(grad_and_value(loss_of))
    eval_fn = vmap(loss_of, in_dims=(0, None, None))
    steps, curves = [], [{name: [] for name in evals} for _ in range(K)]

    def record(step):
        model.eval()
        steps.append(step)
        for name, bs in evals.items():
            total = sum(eval_fn(params, x.to(dev), y.to(dev)) for x, y in bs) / len(bs)
            for k, loss in enumerate(total.tolist()):
                curves[k][name].append(round(loss, 5))
        model.train()

    record(0)
    n_steps = len(batches[members[0][1]])
    for i in range(n_steps):
        x = torch.stack([batches[sd][i][0] for _, sd in members]).to(dev)
        y = torch.stack([batches[sd][i][1] for _, sd in members]).to(dev)
        with torch.enable_grad():
            grads, _ = step_fn(params, x, y)
        if clip > 0:  # per member, as clip_grad_norm_: scale by clip / (norm + 1e-6) when above
            norm = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
            scale = (clip / (norm + 1e-6)).clamp(max=1.0)
        t = i + 1
        for n in names:  # AdamW, as torch.optim.AdamW computes it
            g = grads[n] * scale.view(-1, *[1] * (grads[n].dim() - 1)) if clip > 0 else grads[n]
            if decay[n]:
                params[n].mul_(1 - lr * wd)
            m[n].lerp_(g, 1 - b1)
            v[n].mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v[n].sqrt() / math.sqrt(1 - b2 ** t)).add_(1e-8)
            params[n].addcdiv_(m[n], denom, value=-lr / (1 - b1 ** t))
        if t % eval_every == 0 or t == n_steps:
            record(t)
    trainable = sum(p[0].numel() for p in params.values())
    return [result("full", "full", lr, sd, trainable, list(steps), curves[k]) for k, (_, sd) in enumerate(members)]


# ----------------------------------------------------------------------------- running many


_job = {}  # what every fine-tune of this process shares: set by start


def start(shared, threads=None):
    """Set up a process for fine-tuning: in a worker, its thread count and allocator first."""
    if threads:
        torch.set_num_threads(threads)
        tune_malloc()
    ctx = torch.autocast(shared["dev"].split(":")[0], dtype=torch.bfloat16) if shared["use_bf16"] else nullcontext()
    _job.clear()  # nothing kept from an earlier probe in this process
    _job.update(shared, ctx=ctx, loaded={})


def reset_rows(weights, init, ids):
    """weights with the token rows ids of the embedding (and of an untied output layer) taken
    from init; the rest, and the dict passed in, unchanged. A tied output layer is saved under
    both names, and both are set alike."""
    out = dict(weights)
    for name in ("transformer.wte.weight", "lm_head.weight"):
        if name in out:
            out[name] = out[name].clone()
            out[name][ids] = init[name][ids]
    return out


def load(step):
    """The checkpoint at step (sha256 checked), kept while it is in use; with reset_ids, its
    rows of those tokens set back to the step-0 checkpoint's."""
    if step not in _job["loaded"]:
        path = lambda s: _job["run_path"] / "ckpt" / f"step_{s:07d}.pt"  # noqa: E731
        ckpt = read_file(path(step))
        if _job.get("reset_ids"):
            if "init" not in _job:  # the step-0 weights, read once per process
                _job["init"] = (ckpt if step == 0 else read_file(path(0)))["model"]
            ckpt = dict(ckpt, model=reset_rows(ckpt["model"], _job["init"], torch.tensor(_job["reset_ids"])))
        _job["loaded"] = {step: ckpt}
    return _job["loaded"][step]


def run_job(job):
    """job: [(step, mode, lr, seed), ...], one fine-tune or a batched group. Returns a result
    per member, or a string naming a damaged checkpoint for each member that needs it."""
    j = _job
    try:
        if len(job) == 1:
            step, mode, lr, sd = job[0]
            ckpt = load(step)
            return [finetune(ckpt["model"], ckpt["model_args"], mode, lr, sd, j["batches"][sd], j["evals"], j["run"],
                             j["eval_every"], j["ctx"], j["dev"])]
        members = [(load(step), sd) for step, _, _, sd in job]
        return finetune_batched([(c["model"], sd) for c, sd in members], members[0][0]["model_args"], job[0][2],
                                j["batches"], j["evals"], j["run"], j["eval_every"], j["ctx"], j["dev"])
    except CheckpointError as e:
        return [str(e)] * len(job)


def cores():
    """The cores this process may use, or OMP_NUM_THREADS when a sweep has shared them out."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return int(os.environ.get("OMP_NUM_THREADS") or n)


def run_all(jobs, shared, workers, threads):
    """Results of every job, in order, from this process (workers 1) or from worker processes
    of `threads` threads each, started afresh (spawn: nothing inherited but the arguments)."""
    if workers <= 1:
        start(shared)
        try:
            yield from map(run_job, jobs)
        finally:
            _job.clear()  # this process may run other stages (sweep.py): nothing of the probe is kept
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=start,
                             initargs=(shared, threads)) as pool:
        try:
            yield from pool.map(run_job, jobs)
        finally:
            pool.shutdown(cancel_futures=True)
