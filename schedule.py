"""
The training stream's schedule: which task and language a step trains on, the learning rate at
a step, and where the checkpoints fall. train.py asks; probe.py asks where the cycles end.
Nothing here touches a model.

Tasks (continual runs): task k covers the tokens [k task_tokens, (k + 1) task_tokens), in one
language; its first step is the first whose tokens reach k task_tokens. The languages cycle
in `language_order`: the paper's order (en, zh, fr, ja, es, de, pt, ru) when the training
languages are its eight, otherwise an order shuffled by the run's seed. A cycle is one task
of every training language; a stationary run has the same token cadence (its "tasks" only
mark where checkpoints fall).

Learning rate: a linear warmup over warmup_steps, then constant (the default: a decaying
schedule would confound "can no longer learn" with "is no longer allowed to learn") or
cosine to min_lr_frac of the peak. With restart_at_task (continual runs; the paper's schedule,
together with a fresh optimizer state, which train.py gives), the warmup starts again at the
first step of every task.
"""

import math
import random

PAPER_ORDER = ("en", "zh", "fr", "ja", "es", "de", "pt", "ru")  # the paper's eight training languages, in its order


def paper_code(lang):
    """A corpus's language name as the paper's order names it (CC-100 writes zh-Hans)."""
    return {"zh-Hans": "zh", "zh-hans": "zh"}.get(lang, lang)


def language_order(train_langs, setting, seed):
    """The order tasks cycle through: setting "auto" (the paper's when the training languages
    are its eight, else shuffled by seed), "seed" (shuffled by seed), or a comma-separated
    list of exactly the training languages."""
    if setting == "auto" and sorted(map(paper_code, train_langs)) == sorted(PAPER_ORDER):
        return sorted(train_langs, key=lambda lang: PAPER_ORDER.index(paper_code(lang)))
    if setting in ("auto", "seed"):
        order = list(train_langs)
        random.Random(seed).shuffle(order)
        return order
    order = [s for s in setting.split(",") if s]
    if sorted(order) != sorted(train_langs):
        raise SystemExit(f"train.py: task_order {setting!r} must name each training language once "
                         f"({', '.join(train_langs)}); fix: --task_order=auto, seed, or such a list")
    return order


def task_start(task, task_tokens, tokens_per_step):
    """The first step of task `task` (ceil: the step whose tokens reach task * task_tokens)."""
    return -(-task * task_tokens // tokens_per_step)


def task_of(step, schedule, task_tokens, tokens_per_step, order):
    """(task index, language) that step trains on; a stationary run has one task, "mix"."""
    if schedule == "stationary":
        return 0, "mix"
    task = step * tokens_per_step // task_tokens
    return task, order[task % len(order)]


def run_steps(max_tokens, tokens_per_step, task_tokens, n_langs, ckpt_schedule="tasks", every_tasks=0):
    """(max_steps, note) of a run of max_tokens. With task checkpoints (the paper's protocol), a
    max_tokens of whole tasks ends on the step on which its last task ends (task_start: up to one
    step past max_tokens when a task is not a whole number of steps), so that the last checkpoint
    is a cycle end (of every every_tasks-th task when that is set) and is probed; whole tasks that
    are not whole cycles are refused, naming the max_tokens to use. Any other max_tokens gives
    max_tokens // tokens_per_step steps, and a note when the last step is not a cycle end (the
    probe will not probe it). Log and linear schedules: max_tokens // tokens_per_step, no note."""
    steps = max_tokens // tokens_per_step
    if ckpt_schedule != "tasks":
        return steps, ""
    every = every_tasks or n_langs
    unit = f"{every} task{'s' if every > 1 else ''} of {task_tokens:,} tokens"
    below, above = max_tokens // (every * task_tokens) * every, -(-max_tokens // (every * task_tokens)) * every
    use = " or ".join(f"--max_tokens={k * task_tokens}" for k in sorted({below, above}) if k > 0)
    if max_tokens % task_tokens == 0:
        tasks = max_tokens // task_tokens
        if tasks != 1 and tasks % every:
            raise SystemExit(f"train.py: max_tokens={max_tokens} is {tasks} tasks, not whole cycles of {unit}: the "
                             f"last checkpoint would not be a cycle end, which the probe skips; fix: {use}")
        return task_start(tasks, task_tokens, tokens_per_step), ""
    grid = {task_start(k, task_tokens, tokens_per_step) for k in range(every, above + 1, every)}
    if steps in grid or steps == task_start(1, task_tokens, tokens_per_step):
        return steps, ""
    return steps, (f"train.py: note: max_tokens={max_tokens} ends at step {steps}, not at a cycle end ({unit}): "
                   f"probe.py will not probe the last checkpoint; for a run that ends on one: {use}")


def lr_at(step, peak, warmup_steps, max_steps, kind="constant", min_lr_frac=0.1, since=0):
    """The learning rate at step: warmup over warmup_steps counted from step `since` (the
    first step of the task when the warmup restarts at every task, else 0), then constant or
    cosine over the whole run."""
    into = step - since
    if into < warmup_steps:
        return peak * (into + 1) / warmup_steps
    if kind == "constant":
        return peak
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return peak * (min_lr_frac + (1 - min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def checkpoint_steps(kind, max_steps, tokens_per_step, task_tokens, n_langs, n_ckpt, every_tasks=0,
                     from_tokens=0):
    """Step 0, the checkpoints of the schedule `kind`, and max_steps:
    tasks   the end of the first task and of every every_tasks-th task (0: of every cycle,
            n_langs tasks), plus n_ckpt - 1 log-spaced steps inside the first task;
    log     n_ckpt log-spaced steps (from from_tokens on when it is set);
    linear  n_ckpt evenly spaced steps."""
    if kind == "linear":
        steps = [round(max_steps * (i + 1) / n_ckpt) for i in range(n_ckpt)]
    elif kind == "log" and from_tokens:
        first = max(1, min(max_steps, round(from_tokens / tokens_per_step)))
        steps = [round(first * (max_steps / first) ** (i / max(1, n_ckpt - 1))) for i in range(n_ckpt)]
    elif kind == "log":
        steps = [round(max_steps ** ((i + 1) / n_ckpt)) for i in range(n_ckpt)]
    else:  # the first step of task k: the state at the end of the task before it
        every = every_tasks or n_langs
        first = min(task_start(1, task_tokens, tokens_per_step), max_steps)  # the first task's end
        last_task = max_steps * tokens_per_step // task_tokens
        steps = [first] + [task_start(k, task_tokens, tokens_per_step) for k in range(every, last_task + 1, every)]
        steps += [round(first ** (i / n_ckpt)) for i in range(1, n_ckpt)]
    return sorted({0, *(s for s in steps if s <= max_steps), max_steps})


def cycle_ends(task_tokens, tokens_per_step, n_langs, max_steps):
    """{step: cycles completed} at the first task's end (1 / n_langs of a cycle) and at the end of
    every cycle up to max_steps: the checkpoints the paper probes."""
    ends = {task_start(1, task_tokens, tokens_per_step): 1 / n_langs}
    k = 1
    while task_start(k * n_langs, task_tokens, tokens_per_step) <= max_steps:
        ends[task_start(k * n_langs, task_tokens, tokens_per_step)] = k
        k += 1
    return {s: c for s, c in ends.items() if s <= max_steps}
