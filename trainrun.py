"""
One training run apart from its arithmetic: what train.py and group.py share.

TrainRun(config, defaults, proc) takes train.py's resolved settings and does everything of a run
but the training step itself:
- checks the settings (one line naming a bad one and its fix);
- loads its data: the sampler of its stream and the fixed validation batches;
- lays out its schedule: the task and language of a step, the learning rate, where checkpoints and
  states fall, and when the optimizer starts afresh;
- builds its GPT (seeded by the run's seed), its AdamW and its mitigations;
- resumes from the newest intact state;
- writes its files: config.json, log.jsonl, the checkpoints with their sidecars and diagnostics,
  the resumable states, speed.json.

train.py steps one TrainRun's model. group.py steps the models of several TrainRuns as one
computation: their files are written by this same code, so a member's run directory is laid out
as a run trained alone.

proc: where the run computes, as train.py sets it up: dev, device_type, ctx (autocast or not),
use_bf16, rank, world (data-parallel processes), master (the process that writes).
"""

import json
import math
import os
import time
from pathlib import Path

import torch

import mitigations
import schedule as stream
from checkpoint import checkpoint_dict, load_state, read_file, resume_changes, save_file, save_state, write_json
from configurator import at_least, code_version
from data import Sampler, corpus_fingerprint, corpus_languages, fixed_batches, load_corpus, token_ids
from diagnostics import diagnose
from model import GPT, LADDER, estimate_loss, ladder_lr, preset


def check_settings(c):
    """Refuse settings no run can have, in one line each (c: train.py's resolved settings)."""
    at_least("train.py", c, dict(batch_size=1, block_size=1, grad_accum=1, task_tokens=1, max_tokens=1,
                                 eval_batches=1, save_every=1, log_every=1, n_ckpt=1, lr=0, warmup_tokens=0,
                                 weight_decay=0, beta1=0, beta2=0, grad_clip=0, ckpt_every_tasks=0,
                                 ckpt_from_tokens=0, cpu_threads=0),
             dict(lr="0: the size's, model.ladder_lr", cpu_threads="0: as the environment gives", grad_clip="0: off"))
    if not (c["beta1"] < 1 and c["beta2"] < 1):
        raise SystemExit(f"train.py: beta1 and beta2 must be below 1, got {c['beta1']}, {c['beta2']}; "
                         "fix: e.g. --beta2=0.95")
    if c["model"] not in LADDER:
        raise SystemExit(f"train.py: unknown model size {c['model']!r}; choose one of {', '.join(LADDER)}")
    if c["schedule"] not in ("continual", "stationary"):
        raise SystemExit(f"train.py: schedule must be continual or stationary, got {c['schedule']!r}")
    if c["dtype"] not in ("auto", "float32", "bfloat16"):
        raise SystemExit(f"train.py: dtype must be auto, float32 or bfloat16, got {c['dtype']!r}")
    if c["ckpt_schedule"] not in ("tasks", "log", "linear") or c["lr_schedule"] not in ("constant", "cosine"):
        raise SystemExit("train.py: ckpt_schedule must be tasks|log|linear and lr_schedule constant|cosine")
    if c["restart_at_task"] and (c["reset_optimizer_at_task"] or c["warmup_at_task"]):
        raise SystemExit("train.py: restart_at_task resets the optimizer and restarts the warmup already; "
                         "fix: leave reset_optimizer_at_task and warmup_at_task off")
    if c["mixture_langs"] < 0 or c["cycle_tasks"] < 0:
        raise SystemExit(f"train.py: mixture_langs and cycle_tasks must be >= 0 (0: every training language), got "
                         f"{c['mixture_langs']}, {c['cycle_tasks']}")
    if c["ckpt_from_tokens"] and c["ckpt_schedule"] != "log":
        raise SystemExit(f"train.py: ckpt_from_tokens places the log schedule; fix: --ckpt_schedule=log "
                         f"or leave ckpt_from_tokens at 0 (ckpt_schedule is {c['ckpt_schedule']!r})")
    if c["compile"] and c["cbp_rate"] > 0:
        raise SystemExit("train.py: cbp_rate > 0 reads the MLP activations of every step through forward hooks, "
                         "which a compiled model does not run; fix: --compile=False")


class TrainRun:
    def __init__(self, config, defaults, proc, trained_by=None):
        check_settings(config)
        c = self.c = config
        self.defaults, self.proc, self.out = defaults, proc, Path(c["out_dir"])
        dev = proc.dev

        # --- data
        metas = corpus_languages(Path(c["data_dir"]) / c["corpus"])
        all_langs, probe_lang = list(metas), c["probe_lang"]
        if probe_lang and probe_lang not in all_langs:
            raise SystemExit(f"train.py: probe language {probe_lang!r} is not in corpus "
                             f"{Path(c['data_dir']) / c['corpus']} (it has {', '.join(all_langs) or 'no languages'}); "
                             "fix: --probe_lang=<one of them>, or --probe_lang= for a run without one")
        train_langs = [s for s in c["langs"].split(",") if s] or [lang for lang in all_langs if lang != probe_lang]
        if probe_lang in train_langs:
            raise SystemExit(f"train.py: the probe language {probe_lang!r} must not be a training language")
        self.train_langs, self.probe_lang = train_langs, probe_lang
        eval_langs = train_langs + ([probe_lang] if probe_lang else [])
        bins, vocab = load_corpus(c["data_dir"], c["corpus"], eval_langs)
        self.data_sha = corpus_fingerprint(metas, eval_langs)
        B, T = c["batch_size"], c["block_size"]
        self.val = {lang: [(x.to(dev), y.to(dev)) for x, y in fixed_batches(bins[lang]["val"], c["eval_batches"], B,
                                                                            T, name=f"{lang} val.bin")]
                    for lang in eval_langs}
        self.order = stream.language_order(train_langs, c["task_order"], c["seed"])
        # a stationary run's mixture: every training language, or the first mixture_langs of the task order
        stationary = c["schedule"] == "stationary"
        mixture = self.order[:c["mixture_langs"]] if stationary and c["mixture_langs"] else train_langs
        self.sampler = Sampler({lang: bins[lang]["train"] for lang in mixture}, T, c["seed"])
        self.diag_seconds = 0.0
        if c["diagnostics"]:  # a few sequences of each language's first validation batch; the tokens each side uses
            t_diag = time.time()
            self.diag_train = [(x[:2], y[:2]) for x, y in (self.val[lang][0] for lang in train_langs)]
            self.diag_probe = [(x[:4], y[:4]) for x, y in self.val[probe_lang][:1]] if probe_lang else None
            self.token_sets = (set().union(*(token_ids(bins[lang]["train"], vocab.size) for lang in train_langs)),
                               token_ids(bins[probe_lang]["train"], vocab.size)) if probe_lang else None
            self.diag_seconds += time.time() - t_diag

        # --- schedule
        n_cycle = c["cycle_tasks"] or len(train_langs)
        self.tokens_per_step = tps = B * T * c["grad_accum"] * proc.world
        self.max_steps, self.length_note = stream.run_steps(c["max_tokens"], tps, c["task_tokens"], n_cycle,
                                                            c["ckpt_schedule"], c["ckpt_every_tasks"])
        if self.max_steps < 1:
            raise SystemExit(f"train.py: max_tokens={c['max_tokens']} is less than one step ({tps} tokens)")
        self.warmup_steps = max(1, c["warmup_tokens"] // tps)
        self.ckpt_steps = stream.checkpoint_steps(c["ckpt_schedule"], self.max_steps, tps, c["task_tokens"], n_cycle,
                                                  c["n_ckpt"], c["ckpt_every_tasks"], c["ckpt_from_tokens"])

        # --- model, optimizer, mitigations
        torch.manual_seed(c["seed"])
        padded_vocab = (vocab.size + 63) // 64 * 64  # a multiple of 64 is faster; extra rows are never targets
        cfg = preset(c["model"], block_size=T, vocab_size=padded_vocab, dropout=c["dropout"], bias=c["bias"],
                     tie_weights=c["tie_weights"])
        for k in ("n_layer", "n_head", "n_embd"):
            if c[k] > 0:  # each overrides the preset's value alone
                setattr(cfg, k, c[k])
        if cfg.n_embd % cfg.n_head:
            raise SystemExit(f"train.py: n_embd {cfg.n_embd} is not a multiple of n_head {cfg.n_head}; "
                             "fix: choose --n_embd and --n_head so that it is")
        self.cfg = cfg
        self.model = GPT(cfg).to(dev)
        self.rng = torch.get_rng_state()  # after the initialisation: what a state records (dropout draws from it)
        self.peak_lr = c["lr"] or ladder_lr(self.model.num_params())
        self.optimizer = self.model.optimizer(self.peak_lr, c["weight_decay"], (c["beta1"], c["beta2"]),
                                              proc.device_type)
        self.mit = mitigations.Mitigations(self.model, self.optimizer, {k: c[k] for k in mitigations.SETTINGS},
                                           c["seed"])
        m = self.model
        self.info = dict(c, peak_lr=self.peak_lr, n_nonembed=m.num_params(), n_params=m.num_params(False),
                         vocab_size=vocab.size, vocab_hash=vocab.hash, data_sha256=self.data_sha,
                         model_args=vars(cfg).copy(), train_langs=train_langs, eval_langs=eval_langs,
                         lang_order=self.order, world_size=proc.world, tokens_per_step=tps, max_steps=self.max_steps,
                         ckpt_steps=self.ckpt_steps, code_version=code_version(), torch_version=torch.__version__,
                         threads=torch.get_num_threads(), mitigation=mitigations.names(c))
        self.trained_by = trained_by or dict(program="train.py")  # config.json keeps each program's turn
        self.step, self.resumed_at = 0, -1
        self.pending = []  # steps not yet checked: (step, task, languages, lr, [loss, grad norm] on the device)
        self.log = None
        self.label = ""  # before "step" in the checkpoint line (group.py: the run directory, as runs share the output)

    # --- the schedule of a step

    def task_of(self, s):
        return stream.task_of(s, self.c["schedule"], self.c["task_tokens"], self.tokens_per_step, self.order)

    def lr_at(self, s):
        """The learning rate of step s; with restart_at_task or warmup_at_task the warmup counts from the
        first step of the task."""
        c = self.c
        since = stream.task_start(self.task_of(s)[0], c["task_tokens"], self.tokens_per_step) \
            if (c["restart_at_task"] or c["warmup_at_task"]) and c["schedule"] == "continual" else 0
        return stream.lr_at(s, self.peak_lr, self.warmup_steps, self.max_steps, c["lr_schedule"], c["min_lr_frac"],
                            since)

    def fresh_optimizer_at(self, s):
        """Whether AdamW starts afresh (zero moments, step count 0) before step s: a task boundary of a
        continual run with reset_optimizer_at_task or restart_at_task."""
        c = self.c
        return (c["reset_optimizer_at_task"] or c["restart_at_task"]) and c["schedule"] == "continual" and s > 0 \
            and self.task_of(s)[0] != self.task_of(s - 1)[0]

    def sample(self, lang):
        """One micro-batch of this process's rows: (x, y, languages of the rows) on the device."""
        B, world, rank = self.c["batch_size"], self.proc.world, self.proc.rank
        x, y, rl = self.sampler.sample(B * world, None if self.c["schedule"] == "stationary" else lang,
                                       range(rank * B, (rank + 1) * B))
        return x.to(self.proc.dev, non_blocking=True), y.to(self.proc.dev, non_blocking=True), rl

    # --- resume and start

    def resume(self, at_most=None):
        """Load the newest intact state (model, optimizer, sampler, RNG, mitigations; at step at_most or
        before, when given) when there is one, the settings that define the run unchanged; open the log
        and write config.json. Returns the step."""
        c, out, master, dev = self.c, self.out, self.proc.master, self.proc.dev
        if master:
            for tmp in [*out.glob("ckpt/*.tmp"), *out.glob("state/*.tmp")]:
                tmp.unlink()  # left by a process killed while writing
        state = load_state(out, dev, master, at_most)
        changes = []
        if state is not None:
            diff = resume_changes(dict(state["config"], data_sha256=state.get("data_sha256", self.data_sha)),
                                  dict(c, data_sha256=self.data_sha), self.defaults, out)
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            # RNG states are CPU byte tensors, whatever device the state was loaded onto
            self.sampler.load_state(state["sampler"].cpu())
            if "mitigations" in state:
                self.mit.load_state_dict(state["mitigations"])
            self.rng = state["rng"].cpu()
            self.cuda_rng = state["cuda_rng"].cpu() if "cuda_rng" in state else None
            self.step = self.resumed_at = state["step"]  # that state is on disk already
            changes = json.loads((out / "config.json").read_text()).get("resume_changes", []) \
                if (out / "config.json").exists() else []
            changed = {k: d for k, d in diff.items() if k not in ("out_dir", "data_dir")}
            if changed:
                changes.append(dict(step=self.step, changed=changed))
            if master:
                print(f"resuming {out} from step {self.step}"
                      + "".join(f"; {k} {a} -> {b}" for k, (a, b) in changed.items()))
        elif master and any(out.glob("ckpt/*.json")):
            older = " (its last.pt is from a train.py before checksummed states: finish it with that version)" \
                if (out / "last.pt").exists() else ""
            raise SystemExit(f"train.py: {out} holds checkpoints but no resumable state{older}; fix: use a new "
                             "out_dir")
        self.info["resume_changes"] = changes
        # how the run was trained: the program (and a group's runs) from each step where that changed
        history = json.loads((out / "config.json").read_text()).get("trained_by", []) \
            if state is not None and (out / "config.json").exists() else []
        if not history or {k: v for k, v in history[-1].items() if k != "from_step"} != self.trained_by:
            history.append(dict(from_step=self.step, **self.trained_by))
        self.info["trained_by"] = history
        # the log so far as (line, record), kept up to the resumed step (a line cut by a kill is past it)
        lines = (out / "log.jsonl").read_text().splitlines() if master and (out / "log.jsonl").exists() else []
        if lines and not lines[-1].endswith("}"):
            lines.pop()
        past = [(ln, rec) for ln, rec in ((ln, json.loads(ln)) for ln in lines) if rec["step"] < self.step]
        # what the diagnostics compare with: the last checkpoint's weights, the gradient norms since
        self.previous, self.interval_norms = None, []
        if c["diagnostics"] and master and self.step > 0:
            done = [s for s in self.ckpt_steps if s < self.step and (out / "ckpt" / f"step_{s:07d}.json").exists()]
            if done:
                self.previous = read_file(out / "ckpt" / f"step_{done[-1]:07d}.pt")["model"]
                self.interval_norms = [rec["grad_norm"] for _, rec in past if rec["step"] >= done[-1]]
        if master:
            (out / "ckpt").mkdir(parents=True, exist_ok=True)
            (out / "state").mkdir(exist_ok=True)
            write_json(out / "config.json", self.info)
            # the steps before the resumed one, so that a resumed log equals an uninterrupted one
            (out / "log.jsonl.tmp").write_text("".join(ln + "\n" for ln, _ in past))
            os.replace(out / "log.jsonl.tmp", out / "log.jsonl")
            self.log = open(out / "log.jsonl", "a")
        return self.step

    def describe(self):
        m, cfg, p = self.model, self.cfg, self.proc
        return (f"GPT {cfg.n_layer}x{cfg.n_embd} ({m.num_params() / 1e6:.3f}M non-embedding, "
                f"{m.num_params(False) / 1e6:.2f}M total) | {self.c['schedule']} on {','.join(self.train_langs)} | "
                f"{self.max_steps} steps of {self.tokens_per_step:,} tokens | {p.dev}{' bf16' if p.use_bf16 else ''} "
                f"x{p.world}")

    # --- the log

    def stepped(self, s, task, mix, lr, loss_and_norm):
        """Step s is done: its [loss, grad norm] (a tensor on the device) waits to be checked and logged."""
        self.pending.append((s, task, mix, lr, loss_and_norm))

    def check_and_log(self):
        """Check the pending steps' losses (every rank: all stop together) and log them (master). Returns
        the last loss, or None when none was pending."""
        values = torch.stack([p[-1] for p in self.pending]).tolist() if self.pending else []
        tps = self.tokens_per_step
        for (s, task_s, mix, lr_s, _), (loss_v, norm_v) in zip(self.pending, values):
            if not (math.isfinite(loss_v) and math.isfinite(norm_v)):  # nothing was saved after this step
                raise SystemExit(f"train.py: loss {loss_v} / grad norm {norm_v} at step {s} (tokens {s * tps:,}) of "
                                 f"{self.out}; the last good state is the newest in {self.out}/state; "
                                 "fix: lower lr or raise warmup_tokens, then rerun to resume")
            if self.proc.master:
                self.log.write(json.dumps(dict(step=s, tokens=(s + 1) * tps, task=task_s, lang=mix,
                                               loss=round(loss_v, 5), lr=lr_s, grad_norm=round(norm_v, 4))) + "\n")
                if self.c["diagnostics"]:
                    self.interval_norms.append(round(norm_v, 4))  # as logged, so a resumed run measures the same
        self.pending.clear()
        return values[-1][0] if values else None

    # --- checkpoints and states

    def at_step(self, s, clock, report, rng, current=lambda: None):
        """What the run does at step s before training it, in train.py and group.py alike: check and log
        the pending steps (report(last loss) prints the progress line, at log_every and at the end), write
        the checkpoint due (timed apart on clock), keep its weights for the next one's diagnostics, save
        the state due (rng(): the (CPU, CUDA or None) RNG states it records). current() makes self.model
        and self.optimizer hold the run's state now (group.py copies it out of the stack), called only
        when something reads them."""
        c, master = self.c, self.proc.master
        if s % c["log_every"] == 0 or s in self.ckpt_steps or s % c["save_every"] == 0 or s == self.max_steps:
            last_loss = self.check_and_log()
            if master and last_loss is not None and (s % c["log_every"] == 0 or s == self.max_steps):
                report(last_loss)
        ckpt_due = master and s in self.ckpt_steps and not (self.out / "ckpt" / f"step_{s:07d}.json").exists()
        state_due = master and (s % c["save_every"] == 0 or s == self.max_steps) and s != self.resumed_at
        if ckpt_due or state_due or (master and c["diagnostics"] and s in self.ckpt_steps):
            current()
        if ckpt_due:
            with clock.phase("checkpoints"):  # the evaluation, diagnostics and files, timed apart
                self.write_checkpoint(s)
        self.checkpointed(s)
        if state_due:
            with clock.phase("states"):
                self.save_state(s, *rng())

    def write_checkpoint(self, s):
        """Evaluate the model at step s and write its checkpoint: the .pt, then its sidecar (losses,
        diagnostics, sha256); prints the losses."""
        task, lang = self.task_of(s)
        losses = estimate_loss(self.model, self.val, self.proc.ctx)
        card = dict(step=s, tokens=s * self.tokens_per_step, task_index=task, lang=lang, val_loss=losses)
        if self.c["diagnostics"]:
            t_diag = time.time()
            card["diagnostics"] = diagnose(self.model, self.diag_train, self.diag_probe, self.token_sets,
                                           self.previous, self.interval_norms, self.proc.ctx)
            self.diag_seconds += time.time() - t_diag
            card["diagnostics_seconds"] = round(time.time() - t_diag, 4)
        name = self.out / "ckpt" / f"step_{s:07d}"
        card["sha256"] = save_file(checkpoint_dict(self.model), name.with_suffix(".pt"))
        write_json(name.with_suffix(".json"), dict(card, time=time.time()))
        train_langs, probe_lang = self.train_langs, self.probe_lang
        shown = losses if len(losses) <= 10 else {  # many languages: the task's, their mean, the probe's
            **({lang: losses[lang]} if lang in losses else {}),
            "mean": sum(losses[t] for t in train_langs) / len(train_langs),
            **({probe_lang: losses[probe_lang]} if probe_lang else {})}
        print(f"checkpoint {self.label}step {s}: "
              + " ".join(f"{k} {v:.3f}" for k, v in shown.items()))

    def checkpointed(self, s):
        """After step s's checkpoint (written now or before an interruption): the diagnostics compare
        the next one with these weights and the gradient norms from here on."""
        if self.proc.master and self.c["diagnostics"] and s in self.ckpt_steps:
            self.previous = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self.interval_norms.clear()

    def save_state(self, s, rng, cuda_rng=None):
        """The resumable state at step s: model, optimizer, sampler, RNG, mitigations."""
        self.log.flush()
        state = dict(checkpoint_dict(self.model), optimizer=self.optimizer.state_dict(), sampler=self.sampler.state(),
                     rng=rng, step=s, config=self.c, data_sha256=self.data_sha, mitigations=self.mit.state_dict())
        if cuda_rng is not None:
            state["cuda_rng"] = cuda_rng
        save_state(self.out, state)

    def finish(self, clock, wall, **extra):
        """Close the log and write speed.json (extra: more fields); prints the run's speed."""
        self.log.close()
        write_json(self.out / "speed.json", dict(clock.summary(), **extra, device=self.proc.dev,
                                                 tokens_per_step=self.tokens_per_step,
                                                 flops_per_token=self.model.flops_per_token(),
                                                 peak_flops=self.c["peak_flops"]))
        diag = f"; diagnostics {self.diag_seconds:.1f}s = {self.diag_seconds / wall:.1%} of the wall)" \
            if self.c["diagnostics"] else ")"
        print(f"done: {self.out} ({clock.describe()}" + diag)
