"""Nothing lost, nothing silently wrong: damaged state files, settings that drift, bad input.
One test (or more) per case; every one reproduces the failure and asserts the one-line answer."""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

import bench
import data
import probe
import sweep
from conftest import ROOT
from checkpoint import CheckpointError, checkpoint_dict, load_checkpoint, read_file, save_file
from model import LADDER, GPT, preset
from test_train import TINY, newest_state, same_run, sidecars, train

ARGS = [*TINY, "--task_tokens=4096", "--max_tokens=30720", "--save_every=9", "--n_ckpt=3", "--eval_batches=1"]
STEPS = 120  # 30720 tokens of 8 x 32


@pytest.fixture(scope="module")
def ref(tmp_path_factory, corpus_dir):
    """An uninterrupted run: what every interrupted or repaired one must end identical to."""
    out = tmp_path_factory.mktemp("ref") / "a"
    train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={out}"])
    return out


def flip_byte(path, at=0.5):
    b = bytearray(path.read_bytes())
    b[int(len(b) * at)] ^= 0xFF
    path.write_bytes(bytes(b))


def killed_run(corpus_dir, out, when):
    """Start the reference run in out and SIGKILL it as soon as when(out) holds."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), f"--data_dir={corpus_dir}", *ARGS,
                             f"--out_dir={out}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not when(out):
        time.sleep(0.0005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def log_lines(out):
    return len((out / "log.jsonl").read_text().splitlines()) if (out / "log.jsonl").exists() else 0


# ---------------------------------------------------------------------------- resumable states


def test_flipped_byte_in_newest_state_resumes_from_the_one_before(ref, tmp_path, corpus_dir):
    run = shutil.copytree(ref, tmp_path / "b")  # also: a copied run directory resumes
    bad = newest_state(run)
    flip_byte(bad)
    p = train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"])
    assert f"{bad} is damaged: its sha256 differs" in p.stderr and "trying the state before it" in p.stderr
    assert "resuming" in p.stdout and f"from step {STEPS - STEPS % 9}" in p.stdout
    assert bad.with_name(bad.name + ".damaged").exists()  # set aside, not deleted
    same_run(ref, run)


def test_truncated_or_empty_states(ref, tmp_path, corpus_dir):
    run = shutil.copytree(ref, tmp_path / "b")
    newest = newest_state(run)
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"])
    same_run(ref, run)
    for card in (run / "state").glob("step_*.json"):  # every state empty: nothing to resume from
        card.with_suffix(".pt").write_bytes(b"")
    p = train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"], check=False)
    assert p.returncode != 0
    assert p.stderr.strip().splitlines()[-1] == (f"train.py: no intact resumable state in {run}/state (all 2 "
                                                 "damaged); fix: start again in a new out_dir")


def test_kill_while_writing_a_state_then_corrupt_the_newest(ref, tmp_path, corpus_dir):
    run = tmp_path / "b"
    # SIGKILL the moment a state is being written (its temporary file exists), past the first few
    killed_run(corpus_dir, run, lambda out: log_lines(out) > 30 and any((out / "state").glob("*.tmp")))
    assert list((run / "state").glob("*.tmp")), "the kill did not land in the middle of a write"
    flip_byte(newest_state(run), 0.7)  # and the newest complete state is damaged as well
    p = train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"])
    assert "is damaged" in p.stderr
    assert not list(run.rglob("*.tmp"))  # the killed write's leftovers are gone
    same_run(ref, run)


def test_copied_run_directory_resumes(ref, tmp_path, corpus_dir):
    a = tmp_path / "a"
    killed_run(corpus_dir, a, lambda out: log_lines(out) > 50)
    b = shutil.copytree(a, tmp_path / "copy")
    shutil.rmtree(a)
    moved = shutil.copytree(corpus_dir, tmp_path / "data")  # the corpus may move too
    train([f"--data_dir={moved}", *ARGS, f"--out_dir={b}"])
    same_run(ref, b)
    assert json.loads((b / "config.json").read_text())["out_dir"] == str(b)


def test_nan_advice_works_lower_lr_resumes(tmp_path, corpus_dir):
    args = [f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", *TINY, "--warmup_tokens=0", "--grad_clip=0.0",
            "--max_tokens=20480", "--save_every=5"]
    p = train([*args, "--lr=1e9"], check=False)
    assert p.returncode != 0 and "fix: lower lr or raise warmup_tokens, then rerun to resume" in p.stderr
    p = train([*args, "--lr=1e-3"])
    assert "resuming" in p.stdout and "lr 1000000000.0 -> 0.001" in p.stdout
    changes = json.loads((tmp_path / "config.json").read_text())["resume_changes"]
    assert [c["changed"] for c in changes] == [{"lr": [1e9, 1e-3]}]
    # a setting that defines the run is still refused, with the fix
    p = train([*args, "--lr=1e-3", "--seed=1"], check=False)
    assert p.returncode != 0 and "other settings {'seed': (0, 1)}" in p.stderr and "fix: rerun with the saved" in p.stderr


def test_disk_full_is_one_line_and_leaves_nothing_half_written(ref, tmp_path, corpus_dir):
    run = shutil.copytree(ref, tmp_path / "b")
    for card in sorted((run / "state").glob("step_*.json"))[-1:]:  # resume from the state before the last
        card.unlink()
    size = newest_state(run).stat().st_size

    def small_disk():  # every file the process writes may hold at most half a state
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))

    p = subprocess.run([sys.executable, str(ROOT / "train.py"), f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"],
                       capture_output=True, text=True, preexec_fn=small_disk)
    assert p.returncode != 0
    assert p.stderr.strip().splitlines() == [f"disk full while writing {newest_state(run).parent}/step_{STEPS:07d}.pt "
                                             "(File too large); nothing was left half-written; fix: free space on that "
                                             "disk, then rerun the same command to resume"], p.stderr
    assert not list(run.rglob("*.tmp"))
    train([f"--data_dir={corpus_dir}", *ARGS, f"--out_dir={run}"])  # space again: it resumes and ends as it should
    same_run(ref, run)


# ---------------------------------------------------------------------------- checkpoints


def test_every_checkpoint_has_a_sha256_checked_on_load(ref, tmp_path):
    import hashlib

    for card in sidecars(ref):
        pt = ref / "ckpt" / f"step_{card['step']:07d}.pt"
        assert card["sha256"] == hashlib.sha256(pt.read_bytes()).hexdigest()
    run = shutil.copytree(ref, tmp_path / "b")
    pt = run / "ckpt" / f"step_{sidecars(run)[1]['step']:07d}.pt"
    load_checkpoint(pt)
    flip_byte(pt)
    with pytest.raises(CheckpointError, match=rf"^{pt} is damaged: its sha256 differs from the one recorded in "
                                              rf"{pt.stem}.json"):
        load_checkpoint(pt)


def test_truncated_checkpoint_is_named_by_probe_and_the_rest_kept(ref, tmp_path):
    run = shutil.copytree(ref, tmp_path / "b")
    steps = [c["step"] for c in sidecars(run)]
    pt = run / "ckpt" / f"step_{steps[2]:07d}.pt"
    pt.write_bytes(pt.read_bytes()[:500])
    args = [f"--run_dir={run}", "--probe_steps=4", "--eval_every=2", "--seeds=0", "--n_boot=20", "--checkpoints=all"]
    with pytest.raises(SystemExit, match=rf"1 checkpoint\(s\) could not be used: {pt} is damaged.* The other probes "
                                         rf"are saved in .*probe.jsonl. Fix: .* --checkpoints="
                                         + ",".join(str(s) for s in steps if s != steps[2])):
        probe.main(args)
    kept = {json.loads(ln)["ckpt_step"] for ln in (run / "probe.jsonl").read_text().splitlines()}
    assert kept == set(steps) - {steps[2]}


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_malicious_pickle_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = GPT(preset("micro-25k", vocab_size=64, block_size=16))
    torch.save(dict(checkpoint_dict(m), extra=Evil()), tmp_path / "c.pt")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path / "c.pt")
    assert str(e.value) == (f"{tmp_path / 'c.pt'} is not a plain-tensor checkpoint (it holds pickled objects); "
                            "it was not loaded and nothing in it was run")
    assert not (tmp_path / "pwned").exists()
    save_file(checkpoint_dict(m), tmp_path / "d.pt")  # the writer's own files load
    assert set(read_file(tmp_path / "d.pt")) == {"model_args", "model"}


# ---------------------------------------------------------------------------- corpus and languages


def test_language_without_meta_json_is_an_incomplete_corpus(corpus_dir, tmp_path, capsys):
    d = shutil.copytree(corpus_dir, tmp_path / "data")
    (d / "synthetic" / "hy" / "meta.json").unlink()
    p = train([f"--data_dir={d}", f"--out_dir={tmp_path / 'run'}", *TINY, "--max_tokens=2560"], check=False)
    msg = "data.py: corpus {} is incomplete: hy has token bins but no valid meta.json; fix: rebuild the corpus"
    assert p.stderr.strip().splitlines() == [msg.format(d / "synthetic")]
    with pytest.raises(SystemExit, match="hy has token bins but no valid meta.json"):
        data.main(["verify", "--path", str(d / "synthetic")])
    with pytest.raises(SystemExit, match="hy has token bins but no valid meta.json"):
        data.load_corpus(d, "synthetic", ["el"])  # probing loads through here too
    (d / "synthetic" / "hy" / "meta.json").write_text("{")  # unreadable counts as missing
    with pytest.raises(SystemExit, match="hy has token bins"):
        data.load_corpus(d, "synthetic", ["el"])


def test_probe_language_typo_and_a_trained_language_are_refused(ref, tmp_path, corpus_dir):
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path / 'x'}", *TINY, "--probe_lang=vn"], check=False)
    assert p.returncode != 0 and "probe language 'vn' is not in corpus" in p.stderr and "fix: --probe_lang=" in p.stderr
    assert not (tmp_path / "x").exists()
    trained = json.loads((ref / "config.json").read_text())["train_langs"][0]
    with pytest.raises(SystemExit, match=f"probe.py: {trained} cannot be probed: .* trained on it"):
        probe.main([f"--run_dir={ref}", f"--probe_lang={trained}"])


# ---------------------------------------------------------------------------- settings


def test_configurator_hints_aliases_and_integral_floats():
    from configurator import configure

    g = {"lr": 0.1, "max_tokens": 10, "out_dir": "x"}
    for typo in ("lerning_rate", "learning_rate"):
        with pytest.raises(SystemExit, match=rf"unknown setting '{typo}' .*\(did you mean lr\?\)"):
            configure(dict(g), [f"--{typo}=1e-3"])
    with pytest.raises(SystemExit, match=r"did you mean max_tokens\?"):
        configure(dict(g), ["--max_iters=5"])
    assert configure(dict(g), ["--max_tokens=1e5"])["max_tokens"] == 100_000
    assert type(configure(dict(g), ["--max_tokens=1e5"])["max_tokens"]) is int
    with pytest.raises(SystemExit, match="max_tokens must be int, got 1.5"):
        configure(dict(g), ["--max_tokens=1.5"])


def test_a_batch_of_zero_a_negative_lr_and_an_empty_vocabulary_are_one_line(corpus_dir, tmp_path):
    """Small bad inputs that once ended in torch's tracebacks (an empty TensorList, AdamW's
    ValueError, random_'s range): one line naming the setting and the fix, before anything runs."""
    for arg, line in (("--batch_size=0", "train.py: batch_size must be >= 1, got 0; fix: --batch_size=<1 or more>"),
                      ("--lr=-1", "train.py: lr must be >= 0, got -1.0; fix: --lr=<0 or more> (0: the size's, "
                                  "model.ladder_lr)"),
                      ("--log_every=0", "train.py: log_every must be >= 1, got 0; fix: --log_every=<1 or more>"),
                      ("--beta2=1.0", "train.py: beta1 and beta2 must be below 1, got 0.9, 1.0; fix: e.g. "
                                      "--beta2=0.95")):
        p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path / 'run'}", arg], check=False)
        assert p.returncode == 1 and p.stderr.strip().splitlines() == [line], arg
    assert not (tmp_path / "run").exists()
    with pytest.raises(SystemExit, match=r"^bench.py: vocab must be >= 1, got 0; fix: --vocab=<1 or more>$"):
        bench.main(["--vocab=0", "--sizes=cpu-1k"])


def test_unknown_model_size_and_dtype_are_one_line(corpus_dir, tmp_path):
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", "--model=micro-7k"], check=False)
    assert p.stderr.strip().splitlines() == ["train.py: unknown model size 'micro-7k'; choose one of "
                                             + ", ".join(LADDER)]
    assert "micro-1k" in LADDER and "314m" in LADDER
    p = train([f"--data_dir={corpus_dir}", f"--out_dir={tmp_path}", "--dtype=float16"], check=False)  # not float32
    assert p.stderr.strip().splitlines() == ["train.py: dtype must be auto, float32 or bfloat16, got 'float16'"]
    with pytest.raises(SystemExit, match="dtype must be auto, float32, bfloat16 or float64, got 'fp64'"):
        probe.main([f"--run_dir={tmp_path}", "--dtype=fp64"])


def test_sweep_refuses_a_run_made_with_other_settings_but_extends_a_longer_one(tmp_path, monkeypatch, capsys,
                                                                                corpus_dir):
    monkeypatch.chdir(tmp_path)
    grid = [f"--data_dir={corpus_dir}", "--name=t", "--sizes=micro-25k", "--schedules=continual",
            "--probe_args=--probe_steps=4 --eval_every=2 --seeds=0 --n_boot=20", "--fit_args=--bootstrap 20"]
    small = "--block_size=32 --batch_size=8 --task_tokens=2048 --n_ckpt=2 --eval_batches=1"
    run = tmp_path / "out/t/micro-25k-continual-s0"
    sweep.main([*grid, f"--train_args={small}", "--max_tokens=6400", "--cell=0"])  # 25 steps: between cycle ends
    with pytest.raises(SystemExit, match=r"out/t/micro-25k-continual-s0 was trained with other settings than this "
                                         r"command asks for \{'task_tokens': \(2048, 1024\)\} \(run, now\); fix: "
                                         r"restore them, or .* --name="):
        sweep.main([*grid, f"--train_args={small} --task_tokens=1024", "--max_tokens=6400", "--cell=0"])
    with pytest.raises(SystemExit, match=r"\{'max_tokens': \(6400, 4096\)\}"):  # a shorter run is another run
        sweep.main([*grid, f"--train_args={small}", "--max_tokens=4096", "--cell=0"])
    probed = {json.loads(line)["ckpt_step"] for line in (run / "probe.jsonl").read_text().splitlines()}
    sweep.main([*grid, f"--train_args={small}", "--max_tokens=12288", "--cell=0"])  # longer: extended, probed on
    config, onset = (json.loads((run / f).read_text()) for f in ("config.json", "onset.json"))
    assert config["max_steps"] == onset["max_steps"] == 48
    assert config["resume_changes"] == [dict(step=25, changed={"max_tokens": [6400, 12288]})]
    now = {json.loads(line)["ckpt_step"] for line in (run / "probe.jsonl").read_text().splitlines()}
    assert probed < now and 48 in now
    capsys.readouterr()
    sweep.main([*grid, f"--train_args={small}", "--max_tokens=12288", "--cell=0",  # probe settings: probed again
                "--probe_args=--probe_steps=4 --eval_every=2 --seeds=0 --n_boot=30"])
    out = capsys.readouterr().out
    assert "trained: " in out and "probe settings changed {'n_boot': (20, 30)}" in out
    onset = json.loads((run / "onset.json").read_text())
    assert onset["probe_settings"]["n_boot"] == 30


@pytest.mark.parametrize("script", ["train", "probe", "sweep", "bench"])
def test_help_prints_what_it_does_and_every_setting(script, capsys):
    """--help and -h: the script's docstring and its settings with defaults and comments, exit 0."""
    import importlib
    mod = importlib.import_module(script)
    for flag in ("--help", "-h"):
        with pytest.raises(SystemExit) as e:
            mod.main([flag])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(mod.__doc__.strip().splitlines()[0]) and "Settings (--name=value" in out
        assert all(f"\n  {k} = " in out for k in mod._defaults), script


def test_a_missing_corpus_names_the_command_that_builds_it(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "train.py"), f"--data_dir={tmp_path}", "--corpus=synthetic"],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "no corpus at" in p.stderr and "python data.py synthetic --name synthetic" in p.stderr
