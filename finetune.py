"""
The probe's engine: fine-tune checkpoints on the probe language and record the curves.
probe.py decides what to fine-tune and what the curves mean; this file only runs them.

    finetune          one checkpoint and seed, in any mode (full, lora<r>, last<k>)
    finetune_batched  K checkpoints/seeds of one architecture as one computation (full mode):
                      the weights stacked and the model applied with torch.func.vmap, each member
                      with its own AdamW state and gradient clipping, exactly as finetune does it;
                      equal to finetune up to float rounding (a test checks it in float64). It pays
                      where one small model leaves a device idle (a GPU); `python probe.py
                      --batched=True` on CPU measures it against the sequential path. Optionally
                      compiled (torch.compile), once per process and group shape: the compiled
                      step is kept for the process's later groups and probes.
    Jobs              runs a list of fine-tunes in this process or in N worker processes with a
                      fixed thread count each, returning results in order, so the numbers do
                      not depend on N.

Every fine-tune: a fresh AdamW (the run's betas and weight decay), a linear warmup when asked,
then a constant learning rate,
the run's gradient clipping, the probe language's validation loss (and the training languages',
for forgetting) on fixed batches at step 0, every eval_every steps and at the end.
"""

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

import torch
from torch.func import functional_call, grad_and_value, vmap

from checkpoint import CheckpointError, read_file
from run_onset import probe_metrics
from schedule import lr_at
from model import (GPT, CompiledOrEager, GPTConfig, adamw, add_lora, estimate_loss, n_total, step_bytes,
                   train_only_last, tune_malloc)


def mode_setup(model, mode):
    """Apply a fine-tuning mode to a fresh model; returns (kind, trainable parameter count)."""
    if mode == "full":
        return "full", sum(p.numel() for p in model.parameters())
    if mode.startswith("lora") and mode[4:].isdigit():
        return "lora", add_lora(model, int(mode[4:]))
    if mode.startswith("last") and mode[4:].isdigit():
        return "last", train_only_last(model, int(mode[4:]))
    raise SystemExit(f"probe.py: unknown mode {mode!r}; use full, lora<r> (lora4) or last<k> (last1)")


def result(mode, kind, lr, seed, trainable, steps, curves):
    curve = curves.pop("probe")
    if not all(math.isfinite(v) for v in curve):
        raise SystemExit(f"probe.py: the probe loss became non-finite (mode {mode}, lr {lr}, seed {seed}); "
                         "fix: lower probe_lr")
    return dict(mode=kind, mode_name=mode, lr=lr, seed=seed, trainable_params=trainable, eval_steps=steps,
                curve=curve, **probe_metrics(steps, curve), forget=curves)


def finetune(weights, cfg, mode, lr, seed, train_batches, evals, run, eval_every, ctx, dev, dtype=torch.float32,
             warmup_steps=0, micro=0):
    """Fine-tune one checkpoint; returns its curves. evals: {"probe": batches, lang: batches};
    dtype: of the weights (float64 to compute in double precision); warmup_steps: the learning
    rate rises linearly to lr over these first steps (schedule.lr_at), then stays; micro > 0: each
    step's batch in micro-batches of that many sequences, their gradients accumulated (the same
    step up to float rounding, in the memory of one micro-batch)."""
    torch.manual_seed(seed)  # LoRA's initialisation: the same for every checkpoint
    model = GPT(GPTConfig(**cfg))
    model.load_state_dict(weights)
    kind, trainable = mode_setup(model, mode)
    model.to(dev, dtype).train()
    opt = model.optimizer(lr, run["weight_decay"], (run["beta1"], run["beta2"]), dev.split(":")[0])
    steps, curves = [], {name: [] for name in evals}

    def record(step):
        steps.append(step)
        for name, loss in estimate_loss(model, evals, ctx).items():
            curves[name].append(round(loss, 5))

    record(0)
    for i, (x, y) in enumerate(train_batches):
        for group in opt.param_groups:
            group["lr"] = lr_at(i, lr, warmup_steps, len(train_batches))
        for xc, yc in zip(x.split(micro), y.split(micro)) if micro else [(x, y)]:
            with ctx:
                loss = model(xc.to(dev), yc.to(dev))[1] * (len(xc) / len(x))
            loss.backward()
        if run["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), run["grad_clip"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        if (i + 1) % eval_every == 0 or i + 1 == len(train_batches):
            record(i + 1)
    return result(mode, kind, lr, seed, trainable, steps, curves)


_batched = {}  # this process's batched step and evaluation, by what they are built from: a compiled
# pair is built once and reused by every later group of the same shape (a sweep worker's next probes too)


def batched_functions(cfg, K, ctx, dev, clip, compiled):
    """(model, step, evaluate) for K members: step(params, x, y) -> per-member gradients, clipped
    per member as clip_grad_norm_ does it (scale by clip / (norm + 1e-6) when above);
    evaluate(params, x, y) -> per-member losses on one batch."""
    key = (tuple(sorted(cfg.items())), K, getattr(ctx, "fast_dtype", None), dev, clip, compiled)
    if key not in _batched:
        model = GPT(GPTConfig(**cfg)).to(dev)  # its weights unused: each call passes the members'

        def loss_of(p, x, y):
            with ctx:
                return functional_call(model, p, (x, y))[1]

        grads_of = vmap(grad_and_value(loss_of))

        def step(params, x, y):
            grads = grads_of(params, x, y)[0]
            if clip > 0:
                norm = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
                scale = (clip / (norm + 1e-6)).clamp(max=1.0)
                grads = {n: g * scale.view(-1, *[1] * (g.dim() - 1)) for n, g in grads.items()}
            return grads

        evaluate = vmap(loss_of, in_dims=(0, None, None))
        if compiled:
            step, evaluate = (CompiledOrEager(fn, f"the batched probe's {what}")
                              for fn, what in ((step, "step"), (evaluate, "evaluation")))
        _batched[key] = (model, step, evaluate)
    return _batched[key]


@torch.no_grad()
def finetune_batched(members, cfg, lr, batches, evals, run, eval_every, ctx, dev, dtype=torch.float32, compiled=False,
                     pad_to=0, warmup_steps=0):
    """Full fine-tuning of K members [(weights, seed)] of one architecture at one lr, member k
    on batches[seed_k] (common random numbers as in finetune), each with its own AdamW state:
    torch's AdamW on the stacked weights is elementwise, so member by member. Returns one
    result per member. compiled: through torch.compile, the group padded with copies of its
    last member to pad_to, so that every group has one shape and compiles once."""
    if cfg.get("dropout", 0) > 0:
        raise SystemExit("probe.py: --batched=True cannot reproduce dropout's random masks member by member; "
                         "fix: probe this run without --batched")
    n_real = len(members)
    members = members + members[-1:] * (pad_to - n_real)
    K = len(members)
    model, step, evaluate = batched_functions(cfg, K, ctx, dev, run["grad_clip"], compiled)
    names = [n for n, _ in model.named_parameters()]  # a tied output layer appears once
    params = {n: torch.stack([w[n] for w, _ in members]).to(dev, dtype) for n in names}
    opt = adamw(list(params.values()), lr, run["weight_decay"], (run["beta1"], run["beta2"]), dev.split(":")[0],
                matrix_dim=3)  # one more dim: the members
    steps, curves = [], [{name: [] for name in evals} for _ in range(K)]

    def record(t):
        model.eval()
        steps.append(t)
        for name, bs in evals.items():
            total = sum(evaluate(params, x.to(dev), y.to(dev)) for x, y in bs) / len(bs)
            for k, loss in enumerate(total.tolist()):
                curves[k][name].append(round(loss, 5))
        model.train()

    record(0)
    n_steps = len(batches[members[0][1]])
    streams = {sd: iter(batches[sd]) for sd in dict.fromkeys(sd for _, sd in members)}  # one pass per seed, in step
    for i in range(n_steps):
        now = {sd: next(it) for sd, it in streams.items()}
        x = torch.stack([now[sd][0] for _, sd in members]).to(dev)
        y = torch.stack([now[sd][1] for _, sd in members]).to(dev)
        for group in opt.param_groups:
            group["lr"] = lr_at(i, lr, warmup_steps, n_steps)
        with torch.enable_grad():
            grads = step(params, x, y)
        for n, p in params.items():
            p.grad = grads[n]
        opt.step()
        if (i + 1) % eval_every == 0 or i + 1 == n_steps:
            record(i + 1)
    trainable = sum(p[0].numel() for p in params.values())
    return [result("full", "full", lr, sd, trainable, list(steps), curves[k])
            for k, (_, sd) in enumerate(members[:n_real])]


def free_bytes(dev):
    """Memory free on the device now: CUDA's own count, or the host's MemAvailable on a CPU."""
    if dev.startswith("cuda"):
        return torch.cuda.mem_get_info(torch.device(dev))[0]
    with open("/proc/meminfo") as f:
        return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))


def members_that_fit(cfg, tokens, bf16, free, slack=0.1):
    """How many batched members fit in `free` bytes, each a model of GPTConfig cfg with its own
    weights, gradients and AdamW state and `tokens` tokens a step (model.step_bytes), a tenth of the
    memory left as slack; 0 when not even one does."""
    c = GPTConfig(**cfg)
    return int(free * (1 - slack) // step_bytes(c, n_total(c), tokens, bf16))


# ----------------------------------------------------------------------------- running many


_job = {}  # what every fine-tune of this process shares: set by start


def start(shared, threads=None):
    """Set up a process for fine-tuning: in a worker, its thread count and allocator first."""
    if threads:
        torch.set_num_threads(threads)
        tune_malloc()
    # precision is set here for every fine-tune, never inherited from a stage before it in the process
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = shared["tf32"]
    bf16 = shared["precision"] == "bfloat16"
    ctx = torch.autocast(shared["dev"].split(":")[0], dtype=torch.bfloat16) if bf16 else nullcontext()
    _job.clear()  # nothing kept from an earlier probe in this process
    _job.update(shared, ctx=ctx, dtype=torch.float64 if shared["precision"] == "float64" else torch.float32, loaded={})


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
                             j["eval_every"], j["ctx"], j["dev"], j["dtype"], j["warmup_steps"], j["micro"])]
        members = [(load(step), sd) for step, _, _, sd in job]
        return finetune_batched([(c["model"], sd) for c, sd in members], members[0][0]["model_args"], job[0][2],
                                j["batches"], j["evals"], j["run"], j["eval_every"], j["ctx"], j["dev"], j["dtype"],
                                j["compiled"], j["pad_to"], j["warmup_steps"])
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
