import functools
import json
import shutil

import numpy as np
import pytest
import torch

import finetune
import model
import probe
import run_onset
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
    # the numbers depend on the thread count: records made with another one are refused too
    with pytest.raises(SystemExit, match="other settings.*threads.*fix: rerun with those settings"):
        probe.main([*args, "--threads=2"])
    with pytest.raises(SystemExit, match="other settings.*eval_batches"):
        probe.main([*args, "--eval_batches=1"])
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
    assert onset["last_tokens"] == 15360 and onset["metric"] == "auc" and onset["n_seeds"] == 2
    # dAUC against cycle 1, or, in a run shorter than a cycle, the end of the first task (5120 tokens);
    # onsets also in tasks
    assert onset["delta_ref_tokens"] == 5120 and onset["delta_pct"][0] == 0 and len(onset["delta_pct"]) == 3
    for est in onset["onsets_by_mode"].values():
        assert est["task_tokens"] == 5120
        assert est["censored"] or est["onset_tasks"] == pytest.approx(est["onset_tokens"] / 5120)
    r = recs[0]  # AUC: trapezoids over the evaluated steps, per step
    assert r["auc"] == pytest.approx(((r["curve"][0] + r["curve"][1]) / 2 + (r["curve"][1] + r["curve"][2]) / 2) / 2,
                                     abs=1e-5)
    ran = (1, "bfloat16", "cuda") if torch.cuda.is_available() else (1, "float32", "cpu")  # device auto
    assert {(x["threads"], x["dtype"], x["device"]) for x in recs} == {ran}
    assert all(x["dauc"] == 0 for x in recs if x["tokens"] == 5120)  # each record against its own seed
    x = next(x for x in recs if x["tokens"] == 15360)
    ref = next(y for y in recs if (y["tokens"], y["seed"], y["mode_name"], y["lr"])
               == (5120, x["seed"], x["mode_name"], x["lr"]))
    assert x["dauc"] == pytest.approx(100 * (x["auc"] / ref["auc"] - 1), abs=1e-3)
    assert (run / "probe.png").stat().st_size > 5000
    # --onset_only: the onset again from probe.jsonl alone (no checkpoints, no corpus), keeping
    # the settings that made the records and naming the ones that made the onset
    shutil.rmtree(run / "ckpt")
    (run / "probe.png").unlink()
    probe.main([f"--run_dir={run}", "--onset_only=True", "--n_boot=20", "--data_dir=/nonexistent"])
    again = json.loads((run / "onset.json").read_text())
    assert again["onsets_by_mode"] == onset["onsets_by_mode"] and again["probe_settings"] == onset["probe_settings"]
    assert again["probe_settings"]["probe_steps"] == 10 and again["onset_recomputed"]["n_boot"] == 20
    assert (run / "probe.png").exists()
    # every metric under both definitions: each is what --metric=<it> --definition=<it> makes the head onset
    assert set(onset["onsets_by_metric"]) == {"auc", "auc_no_step0", "final", "zero_shot"}
    assert onset["definition"] == "delta" and onset["probe_kind"].startswith("short")  # 10 steps of a 32-step task
    probe.main([f"--run_dir={run}", "--onset_only=True", "--n_boot=20", "--metric=final", "--definition=rise"])
    final = json.loads((run / "onset.json").read_text())
    for m, est in final["onsets_by_mode"].items():
        o = onset["onsets_by_metric"]["final"]["rise"][m]
        assert est["metric"] == "final" and est["definition"] == "rise" and \
            (o["onset_tokens"], o["interval"], o["censored"]) == (est["onset_tokens"], est["interval"], est["censored"])
    (run / "probe.jsonl").unlink()
    with pytest.raises(SystemExit, match="probe the run first"):
        probe.main([f"--run_dir={run}", "--onset_only=True"])


def test_missing_checkpoint_is_refused(tiny_run):
    with pytest.raises(SystemExit, match="no checkpoint at step"):
        probe.main([f"--run_dir={tiny_run}", "--checkpoints=7"])


def test_calibrate_prints_the_table(capsys):
    probe.main(["--calibrate=True", "--calib_sets=4", "--n_boot=50"])
    out = capsys.readouterr().out
    assert "median estimated / true onset" in out and out.count("| plateau |") == 5 and "| decreasing |" in out
    assert "| plateau | 0.005 | 0.05 |" in out  # the checkpoint-noise rows
    assert "flat curves: onset established" in out and out.count("\n| 75 | ") == 9  # the paper's onset: 5 lengths x 3 x 3


def test_parallel_workers_write_the_same_records(tiny_run, tmp_path):
    """Fine-tunes spread over worker processes (one thread each) give exactly the records of one
    process: the thread count, not the number of workers, decides the numbers."""
    args = ["--probe_steps=10", "--eval_every=5", "--seeds=0,1", "--n_boot=20"]
    for n in (1, 2):
        probe.main([f"--run_dir={copy_run(tiny_run, tmp_path / str(n))}", f"--workers={n}", *args])
    assert (tmp_path / "1" / "probe.jsonl").read_text() == (tmp_path / "2" / "probe.jsonl").read_text()
    assert json.loads((tmp_path / "1" / "onset.json").read_text())["smooth_curve"] == \
        json.loads((tmp_path / "2" / "onset.json").read_text())["smooth_curve"]


def test_batched_fine_tunes_equal_sequential(tiny_run, tmp_path, monkeypatch):
    """K checkpoints and seeds fine-tuned as one vmapped computation, each with its own AdamW
    state and gradient clipping, give the curves of one-at-a-time fine-tuning, compiled or not;
    a compiled group shape is compiled once per process. In float64: the check is of the
    arithmetic. In float32 one chaotic fine-tune of this tiny run amplifies the two paths' float
    rounding to 2e-3 nats in 12 steps on one CPU and not on another; bfloat16 on a GPU rounds
    more coarsely still. Compiled with the aot_eager backend: the same capture of vmap and grad
    as inductor's, without the minute inductor takes to build its kernels on 2 cores."""
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    args = ["--probe_steps=12", "--eval_every=4", "--seeds=0,1", "--n_boot=20", "--workers=1", "--device=cpu",
            "--checkpoints=0,40,60"]
    arms = (("seq", []), ("batched", ["--batched=True", "--members=4"]),
            ("compiled", ["--batched=True", "--members=4", "--compile=True"]))  # groups of 4 and 2: the last padded
    for name, extra in arms:
        probe.main([f"--run_dir={copy_run(tiny_run, tmp_path / name)}", *args, *extra, "--dtype=float64"])
    key = lambda r: (r["ckpt_step"], r["seed"])  # noqa: E731
    seq, bat, com = (sorted(records(tmp_path / n), key=key) for n, _ in arms)
    assert [key(r) for r in seq] == [key(r) for r in bat] == [key(r) for r in com] and len(seq) == 6
    assert all(r["batched"] for r in bat + com) and not any(r["batched"] for r in seq)
    assert all(r["compiled"] for r in com) and not any("compiled" in r for r in seq + bat)
    assert {r["dtype"] for r in seq + bat + com} == {"float64"}
    for a, b, c in zip(seq, bat, com):
        assert a["eval_steps"] == b["eval_steps"] == c["eval_steps"]
        assert a["trainable_params"] == b["trainable_params"] == c["trainable_params"]
        for other in (b, c):  # the records keep 5 decimals: one unit in the last of them at most
            assert np.abs(np.subtract(a["curve"], other["curve"])).max() < 2e-5, (a["curve"], other["curve"])
            for lang in a["forget"]:
                assert np.abs(np.subtract(a["forget"][lang], other["forget"][lang])).max() < 2e-5
    assert max(abs(a["curve"][-1] - a["curve"][0]) for a in seq) > 0.1  # the fine-tuning did move the loss
    # bfloat16, as on a GPU: each probe has its own autocast context, and the next probe of
    # this process still reuses the compile (as a sweep's worker does)
    graphs = []
    for name in ("bf16", "bf16-again"):
        probe.main([f"--run_dir={copy_run(tiny_run, tmp_path / name)}", *args, *arms[2][1], "--dtype=bfloat16"])
        graphs.append(torch._dynamo.utils.counters["stats"]["unique_graphs"])
    assert graphs[1] == graphs[0]
    assert records(tmp_path / "bf16") == records(tmp_path / "bf16-again")
    with pytest.raises(SystemExit, match="compiled"):  # compiled records would mix with plain batched ones
        probe.main([f"--run_dir={tmp_path / 'batched'}", *args, "--batched=True", "--compile=True"])
    with pytest.raises(SystemExit, match="add --batched=True"):
        probe.main([f"--run_dir={tmp_path / 'seq'}", *args, "--compile=True"])


def test_reset_unseen_sets_the_probe_only_rows_back_and_is_kept_apart(tiny_run, tmp_path):
    """--reset_unseen=True: the rows of tokens only the probe language uses go back to step 0,
    the rest untouched; the step-0 checkpoint probes exactly as without it; the records say so
    and are never mixed with plain ones."""
    args = ["--probe_steps=4", "--eval_every=2", "--seeds=0", "--n_boot=20", "--workers=1", "--device=cpu"]
    plain, reset = copy_run(tiny_run, tmp_path / "plain"), copy_run(tiny_run, tmp_path / "reset")
    probe.main([f"--run_dir={plain}", *args])
    probe.main([f"--run_dir={reset}", *args, "--reset_unseen=True"])
    a, b = ({r["ckpt_step"]: r for r in records(run)} for run in (plain, reset))
    assert all(r["reset_unseen"] for r in b.values()) and not any("reset_unseen" in r for r in a.values())
    assert a[0]["curve"] == b[0]["curve"]  # step 0 set back to itself
    last = max(a)
    assert abs(b[last]["zero_shot"] - a[last]["zero_shot"]) > 1e-3  # the trained rows mattered
    with pytest.raises(SystemExit, match="reset_unseen"):
        probe.main([f"--run_dir={reset}", *args])  # plain records would mix with reset ones

    w = torch.load(tiny_run / "ckpt" / f"step_{last:07d}.pt", weights_only=True)["model"]
    init = torch.load(tiny_run / "ckpt" / "step_0000000.pt", weights_only=True)["model"]
    ids, name = torch.tensor([3, 7]), "transformer.wte.weight"
    out = finetune.reset_rows(w, init, ids)
    rest = torch.ones(len(w[name]), dtype=torch.bool)
    rest[ids] = False
    assert torch.equal(out[name][ids], init[name][ids]) and not torch.equal(w[name][ids], init[name][ids])
    assert torch.equal(out[name][rest], w[name][rest]) and torch.equal(out["lm_head.weight"], out[name])


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory, corpus_dir):
    """The paper's schedule at toy scale: two languages (a cycle is two tasks of 100 steps of 128
    tokens), three cycles, the optimizer and the warmup restarted at every task; checkpoints at
    the first task's end, every cycle's end and one inside the first task."""
    out = tmp_path_factory.mktemp("paper")
    train([f"--data_dir={corpus_dir}", f"--out_dir={out}", *TINY, "--batch_size=4", "--langs=el,he",
           "--task_tokens=12800", "--max_tokens=76800", "--n_ckpt=2", "--eval_batches=1", "--restart_at_task=True",
           "--save_every=1000"])
    return out


def test_default_probe_is_task_length_at_cycle_ends_against_cycle_one(paper_run, tmp_path):
    """The issue's bar: probes exactly at step 0, the first task's end and the cycle ends (not at
    the checkpoint inside the first task); each a task-length fine-tune whose step-0 evaluation
    carries at most 2% of its AUC; every record with the four numbers; dAUC against cycle 1."""
    run = copy_run(paper_run, tmp_path / "run")
    probe.main([f"--run_dir={run}", "--seeds=0", "--eval_batches=1", "--n_boot=50"])
    recs = records(run)
    cards = sorted(int(p.stem[5:]) for p in (run / "ckpt").glob("step_*.json"))
    assert cards == [0, 10, 100, 200, 400, 600]
    assert sorted({r["ckpt_step"] for r in recs}) == [0, 100, 200, 400, 600]
    for r in recs:
        assert r["probe_steps"] == 100 and r["eval_steps"] == list(range(101))  # 12,800 tokens, a task
        assert r["step0_share"] <= 0.02
        share = (r["eval_steps"][1] * r["curve"][0] / 2) / (r["eval_steps"][-1] * r["auc"])
        assert r["step0_share"] == pytest.approx(share, rel=1e-3)
        assert r["zero_shot"] == r["curve"][0] and r["final"] == r["curve"][-1]
        assert r["auc_no_step0"] == pytest.approx(run_onset.auc(r["eval_steps"][1:], r["curve"][1:]), abs=1e-5)
    assert all(r["dauc"] == 0 for r in recs if r["ckpt_step"] == 200)  # cycle 1: two tasks of 12,800 tokens
    onset = json.loads((run / "onset.json").read_text())
    assert onset["ref_tokens"] == 25600 and onset["definition"] == "delta" and onset["probe_kind"] == "task-length"
    assert onset["tokens"] == [12800, 25600, 51200, 76800] and onset["smooth_tokens"] == [25600, 51200, 76800]
    for name in ("auc", "auc_no_step0", "final", "zero_shot"):
        for d in ("delta", "rise"):
            o = onset["onsets_by_metric"][name][d]["full"]
            assert o["censored"] or o["onset_tasks"] == pytest.approx(o["onset_tokens"] / 12800)
    # a short probe stays possible, and is named so
    short = copy_run(paper_run, tmp_path / "short")
    probe.main([f"--run_dir={short}", "--seeds=0", "--eval_batches=1", "--n_boot=20", "--probe_steps=10"])
    assert json.loads((short / "onset.json").read_text())["probe_kind"] == "short (10 steps, 0.1 of a task)"


def test_the_cells_other_runs_are_found_beside_a_run(tmp_path):
    """The paper's onset takes its training noise from the run's cell: the run directories beside it that
    differ only in the seed (and the language order the seed draws) and where they ran; another size is
    another cell, and an unprobed run gives nothing."""
    base = dict(model="cpu-1k", schedule="continual", task_tokens=10, train_langs=["a", "b"], n_nonembed=888)
    records = [dict(ckpt_step=s, mode_name="full", lr=1e-3, seed=sd, tokens=s * 10, auc=3.0, auc_no_step0=3.0,
                    final=3.0, zero_shot=5.0, step0_share=0.01) for s in (0, 1, 2) for sd in (0, 1)]
    runs = {"r-s0": dict(base, seed=0, lang_order=["a", "b"], out_dir="out/r-s0"),
            "r-s1": dict(base, seed=1, lang_order=["b", "a"], out_dir="out/r-s1", code_version="other"),
            "big-s0": dict(base, seed=0, model="cpu-3k", n_nonembed=3312),
            "r-s2": dict(base, seed=2)}
    for name, cfg in runs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(cfg))
        if name != "r-s2":
            (tmp_path / name / "probe.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    found = run_onset.cell_runs(tmp_path / "r-s0", runs["r-s0"], "auc")
    assert [name for name, _, seeds in found] == ["r-s1"] and found[0][2] == [0, 1]


def test_the_probe_warms_up_as_the_runs_tasks_and_sets_its_own_precision(paper_run, tmp_path):
    """A run that restarts the warmup at every task (the paper's schedule) is probed with the same
    warmup (1,024 tokens: 8 steps of 4 x 32), recorded; --warmup_tokens=0 gives other curves and
    is not mixed with them. TF32 is set by the probe itself (off unless --tf32=True), whatever a
    stage before it left in the process, and recorded when on."""
    args = ["--checkpoints=200", "--probe_steps=12", "--eval_every=1", "--seeds=0", "--eval_batches=1", "--n_boot=10"]
    warm, cold = copy_run(paper_run, tmp_path / "warm"), copy_run(paper_run, tmp_path / "cold")
    torch.backends.cuda.matmul.allow_tf32 = True  # as train.py leaves it on a GPU
    probe.main([f"--run_dir={warm}", *args])
    assert torch.backends.cuda.matmul.allow_tf32 is False
    probe.main([f"--run_dir={cold}", *args, "--warmup_tokens=0", "--tf32=True"])
    assert torch.backends.cuda.matmul.allow_tf32 is True
    (w,), (c,) = records(warm), records(cold)
    assert w["warmup_steps"] == 8 and "warmup_steps" not in c and "tf32" not in w and c["tf32"] is True
    assert w["curve"][0] == c["curve"][0] and w["curve"][1] != c["curve"][1]  # the first step at lr / 8
    with pytest.raises(SystemExit, match="warmup_steps"):
        probe.main([f"--run_dir={warm}", *args, "--warmup_tokens=0"])
    torch.backends.cuda.matmul.allow_tf32 = False


def test_bf16_autocast_trains_and_probes_on_a_cpu(tmp_path, corpus_dir):
    """The GPU's precision path (bf16 autocast) run on a CPU: training and probe finish with
    finite losses, records say bfloat16, and the numbers are not float32's."""
    common = [f"--data_dir={corpus_dir}", *TINY, "--task_tokens=2048", "--max_tokens=2560", "--ckpt_schedule=linear",
              "--n_ckpt=1", "--eval_batches=1", "--diagnostics=False"]
    args = ["--probe_steps=4", "--eval_every=2", "--seeds=0", "--eval_batches=1", "--n_boot=10"]
    for dtype in ("bfloat16", "float32"):
        train([*common, f"--out_dir={tmp_path / dtype}", f"--dtype={dtype}"])
        probe.main([f"--run_dir={tmp_path / dtype}", *args, f"--dtype={dtype}"])
    bf, fp = records(tmp_path / "bfloat16"), records(tmp_path / "float32")
    assert all(r["dtype"] == "bfloat16" for r in bf) and all(r["dtype"] == "float32" for r in fp)
    assert all(np.isfinite(r["curve"]).all() for r in bf)
    assert [r["curve"] for r in bf] != [r["curve"] for r in fp]
    assert bf[-1]["final"] == pytest.approx(fp[-1]["final"], abs=0.2)


def test_batched_members_are_chosen_from_free_memory(tiny_run, tmp_path, monkeypatch, capsys):
    """--members=0 (the default): as many members as fit the free memory by model.step_bytes, a
    tenth kept free; none fitting is one line."""
    cfg = json.loads((tiny_run / "config.json").read_text())["model_args"]
    each = model.step_bytes(model.GPTConfig(**cfg), model.n_total(model.GPTConfig(**cfg)), 8 * 32, False)
    assert finetune.members_that_fit(cfg, 8 * 32, False, 3 * each / 0.9 + 1) == 3
    assert finetune.members_that_fit(cfg, 8 * 32, False, each) == 0
    assert finetune.free_bytes("cpu") > 0
    run = copy_run(tiny_run, tmp_path / "run")
    monkeypatch.setattr(probe, "free_bytes", lambda dev: 2 * each / 0.9 + 1)
    probe.main([f"--run_dir={run}", "--probe_steps=2", "--eval_every=1", "--seeds=0,1", "--batched=True",
                "--n_boot=10"])
    assert "probe.py: 2 batched members fit in the" in capsys.readouterr().out
    monkeypatch.setattr(probe, "free_bytes", lambda dev: each)
    with pytest.raises(SystemExit, match=r"one batched member needs .* GB \(model.step_bytes\) and .* GB are free"):
        probe.main([f"--run_dir={copy_run(tiny_run, tmp_path / 'run2')}", "--probe_steps=2", "--batched=True"])


def test_micro_batches_accumulate_to_the_same_step(tiny_run, tmp_path):
    """probe_micro_batch splits each step's batch of 8 and accumulates: the curves are those of the
    whole batch up to float rounding (float64 here), the records say micro_batch, and the two are
    not mixed; it is refused with --batched."""
    args = ["--checkpoints=40", "--probe_steps=6", "--eval_every=2", "--seeds=0", "--dtype=float64", "--n_boot=10"]
    whole, parts = copy_run(tiny_run, tmp_path / "whole"), copy_run(tiny_run, tmp_path / "parts")
    probe.main([f"--run_dir={whole}", *args])
    probe.main([f"--run_dir={parts}", *args, "--probe_micro_batch=3"])  # 3 + 3 + 2
    (w,), (p,) = records(whole), records(parts)
    assert p["micro_batch"] == 3 and "micro_batch" not in w
    assert p["curve"] == pytest.approx(w["curve"], abs=1e-9) and p["curve"][-1] < p["curve"][0]
    with pytest.raises(SystemExit, match="micro_batch"):
        probe.main([f"--run_dir={parts}", *args])
    with pytest.raises(SystemExit, match="probe_micro_batch accumulates the sequential"):
        probe.main([f"--run_dir={parts}", *args, "--probe_micro_batch=3", "--batched=True"])


def test_a_run_extended_from_a_kept_copy_keeps_its_earlier_checkpoints(paper_run, tmp_path):
    """tools/keep_run.py kept only the last checkpoint of runs before it kept every card: probing such a
    run again (as each part of a long study does) keeps the earlier checkpoints' records in the onset and
    their diagnostics, from the onset.json before it."""
    run = copy_run(paper_run, tmp_path / "run")
    probe.main([f"--run_dir={run}", "--seeds=0", "--eval_batches=1", "--n_boot=20"])
    before = json.loads((run / "onset.json").read_text())
    for step in (0, 10, 100, 200):  # what a kept copy lacks: the checkpoints before its last part
        for suffix in (".json", ".pt"):
            (run / "ckpt" / f"step_{step:07d}{suffix}").unlink(missing_ok=True)
    probe.main([f"--run_dir={run}", "--seeds=0", "--eval_batches=1", "--n_boot=20"])
    after = json.loads((run / "onset.json").read_text())
    assert after["tokens"] == before["tokens"] == [12800, 25600, 51200, 76800]
    assert after["delta_pct"] == before["delta_pct"] and after["ref_tokens"] == 25600
    assert after["diagnostics"] == before["diagnostics"]
