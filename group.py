"""
Train several runs of one model shape as one computation: a cell's seeds, or arms that share a shape.

    python group.py "config/tiny.py --seed=0 --out_dir=out/g-s0" "config/tiny.py --seed=1 --out_dir=out/g-s1"

Each argument is one run's train.py arguments (config files and --key=value settings, as train.py
takes them). Every run keeps its own initialisation, data stream, learning-rate schedule, AdamW
state, checkpoints, resumable states and log, written by the same code as train.py's
(trainrun.py), so probe.py, fit.py and sweep.py see S runs. What is shared is the arithmetic: the
S models' weights are stacked and one forward and backward pass trains them all (stack.py), which
pays where one tiny model leaves the hardware idle (`python bench.py --groups=1,2,4,8` measures it
against separate runs; docs/speed.md has the figures). config.json records it (`trained_by`: the program and the group's runs, from the step
where that began).

The runs may differ in any setting but these, which must be equal: the model's shape (model,
n_layer, n_head, n_embd, block_size, bias, tie_weights, the corpus's vocabulary), batch_size,
grad_accum, device, dtype, compile, cpu_threads and tf32. Of the methods against loss of
plasticity, weight decay, L2 to the initialisation, shrink-and-perturb and the optimizer and warmup
restarts work in a group; ReDo, continual backprop, the embedding reset and hold_unseen act on single
models (train.py them alone), and dropout would draw other masks than a run alone.

The runs resume together from the newest step at which each has an intact state, as train.py's
resume does for one run: a run killed between the group's state saves, or whose newest state is
damaged (named, set aside as *.damaged), sends the others back to that step, so that the group goes
on as it would have uninterrupted (bit-identical; a run's last float digits depend on the group it
is computed in). A run's state resumes under train.py alone and the other way round, so runs of a
group may also stand at different steps (trained apart for a while, or saved at other save_every);
then each goes on from its own. A run that reaches its max_tokens leaves the group, which goes on
with the others.
Equivalence: a run trained here equals the same run trained alone up to float rounding (stack.py;
tests/test_group.py).
"""

import shlex
import sys
import time

import torch

import stack
import train
from checkpoint import disk_error, load_state, state_steps
from configurator import configure
from model import tune_malloc
from speed import Clock
from trainrun import TrainRun, check_settings

SHARED = ("model", "n_layer", "n_head", "n_embd", "block_size", "bias", "tie_weights", "batch_size", "grad_accum",
          "device", "dtype", "compile", "cpu_threads", "tf32")
SINGLE_MODEL = ("redo_every", "cbp_rate", "emb_reset_every", "hold_unseen", "dropout")


def member_settings(args):
    """Each member's resolved train.py settings, and train.py's defaults; refused in one line when
    the members cannot share a computation."""
    defaults = configure(dict(vars(train)), [])
    configs = [configure(dict(vars(train)), shlex.split(a)) for a in args]
    if not configs:
        raise SystemExit("group.py: no runs given; fix: one quoted argument of train.py settings per run, e.g. "
                         "python group.py \"--seed=0 --out_dir=out/a\" \"--seed=1 --out_dir=out/b\"")
    for c in configs:
        check_settings(c)
        on = [k for k in SINGLE_MODEL if c[k]]
        if on:
            raise SystemExit(f"group.py: {c['out_dir']} sets {', '.join(on)}, which group.py does not train; fix: "
                             "train that run alone with train.py")
    for k in SHARED:
        values = {c[k] for c in configs}
        if len(values) > 1:
            raise SystemExit(f"group.py: the runs differ in {k} ({', '.join(map(str, sorted(values, key=str)))}); "
                             f"the runs of a group share it; fix: group only runs with one {k}")
    dirs = [c["out_dir"] for c in configs]
    if len(set(dirs)) < len(dirs):
        raise SystemExit(f"group.py: two runs write to the same out_dir ({dirs}); fix: one out_dir per run")
    return configs, defaults


def run(args):
    configs, defaults = member_settings(args)
    tune_malloc()
    proc, ddp = train.processes(configs[0])
    if ddp:
        raise SystemExit("group.py: runs in one process; fix: python group.py (not torchrun)")
    dirs = [c["out_dir"] for c in configs]
    runs = [TrainRun(c, defaults, proc, trained_by=dict(program="group.py", group=dirs)) for c in configs]
    cfgs = {str(vars(r.cfg)) for r in runs}
    if len(cfgs) > 1:
        raise SystemExit(f"group.py: the runs' models differ in shape ({' / '.join(sorted(cfgs))}); "
                         "fix: group runs of one shape on one corpus vocabulary")
    cfg, c0 = runs[0].cfg, configs[0]
    # the runs go on from one step, the newest at which each has an intact state (a run killed between
    # the group's state saves, or with its newest state damaged, sends the others back to it), so that
    # the group computes as it would have uninterrupted: a run's rounding depends on the group it is in
    newest = [load_state(r.out, proc.dev) for r in runs]
    common = min(0 if st is None else st["step"] for st in newest)
    del newest
    for r in runs:
        r.label = f"{r.out} "
        # a run without a state at or before that step (trained further apart) goes on from its own newest
        r.resume(at_most=common if any(s <= common for s in state_steps(r.out)) else None)
        stack.attach_names(r.optimizer, r.model)
        if r.length_note:
            print(r.length_note)
    print(f"{len(runs)} runs as one computation: {runs[0].describe()}")
    active = [r for r in runs]
    params = stack.stack([r.model for r in active])
    opt = stack.StackedAdamW(params, len(active))
    for k, r in enumerate(active):
        opt.from_optimizer(k, r.optimizer)
    theta0 = {n: torch.stack([r.mit.theta0[n] if r.mit.theta0 is not None else torch.zeros_like(p[k])
                              for k, r in enumerate(active)]) for n, p in params.items()}

    clock = Clock(torch.cuda.synchronize if proc.device_type == "cuda" else (lambda: None),
                  runs[0].model.flops_per_token(), c0["peak_flops"] if proc.device_type == "cuda" else 0.0)
    t_start, tokens_at_start = time.time(), sum(r.step for r in runs) * runs[0].tokens_per_step
    while active:
        # each run's bookkeeping at its own step, as train.py does it
        for k, r in enumerate(active):
            def report(last_loss, r=r):
                tps = clock.steady() or (sum(r.step for r in runs) * r.tokens_per_step - tokens_at_start) \
                    / max(time.time() - t_start, 1e-9)
                print(f"{r.out}: {train.progress(r, r.step, tps / len(active), last_loss)} (a run; the group "
                      f"of {len(active)}: {tps:,.0f})", flush=True)

            def current(k=k, r=r):
                stack.unstack_into(params, k, r.model)
                opt.to_optimizer(k, r.optimizer)

            r.at_step(r.step, clock, report, lambda r=r: (r.rng, None), current)
        done = [r.step >= r.max_steps for r in active]
        if any(done):  # finished runs leave the group; the others go on
            for r in (r for r, d in zip(active, done) if d):
                r.finish(clock, time.time() - t_start, group=dirs, tokens_per_s_of="the group, all its runs")
            keep = [k for k, d in enumerate(done) if not d]
            active = [active[k] for k in keep]
            if not active:
                break
            params, opt, theta0 = restack(params, opt, theta0, keep)

        # one step of every run
        lrs, tasks = [], []
        for k, r in enumerate(active):
            if r.fresh_optimizer_at(r.step):
                opt.reset(k)  # this run's AdamW starts afresh: zero moments, step count 0
            lrs.append(r.lr_at(r.step))
            tasks.append(r.task_of(r.step))
        loss_sum = torch.zeros(len(active), device=proc.dev)
        row_langs = [[] for _ in active]
        for _ in range(c0["grad_accum"]):
            xs, ys = [], []
            for k, r in enumerate(active):
                x, y, rl = r.sample(tasks[k][1])
                xs.append(x)
                ys.append(y)
                row_langs[k] += rl
            with proc.ctx:
                losses = stack.losses(params, cfg, torch.stack(xs), torch.stack(ys)) / c0["grad_accum"]
            losses.sum().backward()
            loss_sum += losses.detach()
        with torch.no_grad():  # L2 towards the initialisation: its gradient, clipped with the rest
            lams = [r.c["l2_init"] for r in active]
            if any(lams):
                for n, p in params.items():
                    p.grad.add_((p - theta0[n]) * stack.per_member([2 * lam for lam in lams], p))
        norms = stack.clip_(params, [r.c["grad_clip"] for r in active])
        for k, r in enumerate(active):
            lang = tasks[k][1]
            mix = lang if r.c["schedule"] == "continual" else \
                {x: row_langs[k].count(x) for x in sorted(set(row_langs[k]))}
            r.stepped(r.step, tasks[k][0], mix, lrs[k], torch.stack([loss_sum[k], norms[k].float()]))
        opt.step(lrs, [(r.c["beta1"], r.c["beta2"]) for r in active], [r.c["weight_decay"] for r in active])
        for p in params.values():
            p.grad = None
        shrink_and_perturb(params, active)
        for r in active:
            r.step += 1
        clock.stepped(len(active) * runs[0].tokens_per_step)
    print(f"done: {len(runs)} runs as one computation ({clock.describe()}, all runs together)")


@torch.no_grad()
def shrink_and_perturb(params, active):
    """mitigations.py's shrink-and-perturb for the runs due after this step: the same fresh draws from
    the same generator (the run's seed, step and method) in the same order as a run alone."""
    for k, r in enumerate(active):
        s = r.c
        if s["snp_every"] and (r.step + 1) % s["snp_every"] == 0:
            g = r.mit._generator(r.step, 1)
            for n, p in params.items():
                p[k].mul_(s["snp_shrink"]).add_(r.model.init_value(n, g), alpha=s["snp_noise"])


def restack(params, opt, theta0, keep):
    """The stacked weights, AdamW state and initial weights of the runs `keep` (indices) only."""
    index = torch.tensor(keep, device=next(iter(params.values())).device)
    new = {n: p.detach().index_select(0, index).requires_grad_() for n, p in params.items()}
    fresh = stack.StackedAdamW(new, len(keep), opt.eps)
    for n in new:
        fresh.exp_avg[n] = opt.exp_avg[n].index_select(0, index)
        fresh.exp_avg_sq[n] = opt.exp_avg_sq[n].index_select(0, index)
    fresh.steps = [opt.steps[k] for k in keep]
    return new, fresh, {n: t.index_select(0, index) for n, t in theta0.items()}


def main(argv):
    """run(argv); a full disk while writing ends in one line, as in train.py."""
    try:
        run(argv)
    except OSError as e:
        raise disk_error(e, e.filename or "a run directory") from None


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__)
        raise SystemExit(0)
    main(sys.argv[1:])
