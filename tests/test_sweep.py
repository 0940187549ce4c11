import json
import multiprocessing
import re
import shlex
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import plan
import sweep
from conftest import ROOT

GRID = ["--name=t", "--data_dir=data", "--source_mb=0.1", "--vocab=512", "--sizes=cpu-1k,cpu-3k",
        "--schedules=continual", "--train_args=--block_size=32 --batch_size=8 --max_tokens=11776 --task_tokens=3000 "
        "--n_ckpt=4 --eval_batches=1 --warmup_tokens=1000",
        "--probe_args=--probe_steps=15 --eval_every=5 --seeds=0,1 --n_boot=50", "--fit_args=--bootstrap 50"]


def test_sweep_runs_every_stage_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # two cores to share out (conftest gives a test process one)
    sweep.main([*GRID, "--list_cells=True"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "--model=cpu-3k" in lines[1] and "probe.py" in lines[1]

    sweep.main([*GRID, "--cell=1", "--jobs=2"])  # one cell alone, as a job array task would, in a fresh out/
    assert (tmp_path / "out/t/cpu-3k-continual-s0/onset.json").exists()
    assert not (tmp_path / "out/t/cpu-1k-continual-s0").exists()

    sweep.main([*GRID, "--jobs=2"])  # the other cell, side by side with nothing: its output in a log
    out = capsys.readouterr().out
    assert "--- cell 0 done in" in out and "1/1 cells" in out  # progress on the console
    assert "trained: out/t/cpu-3k-continual-s0" in out and "probed: out/t/cpu-3k-continual-s0" in out
    assert "done: out/t/cpu-1k-continual-s0" in (tmp_path / "out/t/cpu-1k-continual-s0.log").read_text()
    assert json.loads((tmp_path / "out/t/cpu-1k-continual-s0/config.json").read_text())["threads"] == max(1, sweep.cores() // 2)
    summary = json.loads((tmp_path / "out/t/fit/summary.json").read_text())
    assert summary  # the fit ran on both sizes
    for f in ("report.md", "onset_vs_size.png", "probe_curves.png", "forgetting.png", "RUN.md"):
        assert (tmp_path / "out/t/fit" / f).stat().st_size > 0

    # probing's compute against training's, by hand: fine-tuning tokens, evaluations at a third
    probed = trained = 0
    for cell in ("cpu-1k-continual-s0", "cpu-3k-continual-s0"):
        cfg = json.loads((tmp_path / "out/t" / cell / "config.json").read_text())
        trained += cfg["max_steps"] * cfg["tokens_per_step"]
        for r in map(json.loads, (tmp_path / "out/t" / cell / "probe.jsonl").read_text().splitlines()):
            assert (r["probe_steps"], len(r["eval_steps"]), r["eval_batches"], r["forget_batches"]) == (15, 4, 4, 1)
            probed += r["batch_size"] * 32 * (15 + 4 * (4 + len(r["forget"])) / 3)
    run_md = (tmp_path / "out/t/fit/RUN.md").read_text()
    assert f"probe compute over training compute: {probed / trained:.2f} " in run_md
    assert f"command: `python sweep.py {shlex.join([*GRID, '--jobs=2'])}`" in run_md  # quoted: it can be rerun

    # a run made before a setting existed was made with its default: not refused as changed
    path = tmp_path / "out/t/cpu-1k-continual-s0/config.json"
    cfg = json.loads(path.read_text())
    del cfg["ckpt_from_tokens"]
    path.write_text(json.dumps(cfg))
    sweep.main([*GRID, "--jobs=99"])  # again: nothing is trained or probed twice; jobs at most the cores
    out = capsys.readouterr().out
    assert "train.py" not in out and "probe.py" not in out
    assert (tmp_path / "out/t/fit/RUN.md").read_text() == run_md  # the wall time of the run that made them stays
    assert out.count("trained:") == 2 and out.count("probed:") == 2
    assert f"jobs 99 lowered to {sweep.cores()}" in out


def test_mitigation_axis_names_cells_and_refuses_unknown(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sweep.main([*GRID, "--mitigations=none,snp", "--list_cells=True"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and "--out_dir=out/t/cpu-1k-continual-s0 " in lines[0]
    assert "--out_dir=out/t/cpu-1k-continual-s0-snp" in lines[2] and "--snp_every=1000" in lines[2]
    assert "--snp_every" not in lines[0]
    with pytest.raises(SystemExit, match="unknown: snpp"):
        sweep.main([*GRID, "--mitigations=none,snpp", "--list_cells=True"])
    with pytest.raises(SystemExit, match="must name none"):
        sweep.main([*GRID, "--mitigations=snp", "--list_cells=True"])


STAGE = '''
import os, signal, torch
def main(argv):
    print(f"threads {torch.get_num_threads()} args {argv}")
    torch.set_num_threads(1)  # what probe.py does: the next stage must not inherit it
    if argv == ["--fail"]:
        raise SystemExit("stage_a: told to fail")
    if argv == ["--die"]:
        os.kill(os.getpid(), signal.SIGKILL)
'''


def test_stages_run_in_long_lived_workers(tmp_path, monkeypatch):
    """A cell's stages run as main(argv) in a worker started once: output to the cell's log,
    the worker's thread count set back before each stage, a failure or a dead worker named."""
    (tmp_path / "stage_a.py").write_text(STAGE)
    monkeypatch.syspath_prepend(str(tmp_path))  # a spawned worker gets the parent's sys.path
    monkeypatch.chdir(tmp_path)
    timing, log = tmp_path / "t.time.json", tmp_path / "logs/cell.log"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=sweep.start_worker,
                             initargs=(2,)) as pool:
        monkeypatch.setattr(sweep, "_pool", pool)
        sweep.run_stage("stage_a", "--x=1 --y='a b'", timing, log)
        sweep.run_stage("stage_a", "", timing, log)
        assert log.read_text().splitlines() == ["threads 2 args ['--x=1', '--y=a b']", "threads 2 args []"]
        assert json.loads(timing.read_text())["stage_a"] > 0
        with pytest.raises(SystemExit, match=r"a stage failed: .*stage_a.py --fail; its output is in .*cell.log"):
            sweep.run_stage("stage_a", "--fail", timing, log)
        assert log.read_text().splitlines()[-1] == "stage_a: told to fail"
        with pytest.raises(SystemExit, match="the process running a stage died"):
            sweep.run_stage("stage_a", "--die", timing, log)


def test_a_stage_after_another_in_the_same_worker_equals_a_fresh_process(tmp_path, monkeypatch, corpus_dir):
    """What one stage leaves in a worker (settings, seeds, threads, a mitigation's state) does
    not reach the next: a run trained after another in one worker is bit-identical to the same
    command run as its own process."""
    monkeypatch.chdir(tmp_path)
    base = (f"--data_dir={corpus_dir} --model=cpu-1k --block_size=32 --batch_size=8 --warmup_tokens=1024 "
            "--max_tokens=8192 --task_tokens=2048 --n_ckpt=2 --eval_batches=1 --cpu_threads=1 --ckpt_every_tasks=1")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=sweep.start_worker,
                             initargs=(2,)) as pool:
        monkeypatch.setattr(sweep, "_pool", pool)
        sweep.run_stage("train", f"{base} --out_dir=first --seed=3 --schedule=stationary --hold_unseen=True "
                                 "--snp_every=2 --cpu_threads=2", tmp_path / "t.json")
        sweep.run_stage("train", f"{base} --out_dir=second", tmp_path / "t.json")
    subprocess.run([sys.executable, str(Path(sweep.__file__).parent / "train.py"), *f"{base} --out_dir=fresh".split()],
                   check=True, capture_output=True)
    ckpts = sorted(p.relative_to(tmp_path / "fresh") for p in (tmp_path / "fresh/ckpt").glob("*.pt"))
    assert len(ckpts) == 6
    for f in ("log.jsonl", *ckpts):
        assert (tmp_path / "second" / f).read_bytes() == (tmp_path / "fresh" / f).read_bytes(), f
    assert (tmp_path / "first/log.jsonl").read_bytes() != (tmp_path / "fresh/log.jsonl").read_bytes()


def test_a_study_names_its_own_arms(tmp_path, monkeypatch, capsys):
    """`arms` adds a study's own arms (or replaces a mitigation's settings) by name; an arm's settings
    come after train_args, so an arm that changes a setting train_args gives wins; a malformed
    arm is refused in one line."""
    monkeypatch.chdir(tmp_path)
    grid = [*GRID, "--sizes=cpu-1k", "--train_args=--weight_decay=0 --block_size=32",
            "--arms=wd: --weight_decay=0.1; snp: --snp_every=7", "--mitigations=none,wd,snp"]
    sweep.main([*grid, "--list_cells=True"])
    none, wd, snp = capsys.readouterr().out.strip().splitlines()
    assert "--out_dir=out/t/cpu-1k-continual-s0-wd" in wd and wd.index("--weight_decay=0 ") < wd.index("--weight_decay=0.1")
    assert "--snp_every=7" in snp and "--snp_every=1000" not in snp and "--weight_decay=0.1" not in none
    train = sweep.resolved("train", sweep.cell_commands("cpu-1k", "continual", 0, "wd")[1])
    assert train["weight_decay"] == 0.1
    for bad in ("wd --weight_decay=0.1", "none: --lr=1", "two words: --lr=1"):
        with pytest.raises(SystemExit, match="arms must read"):
            sweep.main([*grid, f"--arms={bad}", "--list_cells=True"])


def test_cells_of_one_shape_train_as_one_computation(tmp_path, monkeypatch, capsys):
    """--group=auto: a size's cells (here arms) train in one group.py process (an arm with a method it does
    not train alone), each cell is then probed as any; the per-cell commands are still listed, and the units."""
    monkeypatch.chdir(tmp_path)
    grid = [*GRID, "--sizes=cpu-1k", "--mitigations=none,l2init,redo", "--group=auto"]
    sweep.main([*grid, "--list_cells=True"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[3].startswith("cells 0,1 as one computation\t") and "group.py" in lines[3]
    sweep.main([*grid, "--stage=cells"])
    out = capsys.readouterr().out
    assert "--- cells 0, 1 trained as one computation" in out and out.count("train.py") == 1  # redo's
    for cell, program in (("s0", "group.py"), ("s0-l2init", "group.py"), ("s0-redo", "train.py")):
        run = tmp_path / f"out/t/cpu-1k-continual-{cell}"
        assert json.loads((run / "config.json").read_text())["trained_by"][0]["program"] == program
        assert (run / "onset.json").exists() and json.loads((run / f"../{run.name}.time.json").read_text())["train"] > 0
    sweep.main([*grid, "--stage=cells"])  # nothing twice
    out = capsys.readouterr().out
    assert "group.py" not in out and "train.py" not in out and out.count("trained:") == 3
    with pytest.raises(SystemExit, match="group must be off or auto"):
        sweep.main([*grid, "--group=yes", "--list_cells=True"])


def test_then_sweeps_the_config_it_names(tmp_path, monkeypatch):
    """A config's `then` is swept after it, with its own settings alone (the demo's second corpus)."""
    (tmp_path / "a.py").write_text(f'name = "a"\nsizes = "cpu-3k"\nthen = "{tmp_path / "b.py"}"\n')
    (tmp_path / "b.py").write_text('name = "b"\n')
    seen = []

    def study(argv):
        sweep.configure(vars(sweep), argv)
        seen.append((sweep.name, sweep.sizes))

    monkeypatch.setattr(sweep, "study", study)
    sweep.main([str(tmp_path / "a.py"), "--jobs=1"])
    assert seen == [("a", "cpu-3k"), ("b", "micro-25k,micro-100k,micro-400k")]


def test_the_preflight_prints_the_plan_and_refuses_one_that_cannot_see_its_onset(tmp_path, monkeypatch, capsys):
    """config/paper-1gpu.py's plan: the 5M onset under the tokens reading at cycle 5.66 of 10, the
    hours from the H100 table; a size whose onset is past the last cycle, the tasks reading (inside
    cycle 1), a run that ends between cycle ends or on tasks that are not whole cycles are refused,
    by --plan=True and by the sweep itself before anything runs (no corpus, no network), unless
    --force=True."""
    monkeypatch.chdir(tmp_path)
    config = str(ROOT / "config" / "paper-1gpu.py")
    sweep.main([config, "--plan=True"])
    out = capsys.readouterr().out
    assert "10 cycles of 3.93e+09 tokens; 12 checkpoints probed" in out and "2.23e+10 (cycle  5.66)" in out
    assert "this config tests the tokens reading" in out and "problem" not in out
    for args, why in ((["--sizes=paper-27m"], "paper-27m: the predicted onset under the tokens reading is at cycle "
                                               "23.73, after the last cycle (10)"),
                      (["--reading=tasks"], "at cycle 0.56, before cycle 2"),
                      (["--max_tokens=35000000000"], "not at a cycle end"),
                      ([f"--max_tokens={75 * 491520000}"], "is 75 tasks, not whole cycles of 8 tasks")):
        with pytest.raises(SystemExit, match="the plan cannot show what it looks for: .*" + re.escape(why)):
            sweep.main([config, "--plan=True", *args])
        with pytest.raises(SystemExit, match=re.escape(why)):
            sweep.main([config, *args])  # the sweep itself: refused before the corpus is built
    assert not (tmp_path / "data").exists()
    capsys.readouterr()
    sweep.main([config, "--plan=True", "--sizes=paper-27m", "--force=True"])
    assert "problem: paper-27m" in capsys.readouterr().out


def test_the_plans_arithmetic():
    """The law's two readings at 27M (tokens per parameter: 3.4x10^3 with the paper's 5.0x10^9-token
    task), and the speed interpolation reproduces a measured row."""
    n = 27e6
    assert plan.law_tasks(n) == pytest.approx(18.1, abs=0.1)
    assert plan.onset_in_tasks(n, "tokens", 1e8) * 1e8 / n == pytest.approx(3.36e3, rel=0.01)
    assert plan.onset_in_tasks(n, "tasks", 1e8) == plan.law_tasks(n)
    _, rows = plan.bench_table(ROOT / "results" / "gpu" / "bench_paper.txt")
    assert rows[0] == (4739072, 2318023.0) and plan.tokens_per_s(9864320, rows) == pytest.approx(1656233)
    assert plan.tokens_per_s(4e6, rows) > 2318023 > plan.tokens_per_s(5e6, rows)
