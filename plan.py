"""
The preflight of a study: before anything runs, what a sweep config will cost on a measured
device and whether it can see the onset it looks for (`python sweep.py CONFIG --plan=True`).

The paper's law, T = 1.3e-5 N^0.8269 tasks, has two readings (README, docs/gpu.md):
  tokens  the onset is T of the paper's tasks (9,537 steps of 2^19 tokens, config/paper.py), so
          T x 5.0x10^9 tokens whatever the task length here;
  tasks   the onset is T tasks whatever their length.
A config states the reading it tests (sweep.py `reading`); the plan prints both, with the cycle
each onset falls in, and refuses (unless --force=True) a plan whose onsets under the stated
reading fall before cycle 2 (cycle 1 is dAUC's reference) or after the last cycle, or whose last
checkpoint is not a cycle end.

The cost, per cell and in all: training at the device's measured tokens/s (a bench.py table,
interpolated in log N); state saves, which block training (SAVE_S each); a compile per stage;
the probes by probe.cost_tokens (fine-tuning steps plus evaluations at a third), at
PROBE_SLOWDOWN times the training's time per token (sequential fine-tunes are uncompiled and
launch-bound at small sizes); the corpus build (download at an assumed rate, tokenizing at the
rate measured on one core). Disk: the download cache (at most the text), the build's raw ids and
bins, every run's checkpoints and resumable states. Memory: a training step and a fine-tuning
step, by model.step_bytes.
"""

import math
import re

import probe
import schedule as stream
from model import LADDER, n_nonembed, preset, step_bytes

LAW = (1.3e-5, 0.8269)  # the paper's onset: a N^alpha tasks
PAPER_TASK_TOKENS = 9537 * 2 ** 19  # the paper's task: 9,537 steps of 0.5M (2^19) tokens (config/paper.py)
READINGS = ("tokens", "tasks")
# inputs not measured on the device (docs/gpu.md says where each comes from)
SAVE_S = 3.0  # seconds a resumable state blocks training (1-3 s measured in review at 5-27M): the upper end
PROBE_SLOWDOWN = 2.0  # a sequential, uncompiled fine-tune's time per token over compiled training's (1.3-2x)
COMPILE_S = 60.0  # one torch.compile per size and stage
TOKENIZE_MBS = 4.68  # MB of text per second one core tokenizes (cl100k, the docs corpus, measured)
BYTES_PER_TOKEN = 3.48  # of that text (the eight training languages)


def law_tasks(n):
    return LAW[0] * n ** LAW[1]


def onset_in_tasks(n, reading, task_tokens):
    """The predicted onset at N = n in tasks of task_tokens, under a reading of the law."""
    return law_tasks(n) * (PAPER_TASK_TOKENS / task_tokens if reading == "tokens" else 1.0)


def bench_table(path):
    """(header, [(N, tokens/s)]) from a bench.py table: the device and shape, then one row a size."""
    lines = open(path).read().splitlines()
    rows = []
    for ln in lines[2:]:
        f = ln.split()
        if len(f) >= 4 and re.fullmatch(r"[\d,]+", f[1]) and re.fullmatch(r"[\d,]+", f[3]):
            rows.append((int(f[1].replace(",", "")), float(f[3].replace(",", ""))))
    if len(rows) < 2:
        raise SystemExit(f"sweep.py: {path} is not a bench.py table with two sizes or more; fix: "
                         "--plan_bench=<the output of python bench.py on the device>")
    return lines[0], sorted(rows)


def tokens_per_s(n, rows):
    """Training tokens/s at N = n: log tokens/s linear in log N between (or beyond) the measured sizes."""
    (n0, t0), (n1, t1) = next(((a, b) for a, b in zip(rows, rows[1:]) if n <= b[0]), rows[-2:])
    return math.exp(math.log(t0) + (math.log(t1) - math.log(t0)) * math.log(n / n0) / math.log(n1 / n0))


def make(cells, train, probe_set, n_langs, source_mb, n_sources, vocab, bench, download_mbs, reading):
    """The plan: one row per cell (size, schedule, seed), totals, and the problems that refuse it.
    train, probe_set: the resolved settings of the cells' train.py and probe.py."""
    device, rows = bench_table(bench)
    B, T = train["batch_size"], train["block_size"]
    tps_step = B * T * train["grad_accum"]
    problems, out = [], []
    try:
        max_steps, note = stream.run_steps(train["max_tokens"], tps_step, train["task_tokens"], n_langs,
                                           train["ckpt_schedule"], train["ckpt_every_tasks"])
    except SystemExit as e:
        return dict(problems=[str(e)], cells=[], device=device)
    if note:
        problems.append(note)
    tokens = max_steps * tps_step
    cycle_tokens = n_langs * train["task_tokens"]
    cycles = tokens / cycle_tokens
    ckpts = stream.checkpoint_steps(train["ckpt_schedule"], max_steps, tps_step, train["task_tokens"], n_langs,
                                    train["n_ckpt"], train["ckpt_every_tasks"], train["ckpt_from_tokens"])
    ends = stream.cycle_ends(train["task_tokens"], tps_step, n_langs, max_steps)
    probed = 1 + len(ends)  # step 0 and the cycle ends
    PB = probe_set["probe_batch_size"] or B
    p_steps = probe_set["probe_steps"] or -(-(probe_set["probe_tokens"] or train["task_tokens"]) // (PB * T))
    every = probe_set["eval_every"] or max(1, round(p_steps / probe_set["n_evals"]))
    n_evals = len(range(0, p_steps, every)) + 1
    record = dict(batch_size=PB, probe_steps=p_steps, eval_steps=[0] * n_evals, eval_batches=probe_set["eval_batches"],
                  forget={i: 0 for i in range(n_langs)}, forget_batches=probe_set["forget_batches"])
    per_record = probe.cost_tokens(record, T)
    n_seeds = len([s for s in probe_set["seeds"].split(",") if s])
    padded = (vocab + 63) // 64 * 64
    for size, sch, sd in cells:
        L, _, d = LADDER[size]
        n = n_nonembed(L, d)
        total = n + (padded + T) * d
        speed = tokens_per_s(n, rows)
        train_h = tokens / speed / 3600
        saves_h = max_steps // train["save_every"] * SAVE_S / 3600
        compile_h = (train["compile"] + probe_set["compile"]) * COMPILE_S / 3600
        probe_tokens = probed * n_seeds * per_record
        probe_h = probe_tokens * PROBE_SLOWDOWN / speed / 3600
        onsets = {}
        for r in READINGS:
            k = onset_in_tasks(n, r, train["task_tokens"])
            onsets[r] = dict(tasks=k, tokens=k * train["task_tokens"], cycle=k / n_langs)
        shape = preset(size, vocab_size=padded, block_size=T)
        memory = {stage: step_bytes(shape, total, b * T, bf16=True) / 1e9  # bf16 autocast, as on a GPU
                  for stage, b in (("training", B), ("probe", probe_set["probe_micro_batch"] or PB))}
        disk_gb = (len(ckpts) * 4 * total + 2 * 12 * total) / 1e9  # fp32 weights; states: weights and two moments
        out.append(dict(size=size, schedule=sch, seed=sd, n=n, tokens_per_s=speed, train_h=train_h, saves_h=saves_h,
                        compile_h=compile_h, probe_h=probe_h, hours=train_h + saves_h + compile_h + probe_h,
                        probe_share=probe_h / train_h, onsets=onsets, disk_gb=disk_gb, memory_gb=memory))
        if reading:
            c = onsets[reading]["cycle"]
            if not 2 <= c <= cycles:
                problems.append(f"{size}: the predicted onset under the {reading} reading is at cycle {c:.2f}, "
                                + ("before cycle 2 (cycle 1 is dAUC's reference)" if c < 2
                                   else f"after the last cycle ({cycles:.3g})"))
    text_mb = source_mb * n_sources
    corpus_tokens = text_mb * 1e6 / BYTES_PER_TOKEN
    build_h = (text_mb / download_mbs + text_mb / TOKENIZE_MBS) / 3600
    build_peak_gb = (text_mb * 1e6 + corpus_tokens * (4 + 2)) / 1e9  # cache <= text; raw ids 4 B, bins 2 B a token
    kept_gb = (text_mb * 1e6 + corpus_tokens * 2) / 1e9
    per_lang = corpus_tokens / n_sources or float("nan")  # source_mb 0: the corpus is built already
    return dict(device=device, max_steps=max_steps, tokens=tokens, cycles=cycles, cycle_tokens=cycle_tokens,
                probed=probed, probe_steps=p_steps, n_evals=n_evals, per_record=per_record, n_seeds=n_seeds,
                cells=out, problems=problems, reading=reading, text_mb=text_mb, corpus_tokens=corpus_tokens,
                build_h=build_h, build_peak_gb=build_peak_gb, kept_gb=kept_gb, download_mbs=download_mbs,
                passes=tokens / n_langs / per_lang, hours=build_h + sum(c["hours"] for c in out),
                disk_gb=kept_gb + sum(c["disk_gb"] for c in out))


def describe(p):
    """The plan as the lines sweep.py --plan=True prints."""
    if not p["cells"]:
        return [f"plan: {p['problems'][0]}"]
    lines = [f"device (bench table): {p['device']}",
             f"per run: {p['tokens']:.4g} tokens = {p['max_steps']:,} steps, {p['cycles']:.3g} cycles of "
             f"{p['cycle_tokens']:.3g} tokens; {p['probed']} checkpoints probed (step 0, the first task's end, the "
             f"cycle ends) x {p['n_seeds']} seeds, each {p['probe_steps']:,} steps with {p['n_evals']} evaluations "
             f"({p['per_record']:.3g} training-token equivalents)",
             "predicted onset, T = 1.3e-5 N^0.8269 tasks: under the tokens reading (tasks of the paper's 5.0e9 tokens) "
             "and the tasks reading (tasks of this config's length)" + (f"; this config tests the {p['reading']} reading"
                                                                      if p["reading"] else "; no reading stated"),
             f"{'cell':<28}{'N':>12}{'tokens/s':>11}{'onset, tokens reading':>26}{'onset, tasks reading':>24}"
             f"{'train h':>9}{'probe h':>9}{'share':>7}{'hours':>7}{'disk GB':>9}"]
    for c in p["cells"]:
        o = c["onsets"]
        lines.append(f"{c['size'] + ' ' + c['schedule'] + ' s' + str(c['seed']):<28}{c['n']:>12,}"
                     f"{c['tokens_per_s']:>11,.0f}{o['tokens']['tokens']:>12.3g} (cycle {o['tokens']['cycle']:>5.2f})"
                     f"{o['tasks']['tokens']:>10.3g} (cycle {o['tasks']['cycle']:>5.2f}){c['train_h']:>9.2f}"
                     f"{c['probe_h']:>9.2f}{c['probe_share']:>7.2f}{c['hours']:>7.2f}{c['disk_gb']:>9.2f}")
    lines += [f"peak memory of a step, {c['size']} (model.step_bytes, bf16; a batched probe needs it per member): "
              + ", ".join(f"{k} {v:.1f} GB" for k, v in c["memory_gb"].items()) for c in p["cells"]
              if c is next(x for x in p["cells"] if x["size"] == c["size"])]
    lines += [f"corpus: {p['text_mb']:,.0f} MB of text, about {p['corpus_tokens']:.3g} tokens ({BYTES_PER_TOKEN} bytes a "
              f"token); build {p['build_h']:.2f} h (download at {p['download_mbs']:g} MB/s, assumed: "
              f"--plan_download_mbs; tokenizing at {TOKENIZE_MBS} MB/s, one core); peak disk {p['build_peak_gb']:.0f} GB, "
              f"{p['kept_gb']:.0f} GB kept; each language's text is trained on {p['passes']:.1f} times per run"
              if p["text_mb"] else "corpus: built already (nothing to download or build)",
              f"in all: {p['hours']:.1f} h on this device (build included; cells one after another), "
              f"{p['disk_gb']:.0f} GB of disk kept"]
    lines += [f"problem: {x}" for x in p["problems"]]
    return lines
