"""group.py: runs trained as one computation are the runs trained alone, resume exactly (together, from a
step each has intact), and move between group.py and train.py."""

import io
import json
import os
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
import torch

import group
import stack
from conftest import ROOT
from model import GPT, preset
from test_train import kill_when, newest_state, same_run, sidecars, train, weights

BASE = ("--model=cpu-1k --block_size=32 --batch_size=8 --task_tokens=4096 --warmup_tokens=1024 --eval_batches=1 "
        "--save_every=20 --log_every=10 --n_ckpt=3 --cpu_threads=1 --cycle_tasks=1")
# a second run that differs in everything a group lets differ: seed, schedule, the methods, the optimizer
OTHER = "--seed=1 --schedule=stationary --l2_init=1e-3 --snp_every=15 --weight_decay=0.05 --grad_clip=0.5 --lr=2e-3"


def members(corpus_dir, out, tokens, *extra):
    """The group's two runs: seed 0 under the paper's restarts, and OTHER."""
    common = f"--data_dir={corpus_dir} {BASE} --max_tokens={tokens} " + " ".join(extra)
    return [f"{common} --seed=0 --restart_at_task=True --out_dir={out / 'a'}", f"{common} {OTHER} --out_dir={out / 'b'}"]


def run_group(args):
    """group.main(args) in this process, as test_train's train() runs train.py; raises with its output."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            group.main(args)
        except SystemExit as e:
            raise AssertionError(f"{e.code}\n{out.getvalue()}{err.getvalue()}") from None
    return out.getvalue()


def refused(args):
    with pytest.raises(SystemExit) as e:
        group.main(args)
    return str(e.value.code)


def differences(a, b):
    """Largest |difference| over every checkpoint's weights, apart from the attention's key bias, and
    over that bias. The key bias does not change the attention (softmax is blind to a constant added
    to a query's scores), so its gradient is zero up to rounding, and AdamW, dividing by the root of
    that gradient's square, turns any rounding into steps of the learning rate's size: it follows its
    own noise in any two computations that round differently, and nothing else sees it."""
    rest = key_bias = 0.0
    for f in sorted((a / "ckpt").glob("*.pt")):
        wa, wb = weights(f), weights(b / "ckpt" / f.name)
        for k in wa:
            d = (wa[k] - wb[k]).abs()
            if k.endswith("attn.c_attn.bias"):
                d_model = len(d) // 3
                key_bias = max(key_bias, d[d_model:2 * d_model].max().item())
                d = torch.cat([d[:d_model], d[2 * d_model:]])
            rest = max(rest, d.max().item())
    return rest, key_bias


@pytest.fixture
def float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_each_run_of_a_group_is_the_run_trained_alone(tmp_path, corpus_dir, float64):
    """In float64, where the batched products' other rounding is 1e-16: every checkpoint's weights and
    validation losses, every logged loss and gradient norm, equal the run trained alone by train.py."""
    tokens = 5 * 4096
    runs = members(corpus_dir, tmp_path / "g", tokens)
    run_group(runs)
    for arg, name in zip(runs, "ab"):
        alone = tmp_path / f"alone-{name}"
        train([*arg.replace(str(tmp_path / "g" / name), str(alone)).split()])
        grouped = tmp_path / "g" / name
        rest, _ = differences(alone, grouped)
        assert rest < 1e-12
        for x, y in zip(sidecars(alone), sidecars(grouped), strict=True):
            assert x["step"] == y["step"]
            assert all(abs(x["val_loss"][k] - y["val_loss"][k]) < 1e-12 for k in x["val_loss"])
        la, lb = ([json.loads(ln) for ln in (d / "log.jsonl").read_text().splitlines()] for d in (alone, grouped))
        assert [r["step"] for r in la] == [r["step"] for r in lb] == list(range(len(la)))
        assert all(abs(p["loss"] - q["loss"]) <= 1e-5 and abs(p["grad_norm"] - q["grad_norm"]) <= 1e-4
                   and p["lr"] == q["lr"] and p["lang"] == q["lang"] for p, q in zip(la, lb))
        ca, cb = (json.loads((d / "config.json").read_text()) for d in (alone, grouped))
        assert cb["trained_by"] == [dict(from_step=0, program="group.py",
                                         group=[str(tmp_path / "g" / "a"), str(tmp_path / "g" / "b")])]
        assert ca["trained_by"] == [dict(from_step=0, program="train.py")]
        skip = ("out_dir", "trained_by", "code_version")
        assert {k: v for k, v in ca.items() if k not in skip} == {k: v for k, v in cb.items() if k not in skip}


def test_in_float32_a_group_run_stays_within_rounding_of_the_run_alone(tmp_path, corpus_dir):
    """In float32 the runs round differently from the first step and drift apart as runs of two thread
    counts do: after 64 steps every weight but the key bias within 1e-3 and the validation losses within
    1e-4."""
    runs = members(corpus_dir, tmp_path / "g", 4 * 4096)
    run_group(runs)
    alone = tmp_path / "alone"
    train([*runs[1].replace(str(tmp_path / "g" / "b"), str(alone)).split()])
    rest, _ = differences(alone, tmp_path / "g" / "b")
    assert rest < 1e-3
    for x, y in zip(sidecars(alone), sidecars(tmp_path / "g" / "b"), strict=True):
        assert all(abs(x["val_loss"][k] - y["val_loss"][k]) < 1e-4 for k in x["val_loss"])


def test_a_killed_group_resumes_bit_identical(tmp_path, corpus_dir):
    tokens = 6 * 4096
    run_group(members(corpus_dir, tmp_path / "ref", tokens))
    runs = members(corpus_dir, tmp_path / "k", tokens)
    kill_when([sys.executable, str(ROOT / "group.py"), *runs], tmp_path / "k" / "a" / "log.jsonl", 50,
              env=dict(os.environ, OMP_NUM_THREADS="1"))
    step = torch.load(newest_state(tmp_path / "k" / "a"), weights_only=True)["step"]
    assert 0 < step < 96, "the group was not interrupted in the middle"
    with open(tmp_path / "k" / "b" / "log.jsonl", "a") as f:  # a kill can cut a log's last line in two
        f.write('{"step": 99999, "tok')
    run_group(runs)
    for name in "ab":
        same_run(tmp_path / "ref" / name, tmp_path / "k" / name)


def test_a_damaged_state_sends_its_run_back_alone(tmp_path, corpus_dir):
    """Run b's newest state damaged: it is named and set aside, and both runs go back to the state before
    it, so that both end as the group that was never interrupted."""
    run_group(members(corpus_dir, tmp_path / "ref", 6 * 4096))
    run_group(members(corpus_dir, tmp_path / "d", 4 * 4096))
    damaged = newest_state(tmp_path / "d" / "b")
    damaged.write_bytes(damaged.read_bytes()[:-100] + bytes(100))
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        group.main(members(corpus_dir, tmp_path / "d", 6 * 4096))
    assert f"{damaged} is damaged" in out.getvalue()
    assert out.getvalue().count("from step 60") == 2  # b's state before the damaged one; a's of that step
    assert damaged.with_name(damaged.name + ".damaged").exists()
    for name in "ab":
        same_run(tmp_path / "ref" / name, tmp_path / "d" / name)


def test_a_group_runs_state_resumes_alone_and_back(tmp_path, corpus_dir):
    """A run begun in a group goes on alone with train.py (and back): one log, one history."""
    runs = members(corpus_dir, tmp_path / "g", 2 * 4096)
    run_group(runs)
    a = tmp_path / "g" / "a"
    train(runs[0].replace("--max_tokens=8192", "--max_tokens=12288").split())
    run_group([r.replace("--max_tokens=8192", "--max_tokens=16384") for r in runs])
    log = [json.loads(ln) for ln in (a / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(16384 // 256))
    history = json.loads((a / "config.json").read_text())["trained_by"]
    assert [(h["from_step"], h["program"]) for h in history] == [(0, "group.py"), (32, "train.py"), (48, "group.py")]


def test_the_stacked_step_is_each_models_own(float64):
    """stack.losses and clip_ against GPT and clip_grad_norm_ on three models of one shape."""
    cfg = preset("cpu-3k", vocab_size=64, block_size=16)
    models = []
    for seed in range(3):
        torch.manual_seed(seed)
        models.append(GPT(cfg))
    x, y = torch.randint(64, (3, 4, 16)), torch.randint(64, (3, 4, 16))
    params = stack.stack(models)
    stacked = stack.losses(params, cfg, x, y)
    stacked.sum().backward()
    norms = stack.clip_(params, [0.5, 0.0, 1e9])
    for k, m in enumerate(models):
        loss = m(x[k], y[k])[1]
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(m.parameters(), [0.5, float("inf"), 1e9][k])
        assert abs(loss.item() - stacked[k].item()) < 1e-12 and abs(norm.item() - norms[k].item()) < 1e-12
        for n, p in m.named_parameters():
            assert torch.allclose(p.grad, params[n].grad[k], atol=1e-14, rtol=0)


def test_bf16_autocast_trains_a_group(tmp_path, corpus_dir):
    """The GPU's path (bf16 autocast), on a CPU: the group trains, and its losses stay near float32's."""
    runs = members(corpus_dir, tmp_path / "f", 2 * 4096)
    run_group(runs)
    run_group([r.replace(str(tmp_path / "f"), str(tmp_path / "h")) + " --dtype=bfloat16" for r in runs])
    for name in "ab":
        la, lb = ([json.loads(ln)["loss"] for ln in (tmp_path / d / name / "log.jsonl").read_text().splitlines()]
                  for d in "fh")
        assert len(la) == len(lb) and max(abs(p - q) for p, q in zip(la, lb)) < 0.05


def test_a_group_refuses_runs_it_cannot_share(tmp_path, corpus_dir):
    a, b = members(corpus_dir, tmp_path, 4096)
    assert "differ in model" in refused([a, b + " --model=cpu-3k"])
    assert "redo_every" in refused([a, b + " --redo_every=10"]) and "train.py" in refused([a, b + " --redo_every=10"])
    assert "same out_dir" in refused([a, a.replace("--seed=0", "--seed=2")])
    assert "no runs" in refused([])


def test_a_run_trained_in_a_group_is_of_its_cell(tmp_path):
    """How a run was trained (config.json's trained_by) does not make it another cell: its probe records
    are a replicate of the paper's onset's noise model like any other training seed's."""
    import run_onset
    for seed, by in ((0, "train.py"), (1, "group.py")):
        d = tmp_path / f"s{seed}"
        d.mkdir()
        (d / "config.json").write_text(json.dumps(dict(seed=seed, out_dir=str(d), model="cpu-3k", task_tokens=1000,
                                                       train_langs=["en"],
                                                       trained_by=[dict(from_step=0, program=by)])))
        (d / "probe.jsonl").write_text("")
    run = json.loads((tmp_path / "s0" / "config.json").read_text())
    assert [name for name, _, _ in run_onset.cell_runs(tmp_path / "s0", run, "auc")] == ["s1"]
