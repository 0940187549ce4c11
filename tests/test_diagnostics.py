"""The checkpoint diagnostics (diagnostics.py), each on a model built to have the property, and
their place in train.py's sidecars."""

import json
import math
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import diagnostics as D
import relate
import fit
from model import GPT, GPTConfig
from train import main as train

TINY = ["--model=micro-25k", "--block_size=32", "--batch_size=8", "--eval_batches=1", "--log_every=5"]


def small_model(seed=0, **kw):
    torch.manual_seed(seed)
    return GPT(GPTConfig(block_size=16, vocab_size=64, n_layer=2, n_head=2, n_embd=16, **kw))


def batches(n=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randint(0, 64, (4, 16), generator=g), None) for _ in range(n)]


def test_effective_rank_of_known_matrices():
    g = torch.Generator().manual_seed(0)
    assert D.effective_rank(torch.randn(300, 1, generator=g) @ torch.randn(1, 32, generator=g)) == pytest.approx(1, abs=1e-3)
    assert D.effective_rank(torch.eye(32)) == pytest.approx(32, rel=1e-6)
    assert D.effective_rank(torch.diag(torch.tensor([1.0, 1.0, 0.0, 0.0]))) == pytest.approx(2, rel=1e-6)


def test_half_the_units_zeroed_are_dormant():
    m = small_model()
    with torch.no_grad():
        for block in m.transformer.h:  # incoming weights and bias of every other unit zeroed: h = gelu(0) = 0
            block.mlp.c_fc.weight[::2] = 0
            block.mlp.c_fc.bias[::2] = 0
    out = D.activation_diagnostics(m, batches())
    assert out["dormant"] == [0.5, 0.5] and out["inactive"] == [0.5, 0.5]
    fresh = D.activation_diagnostics(small_model(), batches())
    assert max(fresh["dormant"]) < 0.1 and max(fresh["inactive"]) == 0
    # the paper's dormancy threshold (score <= 0.01) is stricter than ReDo's 0.1: never more units
    assert all(p <= d for p, d in zip(out["dormant_paper"], out["dormant"])) and out["dormant_paper"] == [0.5, 0.5]


def test_attention_with_one_huge_logit_collapses_and_equal_logits_are_uniform():
    B, H, T, hd = 2, 2, 8, 4
    q = torch.zeros(B, H, T, hd)
    k = torch.zeros(B, H, T, hd)
    q[:, 0, :, 0] = 1.0
    k[:, 0, 0, 0] = 1e4  # head 0: every query puts its mass on key 0; head 1: all logits equal
    entropy, peak, normalised = D.attention_stats(q, k)
    assert peak[0] > 0.99 and entropy[0] < 1e-3
    assert peak[1].item() == pytest.approx(torch.tensor([1 / t for t in range(2, T + 1)]).mean().item(), rel=1e-5)
    assert normalised[1].item() == pytest.approx(1.0, rel=1e-5)
    assert entropy[1].item() == pytest.approx(torch.tensor([math.log(t) for t in range(2, T + 1)]).mean().item(), rel=1e-5)
    # the paper's thresholds on the entropy over its maximum: head 0 collapsed (< 0.1), head 1 lazy (> 0.9)
    assert normalised[0] < D.PAPER_COLLAPSED and normalised[1] > D.PAPER_LAZY


def test_recomputed_attention_is_the_models():
    """The diagnostics recompute q and k (the model uses a fused kernel that never forms the
    weights): their softmax(q k^T) times v must give what the model's attention gives."""
    m = small_model().eval()
    x = torch.randint(0, 64, (2, 16))
    _, qk, _ = D.activations(m, [(x, None)])
    block = m.transformer.h[0]
    seen = {}
    block.attn.register_forward_pre_hook(lambda mod, inp: seen.setdefault("x", inp[0]))
    m(x)
    h = seen["x"]
    C = h.shape[-1]
    _, _, v = block.attn.c_attn(h).split(C, dim=2)
    v = v.view(2, 16, 2, C // 2).transpose(1, 2)
    q, k = qk[0]
    p = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(C // 2)).masked_fill(~torch.ones(16, 16).tril().bool(),
                                                                                float("-inf")), -1)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(p @ v, want, atol=1e-5)
    collapsed = small_model()
    with torch.no_grad():  # query and key weights scaled far up: huge logits, one key takes each query
        collapsed.transformer.h[0].attn.c_attn.weight[:32] *= 300
    assert D.activation_diagnostics(collapsed, batches())["attn_collapsed"][0] > 0.5


def test_weight_and_token_diagnostics():
    m = small_model()
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(0.5)
    w = D.weight_diagnostics(m)
    assert w["mean_abs"]["attention"] == pytest.approx(0.5) and w["mean_abs"]["layernorm"] == pytest.approx(0.5)
    n_mlp0 = sum(p.numel() for n, p in m.named_parameters() if n.startswith("transformer.h.0.mlp") and "weight" in n)
    assert w["block_norm"]["mlp0"] == pytest.approx(0.5 * math.sqrt(n_mlp0), rel=1e-5)
    previous = {k: v.clone() for k, v in m.state_dict().items()}
    with torch.no_grad():
        m.transformer.h[1].mlp.c_fc.weight.mul_(2)
    upd = D.weight_diagnostics(m, previous)["update_ratio"]
    c_fc, c_proj = m.transformer.h[1].mlp.c_fc.weight.numel(), m.transformer.h[1].mlp.c_proj.weight.numel()
    assert upd["mlp1"] == pytest.approx(math.sqrt(c_fc / (c_fc + c_proj)), rel=1e-5) and upd["mlp0"] == 0
    with torch.no_grad():
        m.transformer.wte.weight[40:] = 0  # tokens 40.. pushed to zero, as unseen tokens' rows are
    t = D.token_diagnostics(m, train_ids=set(range(40)), probe_ids=set(range(30, 64)))
    assert t["unseen_tokens"] == 24 and t["unseen_norm"] == 0 and t["unseen_over_seen"] == 0


def test_train_writes_diagnostics_and_resumes_them_exactly(corpus_dir, tmp_path):
    args = [f"--data_dir={corpus_dir}", *TINY, "--task_tokens=1024", "--max_tokens=5120", "--ckpt_schedule=linear",
            "--n_ckpt=4", "--save_every=7"]
    train([*args, f"--out_dir={tmp_path / 'a'}"])
    cards = [json.loads(p.read_text()) for p in sorted((tmp_path / "a" / "ckpt").glob("step_*.json"))]
    d = cards[-1]["diagnostics"]
    assert set(d) == {"weights", "train", "probe", "tokens", "grad_norm_mean", "grad_norm_max"}
    assert len(d["train"]["dormant"]) == 2 and len(d["train"]["attn_entropy"][0]) == 2
    assert d["tokens"]["unseen_tokens"] > 0  # the probe language's script is its own
    assert "update_ratio" not in cards[0]["diagnostics"]["weights"] and "update_ratio" in d["weights"]
    log = [json.loads(ln) for ln in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    since = [r["grad_norm"] for r in log if cards[-2]["step"] <= r["step"] < cards[-1]["step"]]
    assert d["grad_norm_mean"] == pytest.approx(sum(since) / len(since), abs=1e-5)
    # as if interrupted after the state at step 14: the newest state and the checkpoints after it
    # gone; resumed, the same diagnostics (updates against the checkpoint on disk, gradient norms
    # since it from the log)
    b = tmp_path / "b"
    shutil.copytree(tmp_path / "a", b)
    for p in [*(b / "state").glob("step_0000020.*"), *(b / "ckpt").glob("step_000001[5-9].*"),
              *(b / "ckpt").glob("step_000002*")]:
        p.unlink()
    train([*args, f"--out_dir={b}"])
    resumed = [json.loads(p.read_text()) for p in sorted((b / "ckpt").glob("step_*.json"))]
    assert [c["step"] for c in resumed] == [c["step"] for c in cards] == [0, 5, 10, 15, 20]
    assert [c["diagnostics"] for c in resumed] == [c["diagnostics"] for c in cards]
    train([*args, f"--out_dir={tmp_path / 'c'}", "--diagnostics=False"])
    assert "diagnostics" not in json.loads(sorted((tmp_path / "c" / "ckpt").glob("step_*.json"))[-1].read_text())
    a_pt, c_pt = (sorted((tmp_path / r / "ckpt").glob("step_*.pt"))[-1].read_bytes() for r in ("a", "c"))
    assert a_pt == c_pt  # diagnostics draw no random numbers: training is bit-identical without them


def fake_run(rng, rise=True):
    """A run's onset.json head: probe metric falling then rising after 1e6 tokens, and a
    diagnostics table in which weight_norm follows the metric and dormant runs against it."""
    tokens = [0, 1e4, 1e5, 1e6, 3e6, 1e7, 3e7]
    curve = [5.0, 4.0, 3.5, 3.4, 3.6, 3.9, 4.3]
    table = {k: [None] * len(tokens) for k in relate.SUMMARY}
    table["tokens"] = tokens
    table["weight_norm"] = [c + rng.normal(0, 1e-3) for c in curve]
    table["dormant"] = [-c for c in curve]
    return dict(diagnostics=table, tokens=tokens[1:], curve=curve[1:], onset_tokens=3e6 if rise else None,
                best_tokens=1e6)


def test_relate_finds_what_goes_with_the_probe_metric():
    r = np.random.default_rng(0)
    out = relate.relate([fake_run(r) for _ in range(4)] + [fake_run(r, rise=False)])
    assert out["weight_norm"]["rho"] == pytest.approx(1.0) and out["weight_norm"]["rho_ci"] == [1.0, 1.0]
    assert out["dormant"]["rho"] == pytest.approx(-1.0) and out["weight_norm"]["runs"] == 5
    assert out["weight_norm"]["rose_before_onset"] == 4 and out["weight_norm"]["runs_with_onset"] == 4
    assert out["dormant"]["rose_before_onset"] == 0
    assert out["weight_norm"]["rho_after_best"] == pytest.approx(1.0) and out["weight_norm"]["runs_after_best"] == 5
    assert "mlp_rank" not in out  # never measured in these runs: left out, not reported as zero
    assert relate.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_fit_reports_diagnostics_against_the_probe_metric(tmp_path):
    r = np.random.default_rng(1)
    dirs = []
    for N, onset in ((1e4, 3e6), (1e5, 1e7)):
        d = tmp_path / f"run{N:g}"
        d.mkdir()
        run = fake_run(r)
        (d / "config.json").write_text(json.dumps(dict(schedule="continual", corpus="c", vocab_hash="v", seed=0,
                                                       n_nonembed=N, model=f"m{N:g}")))
        (d / "onset.json").write_text(json.dumps(dict(
            run=d.name, metric="auc", onset_tokens=onset, censored=False, resolved=True, last_tokens=3e7,
            interval=[onset / 2, onset * 2], tokens=run["tokens"], mean_curve=run["curve"], best_tokens=1e6,
            diagnostics=run["diagnostics"])))
        dirs.append(str(d))
    summary = fit.main([*dirs, "--out", str(tmp_path / "fit"), "--bootstrap", "20"])
    assert summary["diagnostics"]["weight_norm"]["rho"] == pytest.approx(1.0)
    report = (tmp_path / "fit" / "report.md").read_text()
    assert "| weight_norm | +1.00 [1, 1] | 2 | +1.00 [1, 1] | 2 | 2 of 2 |" in report


def test_early_warning_beats_the_baseline_only_for_a_diagnostic_that_leads_the_onset():
    """Simulated runs whose weight norm grows at a run-specific rate from the reference and whose
    onset comes when it is 50% up: left out one at a time, the rule learnt on the other runs warns
    within one checkpoint of each onset (error factor near 1, far below the baseline's); a diagnostic
    of noise does worse than the baseline; runs without an established onset are left out."""
    rng = np.random.default_rng(0)
    tokens = [0.0] + [1e5 * i for i in range(1, 41)]
    runs = []
    for _ in range(8):
        rate = rng.uniform(0.02, 0.2)
        runs.append(dict(ref_tokens=1e5, onset_tokens=1e5 * (1 + 0.5 / rate),
                         diagnostics=dict(tokens=tokens, weight_norm=[1.0] + [1 + rate * (t / 1e5 - 1) for t in tokens[1:]],
                                          mlp_rank=list(rng.normal(1, 0.1, len(tokens))))))
    runs.append(dict(runs[0], onset_tokens=None))
    out = relate.early_warning(runs)
    assert out["weight_norm"]["runs"] == 8 and out["weight_norm"]["error_factor"] < 1.1
    assert out["weight_norm"]["baseline_factor"] > 1.3 and out["mlp_rank"]["error_factor"] > out["mlp_rank"]["baseline_factor"]
    assert relate.early_warning(runs[:2]) == {}


def test_merge_keeps_the_diagnostics_of_checkpoints_whose_cards_are_gone():
    """A run extended from a kept copy has only its last cards: the earlier rows come from the old table."""
    old = dict(tokens=[0, 100, 200], dormant=[0.0, 0.1, 0.2], mlp_rank=[5.0, 4.0, 3.0])
    new = dict(tokens=[200, 300], dormant=[0.25, 0.3], mlp_rank=[3.5, 2.0])
    assert relate.merge(new, old) == dict(tokens=[0, 100, 200, 300], dormant=[0.0, 0.1, 0.25, 0.3],
                                          mlp_rank=[5.0, 4.0, 3.5, 2.0])  # where both have a row, the new one
    assert relate.merge(new, None) == new and relate.merge(None, old) == old
