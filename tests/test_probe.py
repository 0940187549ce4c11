import json
import math
import shutil

import numpy as np
import pytest
import torch

import probe
from test_train import TINY, train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, corpus_dir):
    """A short continual run: checkpoints at steps 0, 20, 40, 60."""
    out = tmp_path_factory.mktemp("run")
    train([f"--data_dir={corpus_dir}", f"--out_dir={out}", *TINY, "--task_tokens=5120", "--max_tokens=15360",
           "--ckpt_schedule=linear", "--n_ckpt=3", "--eval_batches=1"])
    return out


def copy_run(src, dst):
    shutil.copytree(src, dst)
    return dst


def add_checkpoint(run, step, weights, tokens):
    ckpt = torch.load(run / "ckpt" / "step_0000000.pt", weights_only=True)
    ckpt["model"] = weights
    torch.save(ckpt, run / "ckpt" / f"step_{step:07d}.pt")
    (run / "ckpt" / f"step_{step:07d}.json").write_text(json.dumps(
        dict(step=step, tokens=tokens, task_index=0, lang="el", val_loss={})))


def records(run):
    return [json.loads(ln) for ln in (run / "probe.jsonl").read_text().splitlines()]


def test_onset_recovered_from_synthetic_curves():
    tokens = np.geomspace(1e3, 1e7, 25)
    t0, slope, tol = 1e5, 0.3, 0.05
    rng = np.random.default_rng(0)
    clean = 2.0 - 0.2 * np.minimum(np.log(tokens / 1e3), np.log(t0 / 1e3)) / np.log(100) \
        + slope * np.maximum(0, np.log(tokens / t0))
    table = clean + rng.normal(0, 0.01, size=(5, len(tokens)))
    est = probe.estimate_onset(tokens, table, scratch=np.full(5, 2.0), tol=tol, n_boot=300)
    truth = t0 * math.exp(tol / slope)  # where the rise exceeds the best by tol
    assert not est["censored"] and abs(math.log(est["onset_tokens"] / truth)) < 0.1
    lo, hi = est["interval"]
    assert lo <= truth * 1.05 and hi >= truth * 0.95
    # crosses the from-scratch level 2.0 where the rise has undone the 0.2 improvement
    assert abs(math.log(est["scratch_cross_tokens"] / (t0 * math.exp(0.2 / slope)))) < 0.1


def test_onset_before_the_second_checkpoint_is_unresolved():
    tokens = np.geomspace(1e3, 1e7, 8)
    worsening = 2.0 + 0.3 * np.log(tokens / 1e3)  # best at the first checkpoint, worse from then on
    est = probe.estimate_onset(tokens, np.tile(worsening, (3, 1)), scratch=None, tol=0.05, n_boot=50)
    assert not est["censored"] and tokens[0] < est["onset_tokens"] <= tokens[1] and not est["resolved"]
    assert probe.estimate_onset(tokens, np.tile(worsening[::-1], (3, 1)), None, n_boot=50)["censored"]


def test_no_onset_is_censored():
    tokens = np.geomspace(1e3, 1e7, 12)
    improving = 3.0 - 0.1 * np.log(tokens)
    rng = np.random.default_rng(1)
    table = improving + rng.normal(0, 0.005, size=(4, len(tokens)))
    est = probe.estimate_onset(tokens, table, scratch=None, tol=0.05, n_boot=200)
    assert est["censored"] and est["onset_tokens"] is None and est["last_tokens"] == 1e7
    assert est["censored_fraction"] == 1.0


def test_probe_tells_plastic_from_damaged(tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "run")
    fresh = torch.load(run / "ckpt" / "step_0000000.pt", weights_only=True)["model"]
    # weights scaled far up: saturated attention and huge logits, a known way to destroy plasticity
    add_checkpoint(run, 1, {k: v * 20 for k, v in fresh.items()}, tokens=1)
    probe.main([f"--run_dir={run}", "--checkpoints=0,1", "--probe_steps=60", "--eval_every=20", "--n_boot=50"])
    recs = records(run)
    final = {s: np.array([r["final"] for r in recs if r["ckpt_step"] == s]) for s in (0, 1)}
    noise = max(final[0].std(), final[1].std())
    assert final[1].mean() - final[0].mean() > max(0.3, 5 * noise), final


def test_common_random_numbers_and_resume(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path / "run")
    fresh = torch.load(run / "ckpt" / "step_0000000.pt", weights_only=True)["model"]
    add_checkpoint(run, 1, fresh, tokens=1)  # the same weights at another step
    args = [f"--run_dir={run}", "--checkpoints=0,1", "--probe_steps=20", "--eval_every=10", "--n_boot=20"]
    probe.main(args)
    recs = records(run)
    for sd in (0, 1, 2):
        a, b = [r for r in recs if r["seed"] == sd and r["ckpt_step"] in (0, 1)]
        assert a["curve"] == b["curve"] and a["forget"] == b["forget"]  # same data, same order
    assert len({tuple(r["curve"]) for r in recs}) == 3  # seeds differ
    before = (run / "probe.jsonl").read_text()
    capsys.readouterr()
    probe.main(args)
    assert "0 to do" in capsys.readouterr().out
    assert (run / "probe.jsonl").read_text() == before
    # other settings would mix into the onset: refused, and the finished records stay as they were
    with pytest.raises(SystemExit, match="other settings.*probe_steps"):
        probe.main([*args, "--probe_steps=30"])
    assert (run / "probe.jsonl").read_text() == before


def test_modes_forgetting_lr_grid_and_onset(tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "run")
    probe.main([f"--run_dir={run}", "--modes=full,lora2,last1", "--lr_grid=1e-3,3e-3", "--seeds=0,1",
                "--probe_steps=10", "--eval_every=5", "--n_boot=20"])
    recs = records(run)
    cfg = json.loads((run / "config.json").read_text())
    assert len(recs) == 4 * 3 * 2 * 2
    n = {m: {r["trainable_params"] for r in recs if r["mode_name"] == m} for m in ("full", "lora2", "last1")}
    assert all(len(v) == 1 for v in n.values())
    assert n["lora2"].pop() < n["last1"].pop() < n["full"].pop()
    for r in recs:
        assert r["eval_steps"] == [0, 5, 10] and len(r["curve"]) == 3 and r["zero_shot"] == r["curve"][0]
        assert set(r["forget"]) == set(cfg["train_langs"]) and all(len(v) == 3 for v in r["forget"].values())
    for step in (0, 20, 40, 60):
        for m in ("full", "lora2", "last1"):
            best = {r["lr"] for r in recs if r["ckpt_step"] == step and r["mode_name"] == m and r["best_lr"]}
            assert len(best) == 1
    onset = json.loads((run / "onset.json").read_text())
    assert set(onset["onsets_by_mode"]) == {"full", "lora2", "last1"}
    assert onset["last_tokens"] == 15360 and set(onset["seed_onsets"]) == {"0", "1"}
    assert (run / "probe.png").stat().st_size > 5000


def test_missing_checkpoint_is_refused(tiny_run):
    with pytest.raises(SystemExit, match="no checkpoint at step"):
        probe.main([f"--run_dir={tiny_run}", "--checkpoints=7"])
