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

Outputs in out_dir:
  config.json                 resolved settings plus derived facts (sizes, vocabulary, order)
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
import json
import math
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

import mitigations
from configurator import at_least, code_version, configure
from data import Sampler, corpus_fingerprint, corpus_languages, fixed_batches, load_corpus, token_ids
from diagnostics import diagnose
from speed import Clock
import schedule as stream
from checkpoint import (checkpoint_dict, disk_error, load_state, read_file, resume_changes, save_file,
                        save_state, write_json)
from model import GPT, LADDER, CompiledOrEager, estimate_loss, ladder_lr, preset, tune_malloc

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
def run(argv):
    defaults = configure(dict(globals()), [])  # what a setting was in a run saved before it existed
    config = configure(globals(), argv)
    tune_malloc()
    at_least("train.py", config, dict(batch_size=1, block_size=1, grad_accum=1, task_tokens=1, max_tokens=1,
                                      eval_batches=1, save_every=1, log_every=1, n_ckpt=1, lr=0, warmup_tokens=0,
                                      weight_decay=0, beta1=0, beta2=0, grad_clip=0, ckpt_every_tasks=0,
                                      ckpt_from_tokens=0, cpu_threads=0),
             dict(lr="0: the size's, model.ladder_lr", cpu_threads="0: as the environment gives", grad_clip="0: off"))
    if not (beta1 < 1 and beta2 < 1):
        raise SystemExit(f"train.py: beta1 and beta2 must be below 1, got {beta1}, {beta2}; fix: e.g. --beta2=0.95")
    if cpu_threads:
        torch.set_num_threads(cpu_threads)
    if model not in LADDER:
        raise SystemExit(f"train.py: unknown model size {model!r}; choose one of {', '.join(LADDER)}")
    if schedule not in ("continual", "stationary"):
        raise SystemExit(f"train.py: schedule must be continual or stationary, got {schedule!r}")
    if dtype not in ("auto", "float32", "bfloat16"):
        raise SystemExit(f"train.py: dtype must be auto, float32 or bfloat16, got {dtype!r}")
    if ckpt_schedule not in ("tasks", "log", "linear") or lr_schedule not in ("constant", "cosine"):
        raise SystemExit("train.py: ckpt_schedule must be tasks|log|linear and lr_schedule constant|cosine")
    if restart_at_task and (reset_optimizer_at_task or warmup_at_task):
        raise SystemExit("train.py: restart_at_task resets the optimizer and restarts the warmup already; "
                         "fix: leave reset_optimizer_at_task and warmup_at_task off")
    if mixture_langs < 0 or cycle_tasks < 0:
        raise SystemExit(f"train.py: mixture_langs and cycle_tasks must be >= 0 (0: every training language), got "
                         f"{mixture_langs}, {cycle_tasks}")
    if ckpt_from_tokens and ckpt_schedule != "log":
        raise SystemExit(f"train.py: ckpt_from_tokens places the log schedule; fix: --ckpt_schedule=log "
                         f"or leave ckpt_from_tokens at 0 (ckpt_schedule is {ckpt_schedule!r})")

    # --- processes and device
    ddp = int(os.environ.get("RANK", -1)) != -1
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
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
    master = rank == 0
    device_type = "cuda" if dev.startswith("cuda") else "cpu"
    use_bf16 = dtype == "bfloat16" or (dtype == "auto" and device_type == "cuda")
    ctx = torch.autocast(device_type, dtype=torch.bfloat16) if use_bf16 else nullcontext()
    # set for this stage, whatever an earlier stage in the process left (config.json records tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32 and device_type == "cuda"

    # --- data
    metas = corpus_languages(Path(data_dir) / corpus)
    all_langs = list(metas)
    if probe_lang and probe_lang not in all_langs:
        raise SystemExit(f"train.py: probe language {probe_lang!r} is not in corpus {Path(data_dir) / corpus} "
                         f"(it has {', '.join(all_langs) or 'no languages'}); fix: --probe_lang=<one of them>, "
                         "or --probe_lang= for a run without one")
    train_langs = [s for s in langs.split(",") if s] or [lang for lang in all_langs if lang != probe_lang]
    if probe_lang in train_langs:
        raise SystemExit(f"train.py: the probe language {probe_lang!r} must not be a training language")
    eval_langs = train_langs + ([probe_lang] if probe_lang else [])
    bins, vocab = load_corpus(data_dir, corpus, eval_langs)
    data_sha = corpus_fingerprint(metas, eval_langs)
    val = {lang: [(x.to(dev), y.to(dev)) for x, y in fixed_batches(bins[lang]["val"], eval_batches, batch_size,
                                                                   block_size, name=f"{lang} val.bin")]
           for lang in eval_langs}
    order = stream.language_order(train_langs, task_order, seed)
    # a stationary run's mixture: every training language, or the first mixture_langs of the task order
    mixture = order[:mixture_langs] if schedule == "stationary" and mixture_langs else train_langs
    sampler = Sampler({lang: bins[lang]["train"] for lang in mixture}, block_size, seed)
    diag_seconds = 0.0
    if diagnostics:  # a few sequences of each language's first validation batch; the tokens each side uses
        t_diag = time.time()
        diag_train = [(x[:2], y[:2]) for x, y in (val[lang][0] for lang in train_langs)]
        diag_probe = [(x[:4], y[:4]) for x, y in val[probe_lang][:1]] if probe_lang else None
        token_sets = (set().union(*(token_ids(bins[lang]["train"], vocab.size) for lang in train_langs)),
                      token_ids(bins[probe_lang]["train"], vocab.size)) if probe_lang else None
        diag_seconds += time.time() - t_diag

    tokens_per_step = batch_size * block_size * grad_accum * world
    max_steps, length_note = stream.run_steps(max_tokens, tokens_per_step, task_tokens, cycle_tasks or len(train_langs),
                                              ckpt_schedule, ckpt_every_tasks)
    if max_steps < 1:
        raise SystemExit(f"train.py: max_tokens={max_tokens} is less than one step ({tokens_per_step} tokens)")
    warmup_steps = max(1, warmup_tokens // tokens_per_step)
    ckpt_steps = stream.checkpoint_steps(ckpt_schedule, max_steps, tokens_per_step, task_tokens,
                                         cycle_tasks or len(train_langs), n_ckpt, ckpt_every_tasks, ckpt_from_tokens)

    def task_of(s):
        return stream.task_of(s, schedule, task_tokens, tokens_per_step, order)

    def lr_at(s):  # with restart_at_task or warmup_at_task, the warmup counts from the first step of the task
        since = stream.task_start(task_of(s)[0], task_tokens, tokens_per_step) \
            if (restart_at_task or warmup_at_task) and schedule == "continual" else 0
        return stream.lr_at(s, peak_lr, warmup_steps, max_steps, lr_schedule, min_lr_frac, since)

    # --- model and optimizer
    torch.manual_seed(seed)
    shape = {k: v for k, v in (("n_layer", n_layer), ("n_head", n_head), ("n_embd", n_embd)) if v > 0}
    padded_vocab = (vocab.size + 63) // 64 * 64  # a multiple of 64 is faster; extra rows are never targets
    cfg = preset(model, block_size=block_size, vocab_size=padded_vocab, dropout=dropout, bias=bias,
                 tie_weights=tie_weights)
    for k, v in shape.items():
        setattr(cfg, k, v)
    if cfg.n_embd % cfg.n_head:
        raise SystemExit(f"train.py: n_embd {cfg.n_embd} is not a multiple of n_head {cfg.n_head}; "
                         "fix: choose --n_embd and --n_head so that it is")
    raw_model = GPT(cfg).to(dev)
    peak_lr = lr or ladder_lr(raw_model.num_params())
    optimizer = raw_model.optimizer(peak_lr, weight_decay, (beta1, beta2), device_type)
    mit = mitigations.Mitigations(raw_model, optimizer, {k: config[k] for k in mitigations.SETTINGS}, seed)
    if compile and cbp_rate > 0:
        raise SystemExit("train.py: cbp_rate > 0 reads the MLP activations of every step through forward hooks, "
                         "which a compiled model does not run; fix: --compile=False")

    out = Path(out_dir)
    run_info = dict(config, peak_lr=peak_lr, n_nonembed=raw_model.num_params(), n_params=raw_model.num_params(False),
                    vocab_size=vocab.size, vocab_hash=vocab.hash, data_sha256=data_sha, model_args=vars(cfg).copy(),
                    train_langs=train_langs, eval_langs=eval_langs, lang_order=order, world_size=world,
                    tokens_per_step=tokens_per_step, max_steps=max_steps, ckpt_steps=ckpt_steps,
                    code_version=code_version(), torch_version=torch.__version__, threads=torch.get_num_threads(),
                    mitigation=mitigations.names(config))

    # --- resume: from the newest intact state, with the settings that define the run unchanged
    step, changes = 0, []
    if master:
        for tmp in [*out.glob("ckpt/*.tmp"), *out.glob("state/*.tmp")]:
            tmp.unlink()  # left by a process killed while writing
    state = load_state(out, dev, master)
    if state is not None:
        diff = resume_changes(dict(state["config"], data_sha256=state.get("data_sha256", data_sha)),
                              dict(config, data_sha256=data_sha), defaults, out)
        raw_model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        # RNG states are CPU byte tensors, whatever device the state was loaded onto
        sampler.load_state(state["sampler"].cpu())
        if "mitigations" in state:
            mit.load_state_dict(state["mitigations"])
        torch.set_rng_state(state["rng"].cpu())
        if device_type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device=dev)
        step = state["step"]
        changes = json.loads((out / "config.json").read_text()).get("resume_changes", []) \
            if (out / "config.json").exists() else []
        changed = {k: d for k, d in diff.items() if k not in ("out_dir", "data_dir")}
        if changed:
            changes.append(dict(step=step, changed=changed))
        if master:
            print(f"resuming {out} from step {step}"
                  + "".join(f"; {k} {a} -> {b}" for k, (a, b) in changed.items()))
    elif master and any(out.glob("ckpt/*.json")):
        older = " (its last.pt is from a train.py before checksummed states: finish it with that version)" \
            if (out / "last.pt").exists() else ""
        raise SystemExit(f"train.py: {out} holds checkpoints but no resumable state{older}; fix: use a new out_dir")
    run_info["resume_changes"] = changes
    resumed_at = step if state is not None else -1  # that state is on disk already
    # the log so far as (line, record), kept up to the resumed step (a line cut by a kill is past it)
    lines = (out / "log.jsonl").read_text().splitlines() if master and (out / "log.jsonl").exists() else []
    if lines and not lines[-1].endswith("}"):
        lines.pop()
    past = [(ln, rec) for ln, rec in ((ln, json.loads(ln)) for ln in lines) if rec["step"] < step]
    # what the diagnostics compare with: the last checkpoint's weights, the gradient norms since
    previous, interval_norms = None, []
    if diagnostics and master and step > 0:
        done = [s for s in ckpt_steps if s < step and (out / "ckpt" / f"step_{s:07d}.json").exists()]
        if done:
            previous = read_file(out / "ckpt" / f"step_{done[-1]:07d}.pt")["model"]
            interval_norms = [rec["grad_norm"] for _, rec in past if rec["step"] >= done[-1]]

    net = CompiledOrEager(raw_model, "the training step") if compile else raw_model
    if ddp:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[dev] if device_type == "cuda" else None)

    log = None
    if master:
        (out / "ckpt").mkdir(parents=True, exist_ok=True)
        (out / "state").mkdir(exist_ok=True)
        write_json(out / "config.json", run_info)
        # the steps before the resumed one, so that a resumed log equals an uninterrupted one
        (out / "log.jsonl.tmp").write_text("".join(ln + "\n" for ln, _ in past))
        os.replace(out / "log.jsonl.tmp", out / "log.jsonl")
        log = open(out / "log.jsonl", "a")
        if length_note:
            print(length_note)
        print(f"{model_desc(raw_model, cfg)} | {schedule} on {','.join(train_langs)} | "
              f"{max_steps} steps of {tokens_per_step:,} tokens | {dev}{' bf16' if use_bf16 else ''} x{world}")

    def resumable():
        state = dict(checkpoint_dict(raw_model), optimizer=optimizer.state_dict(), sampler=sampler.state(),
                     rng=torch.get_rng_state(), step=step, config=config, data_sha256=data_sha,
                     mitigations=mit.state_dict())
        if device_type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(dev)
        return state

    # --- the loop: one host sync per log_every steps (and before anything is written to disk)
    rows = range(rank * batch_size, (rank + 1) * batch_size)
    t_start, tokens_at_start = time.time(), step * tokens_per_step
    clock = Clock(torch.cuda.synchronize if device_type == "cuda" else (lambda: None), raw_model.flops_per_token(),
                  peak_flops if device_type == "cuda" else 0.0, world)  # steady speed, phases apart (speed.py)
    pending = []  # steps not yet checked: (step, task, languages, lr, [loss, grad norm] on the device)

    def check_and_log():
        """Check the pending steps' losses (every rank: all stop together) and log them (master)."""
        values = torch.stack([p[-1] for p in pending]).tolist() if pending else []
        for (s, task_s, mix, lr_s, _), (loss_v, norm_v) in zip(pending, values):
            if not (math.isfinite(loss_v) and math.isfinite(norm_v)):  # nothing was saved after this step
                raise SystemExit(f"train.py: loss {loss_v} / grad norm {norm_v} at step {s} "
                                 f"(tokens {s * tokens_per_step:,}); the last good state is the newest in {out}/state; "
                                 "fix: lower lr or raise warmup_tokens, then rerun to resume")
            if master:
                log.write(json.dumps(dict(step=s, tokens=(s + 1) * tokens_per_step, task=task_s, lang=mix,
                                          loss=round(loss_v, 5), lr=lr_s, grad_norm=round(norm_v, 4))) + "\n")
            if master and diagnostics:
                interval_norms.append(round(norm_v, 4))  # as logged, so a resumed run measures the same
        pending.clear()
        return values[-1][0] if values else None

    while True:
        task, lang = task_of(step)
        saving = step % save_every == 0 or step == max_steps
        if step % log_every == 0 or step in ckpt_steps or saving:
            last_loss = check_and_log()
            if master and last_loss is not None and (step % log_every == 0 or step == max_steps):
                tps = clock.steady() or (step * tokens_per_step - tokens_at_start) / max(time.time() - t_start, 1e-9)
                eta = (max_steps - step) * tokens_per_step / max(tps, 1e-9)
                mfu = f" | mfu {clock.mfu(tps):.1%}" if clock.mfu(tps) is not None else ""
                print(f"step {step}/{max_steps} | tok {step * tokens_per_step / 1e6:.2f}M | "
                      f"{lang if schedule == 'continual' else 'mix'} | loss {last_loss:.4f} | "
                      f"lr {lr_at(step - 1):.2e} | {tps:,.0f} tok/s | eta {eta / 60:.1f}m{mfu}",
                      flush=True)
        if master and step in ckpt_steps and not (out / "ckpt" / f"step_{step:07d}.json").exists():
            with clock.phase("checkpoints"):  # the evaluation, diagnostics and files, timed apart
                losses = estimate_loss(raw_model, val, ctx)
                card = dict(step=step, tokens=step * tokens_per_step, task_index=task, lang=lang, val_loss=losses)
                if diagnostics:
                    t_diag = time.time()
                    card["diagnostics"] = diagnose(raw_model, diag_train, diag_probe, token_sets, previous,
                                                   interval_norms, ctx)
                    diag_seconds += time.time() - t_diag
                    card["diagnostics_seconds"] = round(time.time() - t_diag, 4)
                name = out / "ckpt" / f"step_{step:07d}"
                card["sha256"] = save_file(checkpoint_dict(raw_model), name.with_suffix(".pt"))
                write_json(name.with_suffix(".json"), dict(card, time=time.time()))
                shown = losses if len(losses) <= 10 else {  # many languages: the task's, their mean, the probe's
                    **({lang: losses[lang]} if lang in losses else {}),
                    "mean": sum(losses[t] for t in train_langs) / len(train_langs),
                    **({probe_lang: losses[probe_lang]} if probe_lang else {})}
                print(f"checkpoint step {step}: " + " ".join(f"{k} {v:.3f}" for k, v in shown.items()))
        if master and diagnostics and step in ckpt_steps:  # written now or before an interruption
            previous = {k: v.detach().to("cpu", copy=True) for k, v in raw_model.state_dict().items()}
            interval_norms.clear()
        if master and saving and step != resumed_at:
            log.flush()
            with clock.phase("states"):
                save_state(out, resumable())
        if step >= max_steps:
            break

        if (reset_optimizer_at_task or restart_at_task) and schedule == "continual" and step > 0 \
                and task != task_of(step - 1)[0]:
            optimizer.state.clear()  # AdamW starts afresh: zero moments, step count 0
        lr_now = lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        loss_sum = torch.zeros((), device=dev)
        row_langs = []
        for micro in range(grad_accum):
            x, y, rl = sampler.sample(batch_size * world, None if schedule == "stationary" else lang, rows)
            row_langs += rl
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            mit.observe(x, y)
            if ddp:
                net.require_backward_grad_sync = micro == grad_accum - 1
            with ctx:
                loss = net(x, y)[1] / grad_accum
            loss.backward()
            loss_sum += loss.detach()
        mit.before_step()  # L2 towards the initialisation: its gradient, clipped with the rest
        norm = torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip if grad_clip > 0 else float("inf"))
        mix = lang if schedule == "continual" else {k: row_langs.count(k) for k in sorted(set(row_langs))}
        pending.append((step, task, mix, lr_now, torch.stack([loss_sum, norm.float()])))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        mit.after_step(step, x)
        step += 1
        clock.stepped(tokens_per_step)
    if master:
        log.close()
        wall = time.time() - t_start
        write_json(out / "speed.json", dict(clock.summary(), device=dev, tokens_per_step=tokens_per_step,
                                            flops_per_token=raw_model.flops_per_token(), peak_flops=peak_flops))
        print(f"done: {out} ({clock.describe()}" + (f"; diagnostics {diag_seconds:.1f}s = {diag_seconds / wall:.1%} "
                                                    "of the wall)" if diagnostics else ")"))
    if ddp:  # all arrive before any tears down: a peer gone first can abort gloo's threads at exit; the DDP
        # wrapper (its reducer holds the group and its threads) is freed before the group is destroyed
        torch.distributed.barrier()
        del net
        gc.collect()
        torch.distributed.destroy_process_group()


def model_desc(m, cfg):
    return f"GPT {cfg.n_layer}x{cfg.n_embd} ({m.num_params() / 1e6:.3f}M non-embedding, {m.num_params(False) / 1e6:.2f}M total)"


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
