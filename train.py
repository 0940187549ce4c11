"""
Train a GPT on a stream of languages and write checkpoints over time for the probe.

    python train.py config/tiny.py --max_tokens=2000000 --schedule=stationary
    torchrun --standalone --nproc_per_node=8 train.py config/wiki.py     # data parallel

Schedules (schedule.py says how each is laid out):
  continual   tasks of task_tokens tokens, each in one language, cycling through the training
              languages: in the paper's order (en, zh, fr, ja, es, de, pt, ru) when they are its
              eight, else in an order fixed by the seed (task_order). restart_at_task=True is the
              paper's schedule: at every task boundary AdamW starts afresh (moments and step
              count) and the learning-rate warmup starts again (config/paper*.py turn it on);
              reset_optimizer_at_task=True resets the optimizer alone (earlier studies), warmup_at_task=True
              restarts the warmup alone;
  stationary  every sequence of every batch from a language drawn uniformly from the mixture (every
              training language, or the first mixture_langs of the task order).

Checkpoints (ckpt_schedule): "tasks" (the default, the paper's protocol) at the end of the
first task and of every cycle (a task of every training language, or cycle_tasks tasks;
ckpt_every_tasks=k: of every k-th task), plus n_ckpt - 1
log-spaced points inside the first task; a stationary run uses the same token cadence, so it
is probed at the same token counts. "log" and "linear": n_ckpt points spaced so in tokens
("log" from ckpt_from_tokens on when it is set). Step 0 (the initialisation) and the last step
are always included. With task checkpoints, a max_tokens of whole cycles ends on the step on
which the last cycle ends (schedule.run_steps: up to a step past max_tokens), so the last
checkpoint is probed; whole tasks that are not whole cycles are refused. A sidecar's language
is that of the task starting at its step: at a task's end, the next task's.

Speed (speed.py): the tokens/s and MFU printed are the steady state's, the first step (compile
included), checkpoints and state saves timed apart; speed.json has them at the end.

Methods against loss of plasticity (shrink-and-perturb, L2 towards the initialisation, ReDo,
continual backprop, embedding reset, unseen tokens' rows held; mitigations.py) are options, off
by default; config.json names the ones in use (`mitigation`).

Learning rate: the size's (model.ladder_lr: the paper's 3e-3 at 5M to 1e-3 at 314M, 3e-3 below)
unless lr is set; linear warmup, then constant by default (a decaying schedule would confound
"can no longer learn" with "is no longer allowed to learn"); cosine is available.

Outputs in out_dir (written by trainrun.py, which group.py shares: a run trained there looks the same):
  config.json                 resolved settings plus derived facts (sizes, vocabulary, order); trained_by:
                              the program (train.py, or group.py and its runs) from each step it took over
  ckpt/step_XXXXXXX.pt        weights only, at step 0 (the initialisation) and on a linear or
  ckpt/step_XXXXXXX.json      log-spaced token schedule; the sidecar holds step, tokens, task,
                              language, per-language validation loss, the .pt's sha256 and
                              the diagnostics of diagnostics.py (written last: a checkpoint
                              without its sidecar is incomplete)
  state/step_XXXXXXX.pt/.json resumable states (model, optimizer, RNG, sampler position) every
                              save_every steps, the newest two kept; sidecar as above
  log.jsonl                   one line per step: tokens, language, loss, lr, grad norm
  speed.json                  steady tokens/s, MFU (GPU) and the seconds of each phase apart, of
                              the last process that trained the run

An interrupted run started again with the same settings resumes from the newest intact state
and ends bit-identical (on CPU) to the uninterrupted run. A state whose bytes do not match its
recorded sha256 is named, set aside (*.damaged) and the one before it is used. The settings in
checkpoint.RESUMABLE may change on resume (the change is printed and kept in config.json), and so may
max_tokens grow under the constant learning rate (a run extended: its past does not depend on
where it ends; its diagnostics at the next checkpoint compare with the old last one); any other
change is refused. The run directory may be moved or copied, the corpus too (it is identified
by the sha256 of its bins, not by its path).
"""

import gc
import os
import sys
import time
from contextlib import nullcontext
from types import SimpleNamespace

import torch

from checkpoint import disk_error
from configurator import configure
from model import CompiledOrEager, tune_malloc
from speed import Clock
from trainrun import TrainRun, check_settings

# ----------------------------------------------------------------------------- settings
out_dir = "out/run"
data_dir = "data"
corpus = "synthetic"
langs = ""  # comma-separated training languages; "" = every language of the corpus but probe_lang
probe_lang = "vi"  # never trained on; evaluated at checkpoints when the corpus has it
schedule = "continual"  # continual | stationary
task_tokens = 200_000  # continual: tokens per task (one language each)
model = "micro-100k"  # a size of model.LADDER
n_layer = 0  # each of these three, when > 0, overrides the preset's value
n_head = 0
n_embd = 0
block_size = 128
dropout = 0.0
bias = True
tie_weights = True
batch_size = 16  # sequences per micro-batch per process
grad_accum = 1
max_tokens = 2_000_000
lr = 0.0  # peak learning rate; 0 = the size's (model.ladder_lr)
lr_schedule = "constant"  # constant | cosine (to min_lr_frac * lr at max_tokens)
min_lr_frac = 0.1
warmup_tokens = 50_000
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0  # 0 = off
restart_at_task = False  # continual: at every task boundary a fresh AdamW state and the lr warmup again (the paper's)
reset_optimizer_at_task = False  # continual: a fresh AdamW state at every task boundary, the lr going on (earlier studies)
warmup_at_task = False  # continual: the lr warmup again at every task boundary, the AdamW state going on
cycle_tasks = 0  # tasks in a cycle (checkpoints at cycle ends; cycle 1 is the probe's reference); 0 = a task of every
# training language (the paper's). A stream whose every task is a new language has no cycles: 1 makes each task one
mixture_langs = 0  # stationary: the mixture is the first k languages of the task order (a continual run's first k
# tasks' with the same seed); 0 = every training language
task_order = "auto"  # continual: auto (the paper's order for its eight languages, else by seed) | seed | a list
ckpt_schedule = "tasks"  # tasks | log | linear
ckpt_every_tasks = 0  # tasks: a checkpoint at the end of every k-th task; 0 = of every cycle (the paper's)
n_ckpt = 12  # log | linear: checkpoints after step 0; tasks: n_ckpt - 1 log-spaced ones inside the first task
ckpt_from_tokens = 0  # log: the first log-spaced checkpoint at this many tokens (0: after the first step)
eval_batches = 4  # fixed validation batches per language at every checkpoint
diagnostics = True  # weights, dormant units, ranks, attention, unseen tokens, updates: in every checkpoint's sidecar
# methods against loss of plasticity (mitigations.py), all off by default
snp_every = 0  # shrink-and-perturb every k steps: w <- snp_shrink * w + snp_noise * (fresh initialisation)
snp_shrink = 0.8
snp_noise = 0.01
l2_init = 0.0  # lambda of L2 towards the initialisation
redo_every = 0  # ReDo every k steps: dormant MLP units (score <= redo_tau) re-initialised
redo_tau = 0.1
cbp_rate = 0.0  # continual backprop: mature MLP units replaced per step, per unit
cbp_decay = 0.99
cbp_maturity = 100
emb_reset_every = 0  # token embeddings re-initialised every k steps
hold_unseen = False  # rows of tokens not yet seen in training held at their initial values
save_every = 250  # steps between resumable states
log_every = 10
seed = 0
device = "auto"  # auto | cpu | cuda
cpu_threads = 0  # CPU threads; 0: as the environment gives (sweep.py --jobs=N: cores // N). The last float
# digits depend on it (config.json records the count used): fix it to make a run independent of how it was started
dtype = "auto"  # auto (bfloat16 autocast on CUDA, else float32) | float32 | bfloat16
compile = False
tf32 = True  # CUDA: TF32 for the float32 matmuls (few under bf16 autocast); never on a CPU
peak_flops = 989e12  # for MFU: dense bf16 FLOP/s of one GPU (H100 SXM)
# -----------------------------------------------------------------------------
def processes(config):
    """Where this process computes: (proc, ddp), proc as trainrun.TrainRun takes it. Starts the
    data-parallel group under torchrun; sets the CPU threads and TF32 for this stage."""
    if config["cpu_threads"]:
        torch.set_num_threads(config["cpu_threads"])
    ddp = int(os.environ.get("RANK", -1)) != -1
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if config["device"] == "auto" else config["device"]
    if ddp:
        if dev == "cuda" and int(os.environ["LOCAL_RANK"]) >= torch.cuda.device_count():
            raise SystemExit(f"train.py: {os.environ.get('LOCAL_WORLD_SIZE', 'several')} processes on this node but "
                             f"{torch.cuda.device_count()} GPU(s); each process needs its own; fix: "
                             "--nproc_per_node at most the GPU count, or --device=cpu (gloo)")
        torch.distributed.init_process_group(backend="nccl" if dev == "cuda" else "gloo")
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        if dev == "cuda":
            dev = f"cuda:{int(os.environ['LOCAL_RANK'])}"
            torch.cuda.set_device(dev)
    else:
        rank, world = 0, 1
    device_type = "cuda" if dev.startswith("cuda") else "cpu"
    use_bf16 = config["dtype"] == "bfloat16" or (config["dtype"] == "auto" and device_type == "cuda")
    ctx = torch.autocast(device_type, dtype=torch.bfloat16) if use_bf16 else nullcontext()
    # set for this stage, whatever an earlier stage in the process left (config.json records tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = config["tf32"] and device_type == "cuda"
    return SimpleNamespace(dev=dev, device_type=device_type, use_bf16=use_bf16, ctx=ctx, rank=rank, world=world,
                           master=rank == 0), ddp


def progress(run, step, tokens_per_s, last_loss, mfu=None):
    """The progress line of a run at step (tokens, loss, lr, tokens/s, eta, MFU on a GPU)."""
    eta = (run.max_steps - step) * run.tokens_per_step / max(tokens_per_s, 1e-9)
    lang = run.task_of(step)[1] if run.c["schedule"] == "continual" else "mix"
    return (f"step {step}/{run.max_steps} | tok {step * run.tokens_per_step / 1e6:.2f}M | {lang} | "
            f"loss {last_loss:.4f} | lr {run.lr_at(step - 1):.2e} | {tokens_per_s:,.0f} tok/s | eta {eta / 60:.1f}m"
            + (f" | mfu {mfu:.1%}" if mfu is not None else ""))


def run(argv):
    defaults = configure(dict(globals()), [])  # what a setting was in a run saved before it existed
    config = configure(globals(), argv)
    tune_malloc()
    check_settings(config)
    proc, ddp = processes(config)
    r = TrainRun(config, defaults, proc)
    raw_model, optimizer, mit, dev = r.model, r.optimizer, r.mit, proc.dev
    step = r.resume()
    torch.set_rng_state(r.rng)
    if proc.device_type == "cuda" and getattr(r, "cuda_rng", None) is not None:
        torch.cuda.set_rng_state(r.cuda_rng, device=dev)
    net = CompiledOrEager(raw_model, "the training step") if compile else raw_model
    if ddp:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[dev] if proc.device_type == "cuda" else None)
    if proc.master:
        if r.length_note:
            print(r.length_note)
        print(r.describe())

    # --- the loop: one host sync per log_every steps (and before anything is written to disk)
    t_start, tokens_at_start = time.time(), step * r.tokens_per_step
    clock = Clock(torch.cuda.synchronize if proc.device_type == "cuda" else (lambda: None),
                  raw_model.flops_per_token(), peak_flops if proc.device_type == "cuda" else 0.0, proc.world)
    def report(last_loss):
        tps = clock.steady() or (step * r.tokens_per_step - tokens_at_start) / max(time.time() - t_start, 1e-9)
        print(progress(r, step, tps, last_loss, clock.mfu(tps)), flush=True)

    def rng():
        return torch.get_rng_state(), torch.cuda.get_rng_state(dev) if proc.device_type == "cuda" else None

    while True:
        task, lang = r.task_of(step)
        r.at_step(step, clock, report, rng)
        if step >= r.max_steps:
            break

        if r.fresh_optimizer_at(step):
            optimizer.state.clear()  # AdamW starts afresh: zero moments, step count 0
        lr_now = r.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        loss_sum = torch.zeros((), device=dev)
        row_langs = []
        for micro in range(grad_accum):
            x, y, rl = r.sample(lang)
            row_langs += rl
            mit.observe(x, y)
            if ddp:
                net.require_backward_grad_sync = micro == grad_accum - 1
            with proc.ctx:
                loss = net(x, y)[1] / grad_accum
            loss.backward()
            loss_sum += loss.detach()
        mit.before_step()  # L2 towards the initialisation: its gradient, clipped with the rest
        norm = torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip if grad_clip > 0 else float("inf"))
        mix = lang if schedule == "continual" else {k: row_langs.count(k) for k in sorted(set(row_langs))}
        r.stepped(step, task, mix, lr_now, torch.stack([loss_sum, norm.float()]))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        mit.after_step(step, x)
        step += 1
        clock.stepped(r.tokens_per_step)
    if proc.master:
        r.finish(clock, time.time() - t_start)
    if ddp:  # all arrive before any tears down: a peer gone first can abort gloo's threads at exit; the DDP
        # wrapper (its reducer holds the group and its threads) is freed before the group is destroyed
        torch.distributed.barrier()
        del net
        gc.collect()
        torch.distributed.destroy_process_group()


def main(argv):
    """run(argv); a full disk while writing a sidecar or the log ends in one line, as for a .pt."""
    try:
        run(argv)
    except OSError as e:
        raise disk_error(e, e.filename or out_dir) from None
    finally:  # a run that stopped early (a NaN, a full disk) leaves no process group behind either
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
