import io
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout

import pytest
import torch

import probe
import schedule as stream
import speed
import train as train_script
from configurator import configure
from conftest import ROOT
from test_model import closed_form

TINY = ["--model=micro-25k", "--block_size=32", "--batch_size=8", "--warmup_tokens=1024", "--lr=3e-3"]


def train(args, check=True, env=None):
    """`python train.py args`: its exit status and output, as subprocess.run gives them. Run here in
    the test's process, as sweep.py's workers run a stage (test_sweep checks that this equals a
    fresh process), which saves the 2 s a process takes to import torch; with env, in a fresh
    process with that environment."""
    if env is not None:
        p = subprocess.run([sys.executable, str(ROOT / "train.py"), *args], capture_output=True, text=True, env=env)
    else:
        out, err, code, threads = io.StringIO(), io.StringIO(), 0, torch.get_num_threads()
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", threads)))  # as a fresh process starts
        with redirect_stdout(out), redirect_stderr(err):
            try:
                train_script.main(args)
            except SystemExit as e:  # as the interpreter reports it: the message on stderr, status 1
                if e.code not in (None, 0):
                    code = e.code if isinstance(e.code, int) else 1
                    if not isinstance(e.code, int):
                        print(e.code, file=sys.stderr)
            except Exception:
                traceback.print_exc()
                code = 1
            finally:
                torch.set_num_threads(threads)  # --cpu_threads sets it for the process
        p = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if check and p.returncode != 0:
        raise AssertionError(p.stdout + p.stderr)
    return p


def sidecars(out):
    return [json.loads(p.read_text()) for p in sorted((out / "ckpt").glob("step_*.json"))]


def weights(path):
    return torch.load(path, weights_only=True)["model"]


def newest_state(out):
    """The path of a run's newest resumable state."""
    return sorted((out / "state").glob("step_*.json"))[-1].with_suffix(".pt")


def same_run(a, b):
    """Runs a and b ended identically: checkpoints, their sidecars' losses, final state, log."""
    for x, y in zip(sidecars(a), sidecars(b), strict=True):
        assert x["step"] == y["step"] and x["val_loss"] == y["val_loss"] and x["sha256"] == y["sha256"]
        assert x.get("diagnostics") == y.get("diagnostics")
    wa, wb = weights(newest_state(a)), weights(newest_state(b))
    assert newest_state(a).name == newest_state(b).name and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert (a / "log.jsonl").read_text() == (b / "log.jsonl").read_text()


def test_configure_rejects_typos_and_wrong_types(tmp_path):
    g = {"lr": 0.1, "batch_size": 4, "name": "x", "flag": True}
    assert configure(dict(g), ["--lr=1", "--name=abc", "--flag=False"]) == {"lr": 1.0, "batch_size": 4, "name": "abc", "flag": False}
    assert configure(dict(g, flag=False), ["--flag"])["flag"] is True  # a bare boolean flag
    with pytest.raises(SystemExit, match="needs a value"):
        configure(dict(g), ["--lr"])
    with pytest.raises(SystemExit, match="unknown setting 'lrr'"):
        configure(dict(g), ["--lrr=0.1"])
    with pytest.raises(SystemExit, match="batch_size must be int"):
        configure(dict(g), ["--batch_size=abc"])
    cfg = tmp_path / "c.py"
    cfg.write_text("batch_size = 8\nbatchsize = 9\n")
    with pytest.raises(SystemExit, match="unknown setting 'batchsize'"):
        configure(dict(g), [str(cfg)])


def test_train_refuses_typo(tmp_path, corpus_dir):
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", "--max_tokns=100"], check=False)
    assert p.returncode != 0 and "unknown setting 'max_tokns'" in p.stderr
    assert not (tmp_path / "ckpt").exists()


def test_continual_run_learns_every_language(tmp_path, corpus_dir):
    steps_per_task = 40
    task_tokens = steps_per_task * 8 * 32
    train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", *TINY, f"--task_tokens={task_tokens}",
           f"--max_tokens={6 * task_tokens}", "--ckpt_schedule=linear", "--n_ckpt=6", "--eval_batches=2"])
    cfg = json.loads((tmp_path / "config.json").read_text())
    cards = sidecars(tmp_path)
    assert [c["step"] for c in cards] == [steps_per_task * i for i in range(7)]
    assert cards[0]["tokens"] == 0 and set(cards[0]["val_loss"]) == set(cfg["train_langs"]) | {"vi"}
    for i, lang in enumerate(cfg["lang_order"]):
        end_of_task = cards[i + 1]
        assert cards[i]["lang"] == lang and cards[i]["task_index"] == i
        assert end_of_task["val_loss"][lang] < cards[0]["val_loss"][lang] - 1.0, (lang, end_of_task)
    log = [json.loads(ln) for ln in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(log) == 6 * steps_per_task
    assert [r["lang"] for r in log[::steps_per_task]] == cfg["lang_order"]


def test_stationary_mixes_languages(tmp_path, corpus_dir):
    train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", *TINY, "--schedule=stationary",
           "--max_tokens=40000", "--n_ckpt=3", "--eval_batches=2"])
    log = [json.loads(ln) for ln in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(isinstance(r["lang"], dict) and sum(r["lang"].values()) == 8 for r in log)
    assert len({k for r in log for k in r["lang"]}) == 6
    first, last = sidecars(tmp_path)[0], sidecars(tmp_path)[-1]
    for lang, loss in last["val_loss"].items():
        if lang != "vi":
            assert loss < first["val_loss"][lang] - 0.5, lang


def kill_when(command, log, lines, env=None):
    """Start command in a process, SIGKILL it once the file log has `lines` lines."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= lines:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def kill_after(args, out, lines):
    """Start train.py in a process, SIGKILL it once its log has `lines` lines; the step of the
    newest state it left."""
    kill_when([sys.executable, str(ROOT / "train.py"), *args, f"--out_dir={out}"], out / "log.jsonl", lines)
    return torch.load(newest_state(out), weights_only=True)["step"]


def test_sigkill_and_resume_is_bit_identical(tmp_path, corpus_dir):
    args = [f"--data_dir={corpus_dir}", *TINY, "--task_tokens=4096", "--max_tokens=30000", "--save_every=9",
            "--n_ckpt=5", "--eval_batches=1", "--dropout=0.1", "--reset_optimizer_at_task=True"]
    train([*args, f"--out_dir={tmp_path / 'a'}"])
    b = tmp_path / "b"
    killed_at = kill_after(args, b, 40)
    assert 0 < killed_at < 117, "the run was not interrupted in the middle"
    with open(b / "log.jsonl", "a") as f:  # a kill can also cut the log's last line in two
        f.write('{"step": 99999, "tok')
    train([*args, f"--out_dir={b}"])
    same_run(tmp_path / "a", b)


def test_task_end_checkpoints_and_optimizer_reset(tmp_path, corpus_dir):
    """The paper's protocol: checkpoints at every task's end plus log-spaced ones inside the first
    task; reset_optimizer_at_task gives AdamW a fresh state (step count 0) at every boundary."""
    common = [f"--data_dir={corpus_dir}", *TINY, "--task_tokens=2048", "--max_tokens=6144", "--n_ckpt=4",
              "--eval_batches=1", "--save_every=1000", "--ckpt_every_tasks=1"]  # 8 steps of 256 tokens per task, 3 tasks
    train([*common, f"--out_dir={tmp_path / 'reset'}", "--reset_optimizer_at_task=True"])
    train([*common, f"--out_dir={tmp_path / 'keep'}"])
    cards = sidecars(tmp_path / "reset")
    assert [c["step"] for c in cards] == [0, 2, 3, 5, 8, 16, 24]  # 8^(1/4), 8^(2/4), 8^(3/4); task ends
    assert [c["task_index"] for c in cards[-3:]] == [1, 2, 3]  # the state after tasks 0, 1 and 2
    steps = {name: {int(v["step"]) for v in torch.load(newest_state(tmp_path / name), weights_only=True)
                    ["optimizer"]["state"].values()} for name in ("reset", "keep")}
    assert steps == {"reset": {8}, "keep": {24}}  # reset at step 16, the start of the last task
    same = [torch.equal(a, b) for a, b in zip(weights(tmp_path / "reset" / "ckpt" / "step_0000016.pt").values(),
                                              weights(tmp_path / "keep" / "ckpt" / "step_0000016.pt").values())]
    assert not all(same)  # the reset at step 8 changed the second task's updates


def test_the_papers_schedule_restarts_the_warmup_and_checkpoints_cycle_ends(tmp_path, corpus_dir):
    """restart_at_task: at every task boundary the learning rate warms up again (read from
    log.jsonl) and AdamW starts afresh; checkpoints at the first task's end and every cycle's
    (two languages: a cycle is two tasks), plus the log-spaced ones inside the first task; such a
    run extended to more tokens equals the longer run."""
    out = tmp_path / "paper"
    args = [f"--data_dir={corpus_dir}", *TINY, "--langs=el,he", "--task_tokens=2048", "--n_ckpt=2", "--eval_batches=1",
            "--restart_at_task=True", "--log_every=1"]
    train([*args, f"--out_dir={out}", "--max_tokens=12288"])
    log = [json.loads(ln) for ln in (out / "log.jsonl").read_text().splitlines()]
    lr = {r["step"]: r["lr"] for r in log}  # warmup 1024 tokens = 4 steps of 256; a task is 8 steps
    for start in (0, 8, 16, 24, 32, 40):
        assert [lr[start + i] for i in range(5)] == pytest.approx([7.5e-4, 1.5e-3, 2.25e-3, 3e-3, 3e-3])
    cfg = json.loads((out / "config.json").read_text())
    assert [c["step"] for c in sidecars(out)] == [0, 3, 8, 16, 32, 48] and cfg["peak_lr"] == 3e-3
    state = torch.load(newest_state(out), weights_only=True)["optimizer"]["state"]
    assert {int(v["step"]) for v in state.values()} == {8}  # reset at step 40, the start of the last task
    plain = tmp_path / "plain"  # without it: one warmup, then constant
    train([f"--data_dir={corpus_dir}", f"--out_dir={plain}", *TINY, "--langs=el,he", "--task_tokens=2048",
           "--max_tokens=4096", "--n_ckpt=2", "--eval_batches=1", "--log_every=1"])
    assert [json.loads(ln)["lr"] for ln in (plain / "log.jsonl").read_text().splitlines()][4:] == [3e-3] * 12
    # max_tokens may grow on resume under the constant lr: the run extended is the run asked for the longer
    # budget from the start (log, checkpoints; 26: the old end, between cycle ends); under a cosine lr it is refused
    ext = tmp_path / "ext"
    assert "not at a cycle end" in train([*args, f"--out_dir={ext}", "--max_tokens=6656"]).stdout
    assert "max_tokens 6656 -> 12288" in train([*args, f"--out_dir={ext}", "--max_tokens=12288"]).stdout
    long, extended = ({c["step"]: c["sha256"] for c in sidecars(d)} for d in (out, ext))
    assert set(extended) == set(long) | {26} and all(extended[s] == sha for s, sha in long.items())
    assert (out / "log.jsonl").read_text() == (ext / "log.jsonl").read_text()
    p = train([*args, f"--out_dir={ext}", "--max_tokens=24576", "--lr_schedule=cosine"], check=False)
    assert p.returncode != 0 and "'max_tokens': (12288, 24576)" in p.stdout + p.stderr
    cos = tmp_path / "cosine"  # nor a run whose past followed a cosine lr, whatever the lr it resumes with
    train([*args, f"--out_dir={cos}", "--max_tokens=4096", "--lr_schedule=cosine"])
    p = train([*args, f"--out_dir={cos}", "--max_tokens=8192"], check=False)
    assert p.returncode != 0 and "'max_tokens': (4096, 8192)" in p.stdout + p.stderr


def test_a_run_of_whole_tasks_ends_on_its_last_cycle_end_or_is_refused(tmp_path, corpus_dir):
    """Tasks that are not whole steps (2,000 tokens, steps of 256): a max_tokens of whole cycles
    trains to the step on which the last cycle ends, which is its last checkpoint (no tokens added
    by hand); whole tasks that are not whole cycles are refused with the max_tokens to use; any
    other max_tokens gives a note that the probe will skip the last checkpoint."""
    args = [f"--data_dir={corpus_dir}", *TINY, "--langs=el,he", "--task_tokens=2000", "--n_ckpt=1",
            "--eval_batches=1", "--restart_at_task=True", "--diagnostics=False"]
    train([*args, f"--out_dir={tmp_path / 'whole'}", "--max_tokens=8000"])  # two cycles of two tasks
    cfg = json.loads((tmp_path / "whole" / "config.json").read_text())
    assert cfg["max_steps"] == 32 == stream.task_start(4, 2000, 256) != 8000 // 256  # 31.25 steps: the 32nd ends it
    assert [c["step"] for c in sidecars(tmp_path / "whole")] == [0, 8, 16, 32]
    assert set(stream.cycle_ends(2000, 256, 2, cfg["max_steps"])) == {8, 16, 32}
    p = train([*args, f"--out_dir={tmp_path / 'odd'}", "--max_tokens=6000"], check=False)  # three tasks
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        "train.py: max_tokens=6000 is 3 tasks, not whole cycles of 2 tasks of 2,000 tokens: the last checkpoint "
        "would not be a cycle end, which the probe skips; fix: --max_tokens=4000 or --max_tokens=8000"]
    assert not (tmp_path / "odd").exists()
    assert stream.run_steps(6000, 256, 2000, 2, "tasks", every_tasks=1) == (24, "")  # every task's end is one
    assert stream.run_steps(6000, 256, 2000, 2, "log") == (23, "")
    steps, note = stream.run_steps(7000, 256, 2000, 2)
    assert steps == 27 and "--max_tokens=4000 or --max_tokens=8000" in note
    # a run past its last cycle end: the probe says that it skips the last checkpoint
    past = tmp_path / "past"
    assert "not at a cycle end" in train([*args, f"--out_dir={past}", "--max_tokens=8448"]).stdout  # 33 steps
    out = io.StringIO()
    with redirect_stdout(out):
        probe.main([f"--run_dir={past}", "--probe_steps=2", "--eval_every=1", "--seeds=0", "--n_boot=10"])
    assert ("probe.py: the last checkpoint, step 33 (8,448 tokens), is not a cycle end: not probed"
            in out.getvalue())
    assert {json.loads(ln)["ckpt_step"] for ln in (past / "probe.jsonl").read_text().splitlines()} == {0, 8, 16, 32}


def test_language_order_is_the_papers_for_its_eight_languages():
    import schedule
    eight = ["de", "en", "es", "fr", "ja", "pt", "ru", "zh-Hans"]  # CC-100's names, sorted as a corpus lists them
    assert schedule.language_order(eight, "auto", 3) == ["en", "zh-Hans", "fr", "ja", "es", "de", "pt", "ru"]
    six = ["bn", "el", "hy", "ja", "mr", "uk"]
    assert schedule.language_order(six, "auto", 0) == schedule.language_order(six, "seed", 0) != six
    assert schedule.language_order(six, "uk,mr,ja,hy,el,bn", 0) == six[::-1]
    with pytest.raises(SystemExit, match="each training language once"):
        schedule.language_order(six, "uk,mr", 0)


def test_nan_loss_stops_and_keeps_last_good_state(tmp_path, corpus_dir):
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", *TINY, "--lr=1e9", "--warmup_tokens=0",
               "--grad_clip=0.0", "--max_tokens=100000", "--save_every=1"], check=False)
    assert p.returncode != 0 and "at step" in p.stderr and "last good state" in p.stderr, p.stderr
    state = torch.load(newest_state(tmp_path), weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["model"].values())


def ddp_and_one(tmp_path, common):
    """The same run as two gloo processes of batch 4 (tmp_path/ddp) and as one of batch 8
    (tmp_path/one), on the CPU also where a GPU is (two processes need two GPUs); the newest
    state's weights of each."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    common = [*common, "--device=cpu"]
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        str(ROOT / "train.py"), *common, "--batch_size=4", f"--out_dir={tmp_path / 'ddp'}"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "terminate called" not in p.stderr, p.stdout + p.stderr  # a clean teardown
    train([*common, "--batch_size=8", f"--out_dir={tmp_path / 'one'}"])
    return weights(newest_state(tmp_path / "ddp")), weights(newest_state(tmp_path / "one"))


def test_each_shape_setting_overrides_the_preset_alone(tmp_path, corpus_dir):
    args = [f"--data_dir={corpus_dir}", *TINY, "--max_tokens=2048", "--n_ckpt=1", "--eval_batches=1"]
    train([*args, "--model=micro-1k", "--n_embd=12", f"--out_dir={tmp_path / 'w12'}"])
    cfg = json.loads((tmp_path / "w12" / "config.json").read_text())
    assert (cfg["model_args"]["n_layer"], cfg["model_args"]["n_head"], cfg["model_args"]["n_embd"]) == (1, 1, 12)
    assert cfg["n_nonembed"] == closed_form(1, 12)
    p = train([*args, "--model=micro-3k", "--n_embd=13", f"--out_dir={tmp_path / 'bad'}"], check=False)
    assert p.returncode != 0 and p.stderr.strip() == ("train.py: n_embd 13 is not a multiple of n_head 2; "
                                                      "fix: choose --n_embd and --n_head so that it is")


def test_log_checkpoints_from_a_token_count(tmp_path, corpus_dir):
    """ckpt_from_tokens starts the log-spaced grid there (n_ckpt points up to the last step, the
    initialisation kept), and only for the log schedule."""
    common = [f"--data_dir={corpus_dir}", *TINY, "--max_tokens=25600", "--ckpt_schedule=log", "--n_ckpt=4",
              "--eval_batches=1", "--save_every=1000"]  # 100 steps of 256 tokens
    train([*common, f"--out_dir={tmp_path / 'from'}", "--ckpt_from_tokens=2560"])
    assert [c["step"] for c in sidecars(tmp_path / "from")] == [0, 10, 22, 46, 100]  # 10 * 10^(i/3)
    p = train([*common, f"--out_dir={tmp_path / 'bad'}", "--ckpt_from_tokens=2560", "--ckpt_schedule=linear"],
              check=False)
    assert p.returncode != 0 and "ckpt_from_tokens places the log schedule" in p.stderr


def test_cpu_threads_fixes_the_thread_count_whatever_the_environment(tmp_path, corpus_dir):
    """--cpu_threads=1 trains on one thread under OMP_NUM_THREADS=2 (recorded in config.json), and
    the run equals one started with one thread by its environment."""
    common = [f"--data_dir={corpus_dir}", *TINY, "--max_tokens=4096", "--n_ckpt=2", "--eval_batches=1"]
    train([*common, f"--out_dir={tmp_path / 'fixed'}", "--cpu_threads=1"], env=dict(os.environ, OMP_NUM_THREADS="2"))
    train([*common, f"--out_dir={tmp_path / 'env'}"], env=dict(os.environ, OMP_NUM_THREADS="1"))
    configs = [json.loads((tmp_path / name / "config.json").read_text()) for name in ("fixed", "env")]
    assert [c["threads"] for c in configs] == [1, 1] and configs[0]["cpu_threads"] == 1
    same_run(tmp_path / "fixed", tmp_path / "env")


def test_a_stream_of_new_languages(tmp_path, markov_dir):
    """The positive control's stream (a new language every task): cycle_tasks=1 makes each task a
    cycle, so the checkpoints fall at every task's end and dAUC is measured against the first
    task's; warmup_at_task restarts the lr warmup at every task while the Adam state goes on; a
    stationary run with mixture_langs=k draws every batch from the first k languages of the task
    order, the languages of a continual run's first k tasks with the same seed."""
    import run_onset

    common = [f"--data_dir={markov_dir}", "--corpus=markov", "--probe_lang=held", *TINY, "--task_tokens=2048",
              "--max_tokens=6400", "--n_ckpt=1", "--eval_batches=1", "--log_every=1", "--diagnostics=False"]
    out = tmp_path / "warmup"  # tasks of 8 steps of 256 tokens; three tasks and a step
    train([*common, f"--out_dir={out}", "--cycle_tasks=1", "--warmup_at_task=True"])
    assert [c["step"] for c in sidecars(out)] == [0, 8, 16, 24, 25]
    lr = {r["step"]: r["lr"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())}
    for start in (0, 8, 16, 24):  # warmup 1024 tokens = 4 steps
        assert [lr[start + i] for i in range(min(5, 25 - start))] == pytest.approx(
            [7.5e-4, 1.5e-3, 2.25e-3, 3e-3, 3e-3][:min(5, 25 - start)])
    state = torch.load(newest_state(out), weights_only=True)["optimizer"]["state"]
    assert {int(v["step"]) for v in state.values()} == {25}  # never reset
    cfg = json.loads((out / "config.json").read_text())
    tokens = {2048 * k for k in range(1, 11)}
    assert run_onset.reference_tokens(tokens, cfg) == 2048
    assert run_onset.reference_tokens(tokens, dict(cfg, cycle_tasks=0)) == 8 * 2048  # a task of all 8 languages
    plain = tmp_path / "plain"  # without cycle_tasks a cycle is a task of each of the 8 languages
    train([*common, f"--out_dir={plain}"])
    assert [c["step"] for c in sidecars(plain)] == [0, 8, 25]

    mix = tmp_path / "mix"
    train([*common, f"--out_dir={mix}", "--schedule=stationary", "--mixture_langs=2", "--batch_size=16"])
    order = json.loads((mix / "config.json").read_text())["lang_order"]
    drawn = set().union(*(json.loads(ln)["lang"] for ln in (mix / "log.jsonl").read_text().splitlines()))
    assert drawn == set(order[:2]) and len(order) == 8
    first = [json.loads(ln)["lang"] for ln in (plain / "log.jsonl").read_text().splitlines()]
    assert {first[0], first[8]} == set(order[:2])  # the continual run's first two tasks
    for bad, message in ((["--restart_at_task=True", "--warmup_at_task=True"], "restarts the warmup already"),
                         (["--cycle_tasks=-1"], "cycle_tasks must be >= 0"),
                         (["--mixture_langs=-2"], "mixture_langs and cycle_tasks must be >= 0")):
        p = train([*common, f"--out_dir={tmp_path / 'bad'}", *bad], check=False)
        assert p.returncode != 0 and message in p.stdout + p.stderr


def test_the_clock_reports_the_steady_state_with_compile_checkpoints_and_states_apart(monkeypatch, tmp_path,
                                                                                      corpus_dir):
    """On a fake clock: a first step of 30 s (a compile), a checkpoint of 5 s and a state save of
    2 s before and between ten 1-s steps of 1,000 tokens give 1,000 tokens/s steady, where an
    average from the start would give 9,000 / 47 s; MFU against the peak given. A real run writes
    speed.json with the phases and prints the steady speed."""
    now = [0.0]
    monkeypatch.setattr(speed.time, "perf_counter", lambda: now[0])
    clock = speed.Clock(flops_per_token=6e6, peak_flops=1e10)
    with clock.phase("checkpoints"):
        now[0] += 5  # the step-0 evaluation
    now[0] += 30
    clock.stepped(1000)  # the first step: compile
    for i in range(9):
        now[0] += 1
        clock.stepped(1000)
        if i == 4:
            with clock.phase("states"):
                now[0] += 2
    s = clock.summary()
    assert s["apart_s"] == {"checkpoints": 5, "first step": 30, "states": 2} and s["wall_s"] == 46
    assert s["steady_tokens_per_s"] == 1000 and s["mfu"] == 0.6 and s["steady_tokens"] == 9000
    assert clock.describe() == "46s: checkpoints 5.0s, first step 30.0s, states 2.0s apart; steady 1,000 tok/s, mfu 60.0%"
    out = tmp_path / "run"
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={out}", *TINY, "--max_tokens=5120", "--n_ckpt=1",
               "--eval_batches=1", "--save_every=10", "--log_every=5"])
    rec = json.loads((out / "speed.json").read_text())
    assert set(rec["apart_s"]) == {"checkpoints", "first step", "states"} and rec["steady_tokens"] == 19 * 256
    assert rec["mfu"] is None and f"steady {rec['steady_tokens_per_s']:,.0f} tok/s" in p.stdout
