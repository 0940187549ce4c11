"""
The whole study in one command: corpus -> train -> probe -> onset -> fit -> report.

    python sweep.py config/demo.py                 # everything; what is finished is skipped
    python sweep.py config/demo.py --list_cells=True     # one line per cell: its shell command
    python sweep.py config/demo.py --cell=3        # only cell 3 (train + probe), e.g. a job array task
    python sweep.py config/demo.py --stage=fit     # only the fit, once the cells are done
    python sweep.py config/demo.py --jobs=2        # two cells side by side, one core each

A cell is one (model size, schedule, seed, mitigation): out/<name>/<size>-<schedule>-s<seed>/
(-<mitigation> appended unless none). With several mitigations, each is fitted on its own into
<fit_dir>/<mitigation>/ and <fit_dir>/mitigations.md compares each with none (compare.py). A study's
own arms (`arms`: "name: train.py settings; ...") join the mitigations by name, their settings after
train_args (config/control-arms.py: the protections of the paper's protocol one at a time). Config
files apply in order, so one can amend another (python sweep.py config/control-markov.py
config/control-arms.py); `then` names a config swept after this one. Its
stages are the scripts a user runs by hand (train.py, probe.py): their main() with the
arguments of the printed command, so a cluster can run the listed commands in parallel
(Slurm: `sbatch --array=0-N` with `python sweep.py CONFIG --cell=$SLURM_ARRAY_TASK_ID`)
and the fit runs when they are done. RUN.md in the fit directory records the command, every
cell's commands, the machine and the wall time.

The stages run in --jobs worker processes started once (spawn), not a process per stage:
importing torch and building its first optimizer take 2.6 s a process, and the README's
micro-scale grid runs 1.12-1.20x faster without them (bit-identical results). A stage
starts from the script's defaults (configure) and its own seed, as a fresh process would, and
its thread count is set back first; a stage that fails, or whose process dies, stops the sweep
with the command and its log named.

With --jobs=N, N cells run side by side, each stage with cores // N threads (OMP_NUM_THREADS;
the probe then starts that many single-thread workers: never more processes than cores), and
each cell's output goes to out/<name>/<cell>.log. Training numbers depend on the thread count
at the last float digit (config.json records it): `--cpu_threads=N` in train_args fixes it, so
a study's numbers do not depend on --jobs; probe records never do (they fix `threads`).

A finished cell is not run again, and a cell whose run was made with other settings than the
command now asks for is refused, the differing settings named (the results would otherwise
answer another question); changed probe settings probe again (probe.py keeps the records it
can and refuses the ones it cannot).
"""

import importlib
import json
import multiprocessing
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import torch

import data
import group as grouped
import plan as preflight
import probe
import sources
from checkpoint import NO_EFFECT, extends
from configurator import configure
from finetune import cores
from model import LADDER

# ----------------------------------------------------------------------------- settings
name = "demo"  # runs go to out/<name>/
fit_dir = ""  # "" = out/<name>/fit
data_dir = "data"
corpus = "synthetic"
source = "synthetic"  # how to build the corpus when it is missing: synthetic | textdir | cc100 | markov | permuted
source_path = ""  # textdir: the directory of <lang>.txt[.xz] files; permuted: the text (a file or directory)
source_langs = ""  # comma-separated; "" = all the source has (must include probe_lang)
source_mb = 0.5  # synthetic: MB per language; cc100: MB kept per language
cc100_url = ""  # cc100: base URL of the <lang>.txt.xz files; "" = sources.CC100_URL (a mirror, or a local copy)
source_script = "own"  # synthetic: own | shared | names (sources.synthetic_documents says what each is)
source_n_langs = 60  # markov, permuted: training languages (a stream whose every task is a new one needs one a task)
source_tokens = 300_000  # markov: training tokens per language
vocab = 8192  # compact vocabulary size (0 = full cl100k)
sizes = "micro-25k,micro-100k,micro-400k"  # model.LADDER names
schedules = "continual,stationary"
seeds = "0"  # training seeds: independent runs per size and schedule
mitigations = "none"  # comma-separated names of MITIGATIONS or arms: each is fitted on its own and compared with none
arms = ""  # a study's own arms, "name: train.py settings; name: ...", added to (or replacing) MITIGATIONS by name
train_args = ""  # extra train.py settings, e.g. "--block_size=64 --max_tokens=300000"
max_tokens = 0  # tokens per run, after train_args (0: as they say); a larger one extends finished runs
reading = ""  # the reading of the paper's onset law the study tests: tokens | tasks (plan.py); "" = none, unchecked
plan = False  # print the preflight (tokens, cycles, predicted onsets, hours, disk) and stop; refuse a bad plan
force = False  # run (or pass the preflight of) a plan whose onsets fall outside cycles 2..last under its reading
plan_bench = "results/gpu/bench_paper.txt"  # the device's measured training speed: a bench.py table
plan_download_mbs = 10.0  # plan: the download rate assumed for the corpus build, MB/s
probe_args = ""  # extra probe.py settings, e.g. "--probe_steps=60 --seeds=0,1"
fit_args = ""  # extra fit.py arguments, e.g. "--bootstrap 500"
list_cells = False  # print the cells' commands and stop
cell = -1  # run only this cell
jobs = 1  # cells run side by side, each stage with cores // jobs threads
group = "off"  # off | auto: cells of one model shape (seeds, schedules, arms) train as one computation (group.py),
# then each is probed as any cell; cells with a method group.py does not train (ReDo, CBP, ...) train alone
stage = "all"  # all | cells | fit
then = ""  # a config file swept after this study, as `python sweep.py <then>` (the demo: two corpora in one command)
# -----------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
# the mitigation axis: name -> train.py settings (mitigations.py; one setting each, at a strength
# within the range its paper used; a study that wants others adds them to train_args of its own name)
MITIGATIONS = {"none": "", "snp": "--snp_every=1000 --snp_shrink=0.8 --snp_noise=0.01", "l2init": "--l2_init=1e-3",
               "redo": "--redo_every=1000 --redo_tau=0.1", "cbp": "--cbp_rate=1e-4 --cbp_maturity=100",
               "emb_reset": "--emb_reset_every=5000", "opt_reset": "--reset_optimizer_at_task=True",
               "hold_unseen": "--hold_unseen=True"}


def arm_table():
    """MITIGATIONS with the study's own arms (the `arms` setting) added or replacing by name."""
    table = dict(MITIGATIONS)
    for part in (p.strip() for p in arms.split(";")):
        if not part:
            continue
        arm, colon, args = part.partition(":")
        if not colon or not arm.strip() or arm.strip() == "none" or " " in arm.strip():
            raise SystemExit(f"sweep.py: arms must read 'name: --setting=value ...; name: ...' (one word a name, not "
                             f"none: the arm every other is compared with is train_args alone); got {part!r}")
        table[arm.strip()] = args.strip()
    return table


def cells():
    return [(size, sch, int(sd), mit) for mit in mitigations.split(",") for size in sizes.split(",")
            for sch in schedules.split(",") for sd in seeds.split(",")]


def run_dir(size, sch, sd, mit="none"):
    return Path("out") / name / (f"{size}-{sch}-s{sd}" + ("" if mit == "none" else f"-{mit}"))


def cell_commands(size, sch, sd, mit="none"):
    """The cell's run directory and its train.py and probe.py arguments."""
    out = run_dir(size, sch, sd, mit)  # the arm's settings after train_args: they are what the arm changes
    train = (f"--data_dir={data_dir} --corpus={corpus} --out_dir={out} --model={size} --schedule={sch} "
             f"--seed={sd} {train_args} {arm_table()[mit]}" + (f" --max_tokens={max_tokens}" if max_tokens else "")).split()
    return out, " ".join(train), f"--run_dir={out} {probe_args}".strip()


def command(script, args):
    return f"{shlex.quote(sys.executable)} {shlex.quote(os.path.relpath(HERE / script))} {args}".strip()


def sh(cmd):
    """Run a command that happens once (the fit, the report) as a subprocess."""
    print(f"$ {cmd}", flush=True)
    if subprocess.run(cmd, shell=True).returncode != 0:
        raise SystemExit(f"sweep.py: a stage failed: {cmd}")


_pool = None  # the processes that run the cells' stages (main starts them)


def run_stage(script, args, timing, log=None):
    """Run one cell stage (train or probe) in a worker and add its wall seconds to timing (a
    JSON file, under the script's name); with log (cells side by side), its output goes there."""
    cmd = command(f"{script}.py", args)
    print(f"$ {cmd}" + (f"  > {log}" if log else ""), flush=True)
    t0 = time.time()
    where = f"; its output is in {log}" if log else ""
    try:
        failed = _pool.submit(stage_here, script, args, log).result()
    except BrokenProcessPool:
        raise SystemExit(f"sweep.py: the process running a stage died (out of memory?): {cmd}{where}") from None
    if failed:
        raise SystemExit(f"sweep.py: a stage failed: {cmd}{where}")
    _progress["ran"] += 1
    times = json.loads(timing.read_text()) if timing.exists() else {}
    times[script] = times.get(script, 0.0) + time.time() - t0
    timing.write_text(json.dumps(times))


# ----------------------------------------------------------------------------- in a worker
_threads = 0  # the worker's thread count, set back before each stage (a stage may change it)


def start_worker(threads):
    """A worker process: threads each (0: as the environment gives, as for a shell command)."""
    global _threads
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # what finetune.cores() reads: the probe's workers
        torch.set_num_threads(threads)
    _threads = torch.get_num_threads()


@contextmanager
def output_to(log):
    """This process's stdout and stderr (the file descriptors: C code's output too) into log."""
    if log is None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a") as f:
        for fd in (1, 2):
            os.dup2(f.fileno(), fd)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, old in zip((1, 2), saved):
            os.dup2(old, fd)
            os.close(old)


def stage_here(script, args, log):
    """script.main(args) here, as `python script.py args` would run it; True if it failed (the
    error is in its output, as the script would print it)."""
    torch.set_num_threads(_threads)
    with output_to(log):
        try:
            importlib.import_module(script).main(shlex.split(args))
        except SystemExit as e:
            if e.code in (None, 0):
                return False
            print(e.code if isinstance(e.code, str) else f"exit status {e.code}", file=sys.stderr)
            return True
        except Exception:
            traceback.print_exc()
            return True
    return False


# ----------------------------------------------------------------------------- the grid
def resolved(script, args):
    """The settings a stage's arguments give its script (train or probe)."""
    mod = importlib.import_module(script)
    return configure(dict(vars(mod)), shlex.split(args))


def drift(saved, wanted, free, defaults):
    """Settings that differ; one a run does not name was at its default (it predates the setting)."""
    return {k: (saved.get(k), v) for k, v in wanted.items() if k not in free and saved.get(k, defaults.get(k)) != v}


def train_done(out):
    if not (out / "config.json").exists():
        return False
    final = json.loads((out / "config.json").read_text())["max_steps"]
    return (out / "ckpt" / f"step_{final:07d}.json").exists()


_progress = dict(done=0, total=0, ran=0, t0=0.0, running={})  # for the console: cells done, stages run, logs


def run_cell(i):
    size, sch, sd, mit = cells()[i]
    out, train, probe = cell_commands(size, sch, sd, mit)
    print(f"--- cell {i}: {size} {sch} seed {sd}" + ("" if mit == "none" else f" {mit}"), flush=True)
    t_cell = time.time()
    try:
        cell_stages(i, out, train, probe)
    finally:
        _progress["running"].pop(i, None)
    p = _progress
    p["done"] += 1
    left = p["total"] - p["done"]
    el = time.time() - p["t0"]
    eta = f"; eta {el / p['done'] * left / 60:.1f} min" if left else ""
    print(f"--- cell {i} done in {(time.time() - t_cell) / 60:.1f} min: {p['done']}/{p['total']} cells, "
          f"{el / 60:.1f} min so far{eta}", flush=True)


def heartbeat(stop, every=60):
    """While cells run side by side (their output in logs), a line per running cell every `every`
    seconds: the last line of its log (a training step or a probe with its eta, a checkpoint)."""
    while not stop.wait(every):
        for i, log in sorted(_progress["running"].items()):
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()] if log.exists() else []
            if lines:
                print(f"    cell {i}: {lines[-1].strip()[:150]}", flush=True)


def needs_training(out, train):
    """Whether a cell's run must (still, or further) be trained; refused when it was trained with other
    settings than its command asks for."""
    longer = False
    if (out / "config.json").exists():
        saved, wanted = json.loads((out / "config.json").read_text()), resolved("train", train)
        diff = drift(saved, wanted, NO_EFFECT + ("device", "compile"), resolved("train", ""))
        longer = "max_tokens" in diff and extends(saved, wanted)
        if longer:  # train.py extends the run
            del diff["max_tokens"]
        if diff:
            raise SystemExit(f"sweep.py: {out} was trained with other settings than this command asks for "
                             f"{diff} (run, now); fix: restore them, or give the new settings a study of their "
                             f"own with --name=<new name> (fresh run directories)")
    return longer or not train_done(out)


def cell_stages(i, out, train, probe):
    log = out.parent / f"{out.name}.log" if jobs > 1 else None
    if log:
        _progress["running"][i] = log
    if not needs_training(out, train):
        print(f"trained: {out}")
    else:
        run_stage("train", train, out.parent / f"{out.name}.time.json", log)
    onset = json.loads((out / "onset.json").read_text()) if (out / "onset.json").exists() else None
    trained = json.loads((out / "config.json").read_text())["max_steps"]
    # probed, unless the run has grown since (an onset.json from before max_steps was recorded: probe.py
    # keeps every record it can, so probing again costs only the checkpoints it lacks)
    done = onset.get("probe_settings", {}) if onset and onset.get("max_steps") == trained else None
    diff = done is not None and drift(done, resolved("probe", probe), ("run_dir", "data_dir", "device", "workers"),
                                      resolved("probe", ""))
    if done is not None and not diff:
        print(f"probed: {out}")
    else:
        if diff:
            print(f"probe settings changed {diff} (before, now): probing again")
        run_stage("probe", probe, out.parent / f"{out.name}.time.json", log)


# ----------------------------------------------------------------------------- cells trained as one computation
def group_units(chosen):
    """The chosen cells in units that run together: with group=auto, the cells of one shape (group.SHARED
    settings equal) whose methods group.py trains form one unit; every other cell is a unit of its own."""
    if group == "off":
        return [[i] for i in chosen]
    units, alone = {}, []
    for i in chosen:
        settings = resolved("train", cell_commands(*cells()[i])[1])
        if any(settings[k] for k in grouped.SINGLE_MODEL):
            alone.append([i])
        else:
            units.setdefault(tuple(settings[k] for k in grouped.SHARED), []).append(i)
    return list(units.values()) + alone


def group_command(unit):
    """group.py's arguments for these cells: one quoted argument of train.py settings a run."""
    return " ".join(shlex.quote(cell_commands(*cells()[i])[1]) for i in unit)


def run_unit(unit):
    """A unit of cells: one cell as always; several: those that need training trained as one computation
    (each cell's timing gets its share), then each cell probed (its training found done)."""
    if len(unit) > 1:
        todo = [i for i in unit if needs_training(*cell_commands(*cells()[i])[:2])]
        if len(todo) > 1:
            first = run_dir(*cells()[todo[0]])
            print(f"--- cells {', '.join(map(str, todo))} trained as one computation", flush=True)
            timing = first.parent / f"group-{first.name}.time.json"
            log = first.parent / f"group-{first.name}.log" if jobs > 1 else None
            if log:
                _progress["running"][todo[0]] = log  # the heartbeat's line from the group's log
            run_stage("group", group_command(todo), timing, log)
            share = json.loads(timing.read_text()).pop("group") / len(todo)
            timing.unlink()
            for i in todo:
                t = run_dir(*cells()[i]).parent / f"{run_dir(*cells()[i]).name}.time.json"
                times = json.loads(t.read_text()) if t.exists() else {}
                times["train"] = times.get("train", 0.0) + share
                t.write_text(json.dumps(times))
    for i in unit:
        run_cell(i)


def ensure_corpus():
    if (Path(data_dir) / corpus / "vocab.json").exists():
        return
    langs = [s for s in source_langs.split(",") if s]
    print(f"--- building corpus {data_dir}/{corpus} from {source}")
    if source == "synthetic":
        texts = sources.synthetic_sources(langs, 0, int(source_mb * 1e6), source_script)
    elif source == "textdir":
        texts = sources.textdir_sources(source_path, langs)
    elif source == "cc100":
        texts = sources.cc100_sources(langs, source_mb, Path(data_dir) / "_cache" / "cc100",
                                      cc100_url or sources.CC100_URL)
    elif source == "markov":
        data.build_id_corpus(corpus, sources.markov_sources(source_n_langs, source_tokens), data_dir)
        return
    elif source == "permuted":
        texts = sources.permuted_sources(source_path, source_n_langs, 0, source_mb)
    else:
        raise SystemExit(f"sweep.py: unknown source {source!r}; use synthetic, textdir, cc100, markov or permuted")
    data.build_corpus(corpus, texts, data_dir, vocab)


def probe_cost(runs):
    """The probing's compute over the training's, from the runs' config.json and probe records
    (the same model on both sides, so tokens weigh alike)."""
    trained = probed = 0.0
    for r in runs:
        cfg = json.loads((r / "config.json").read_text())
        trained += cfg["max_steps"] * cfg["tokens_per_step"]
        probed += sum(probe.cost_tokens(json.loads(line), cfg["block_size"])
                      for line in (r / "probe.jsonl").read_text().splitlines() if line.strip())
    return probed / trained


def make_plan(todo):
    """plan.make for these cells (one mitigation's: the others cost the same), from the settings their
    commands resolve to."""
    langs = [s for s in source_langs.split(",") if s]
    first = [c for c in todo if c[3] == todo[0][3]]  # the first arm's cells
    train, probe_set = (resolved(script, args) for script, args in zip(("train", "probe"), cell_commands(*todo[0])[1:]))
    n_langs = len([s for s in train["langs"].split(",") if s]) or max(1, len(langs) - 1)
    bench = Path(plan_bench) if Path(plan_bench).is_absolute() or Path(plan_bench).exists() else HERE / plan_bench
    built = (Path(data_dir) / corpus / "vocab.json").exists()  # then nothing to download or build
    one = preflight.make([c[:3] for c in first], train, probe_set, n_langs, 0 if built else source_mb,
                         len(langs) or n_langs, vocab, bench, plan_download_mbs, reading)
    if len(first) < len(todo):
        one["problems"].append(f"the plan shows one of {len(todo) // len(first)} mitigation arms")
    return one


def machine():
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, torch {torch.__version__}"


def main(argv):
    """The study argv asks for; then the one its `then` names, if any (with its own settings alone)."""
    study(argv)
    if then and not list_cells:
        print(f"--- then: python sweep.py {then}", flush=True)
        main([then])


def study(argv):
    global jobs, _pool  # jobs: lowered below to the cores there are
    configure(globals(), argv)
    unknown = [s for s in sizes.split(",") if s not in LADDER]
    if unknown:
        raise SystemExit(f"sweep.py: unknown model size {', '.join(unknown)}; choose from {', '.join(LADDER)}")
    unknown = [m for m in mitigations.split(",") if m not in arm_table()]
    if unknown or "none" not in mitigations.split(","):
        raise SystemExit(f"sweep.py: mitigations must name none and any of {', '.join(arm_table())}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    todo = cells()
    if group not in ("off", "auto"):
        raise SystemExit(f"sweep.py: group must be off or auto, got {group!r}")
    if reading not in ("", *preflight.READINGS):
        raise SystemExit(f"sweep.py: reading must be tokens or tasks (or empty), got {reading!r}")
    if plan or reading:  # a study that states its reading is checked before anything runs
        the_plan = make_plan(todo)
        if plan:
            print("\n".join(preflight.describe(the_plan)))
        if the_plan["problems"] and not force:
            raise SystemExit(f"sweep.py: the plan cannot show what it looks for: {'; '.join(the_plan['problems'])}; "
                             "fix: change max_tokens, task_tokens or sizes (python sweep.py CONFIG --plan=True), or "
                             "--force=True to run it anyway")
        if plan:
            return
    if list_cells:
        for i, c in enumerate(todo):
            _, train, probe = cell_commands(*c)
            print(f"{i}\t{command('train.py', train)} && {command('probe.py', probe)}")
        for unit in (u for u in group_units(range(len(todo))) if len(u) > 1):  # group=auto: also each unit's
            print(f"cells {','.join(map(str, unit))} as one computation\t{command('group.py', group_command(unit))}")
        return
    t0 = time.time()
    _progress.update(ran=0, running={})  # this command's own count (a process may run main more than once)
    if stage in ("all", "cells"):
        ensure_corpus()
        chosen = [cell] if cell >= 0 else range(len(todo))
        for i in chosen:
            if not 0 <= i < len(todo):
                raise SystemExit(f"sweep.py: no cell {i}; the grid has {len(todo)} (0..{len(todo) - 1})")
        if jobs < 1:
            raise SystemExit(f"sweep.py: jobs must be >= 1 (cells side by side), got {jobs}")
        if jobs > cores():  # more would make cells fight over cores
            print(f"sweep.py: jobs {jobs} lowered to {cores()}, the cores here")
            jobs = cores()
        _progress.update(done=0, total=len(chosen), t0=time.time())
        stop = threading.Event()
        if jobs > 1:
            threading.Thread(target=heartbeat, args=(stop,), daemon=True).start()
        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker,
                                     initargs=(max(1, cores() // jobs) if jobs > 1 else 0,)) as _pool:
                with ThreadPoolExecutor(jobs) as pool:  # each thread runs a cell, waiting on its stages
                    for _ in pool.map(run_unit, group_units(chosen)):
                        pass
        finally:
            stop.set()
    if stage in ("all", "fit") and cell < 0:
        runs = [run_dir(*c) for c in todo]
        missing = [str(r) for r in runs if not (r / "onset.json").exists()]
        if missing:
            raise SystemExit(f"sweep.py: cells not finished: {', '.join(missing)}; fix: run them first")
        out = Path(fit_dir or Path("out") / name / "fit")
        t_fit = time.time()
        names = mitigations.split(",")
        for mit in names:  # one fit per mitigation (fit.py refuses to mix them), then the comparison
            these = [run_dir(*c) for c in todo if c[3] == mit]
            sh(command("fit.py", f"{' '.join(map(str, these))} --out {out if len(names) == 1 else out / mit} "
                               f"{f'--arm {mit} ' if len(names) > 1 else ''}--overwrite {fit_args}"))  # the study's own fit directory: the grid may have grown
        if len(names) > 1:
            sh(command("report.py", f"--compare {' '.join(str(out / m) for m in names)} --out {out}"))
        cost = probe_cost(runs)
        if _progress["ran"] == 0 and (out / "RUN.md").exists():  # a rerun that trained and probed nothing
            print(f"nothing to train or probe: {out}/RUN.md kept as the run that made the results wrote it")
            print(f"done in {(time.time() - t0) / 60:.1f} min: {out}/report.md")
            return
        stages = {"fit": time.time() - t_fit}
        for r in runs:
            for k, v in json.loads(r.parent.joinpath(f"{r.name}.time.json").read_text()).items():
                stages[k] = stages.get(k, 0.0) + v
        (out / "RUN.md").write_text(
            f"# {name}\n\ncommand: `python sweep.py {shlex.join(argv)}`"
            + ("" if stage == "all" else " (the fit alone; the wall time below includes the cells' earlier runs)")
            + f"\n\nmachine: {machine()}\n\n"
            f"wall time of this command: {(time.time() - t0) / 60:.1f} min; stages, summed over cells"
            + (f" run {jobs} side by side" if jobs > 1 else "") + ": "
            + ", ".join(f"{k} {v / 60:.1f}" for k, v in stages.items()) + " min\n\n"
            f"probe compute over training compute: {cost:.2f} (training tokens against the fine-tuning "
            "tokens of every probe record, evaluations counted at a third: probe.cost_tokens)\n\n"
            "every cell's commands (what produced the runs; each run's config.json and onset.json "
            "hold the settings they resolved to):\n\n```\n"
            + "".join(f"python train.py {train}\npython probe.py {probe}\n"
                      for _, train, probe in map(lambda c: cell_commands(*c), todo))
            + "```\n")
        print(f"probe compute over training compute: {cost:.2f}")
        print(f"done in {(time.time() - t0) / 60:.1f} min: {out}/report.md")


if __name__ == "__main__":
    main(sys.argv[1:])
