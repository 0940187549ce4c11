"""The methods against loss of plasticity (mitigations.py): what each changes, what it leaves,
the optimizer state it resets; and exact resume and data parallelism with all of them on."""

import json

import pytest
import torch

import mitigations
from diagnostics import activations
from model import GPT, GPTConfig
from test_train import TINY, ddp_and_one, kill_after, newest_state, same_run, train


def setup(**on):
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=64, n_layer=2, n_head=2, n_embd=16))
    opt = model.optimizer(1e-2, 0.0, (0.9, 0.95), "cpu")
    mit = mitigations.Mitigations(model, opt, dict(mitigations.SETTINGS, **on), seed=3)
    x = torch.randint(0, 64, (4, 16))
    model(x, x)[1].backward()  # one real step: AdamW has moments to reset
    mit.before_step()
    opt.step()
    opt.zero_grad()
    mit._seen = [None] * len(mit._seen)  # that step's activations: train.py's after_step would consume them
    return model, opt, mit, x


def snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_names_and_bad_settings():
    assert mitigations.names(mitigations.SETTINGS) == "none"
    assert mitigations.names(dict(mitigations.SETTINGS, snp_every=5, cbp_rate=1e-4)) == "snp+cbp"
    with pytest.raises(SystemExit, match="snp_shrink out of range"):
        setup(snp_shrink=1.5)


def test_shrink_and_perturb_every_k_steps():
    model, _, mit, x = setup(snp_every=4, snp_shrink=0.5, snp_noise=0.1)
    before = snapshot(model)
    mit.after_step(2, x)  # step 3 of 4: nothing
    assert all(torch.equal(before[n], p) for n, p in model.named_parameters())
    mit.after_step(3, x)
    g = torch.Generator().manual_seed(3 * 1_000_003 + 3 * 16 + 1)
    for n, p in model.named_parameters():  # in the same order the method draws them
        assert torch.allclose(p, 0.5 * before[n] + 0.1 * model.init_value(n, g), atol=1e-7), n
    assert torch.equal(model.lm_head.weight, model.transformer.wte.weight)  # still tied


def test_l2_towards_the_initialisation_is_its_gradient():
    model, _, mit, _ = setup(l2_init=0.5)
    theta0 = mit.theta0
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    mit.before_step()
    for n, p in model.named_parameters():
        assert torch.allclose(p.grad, 2 * 0.5 * (p.detach() - theta0[n])), n
    assert any(p.grad.abs().max() > 0 for p in model.parameters())  # the step moved the weights


def test_redo_reinitialises_dormant_units_and_their_moments_only():
    model, opt, mit, x = setup(redo_every=1, redo_tau=0.1)
    mlp = model.transformer.h[0].mlp
    with torch.no_grad():  # every other unit of block 0 dormant: h = gelu(0) = 0
        mlp.c_fc.weight[::2] = 0
        mlp.c_fc.bias[::2] = 0
    before = snapshot(model)
    moments = {k: v.clone() for k, v in opt.state[mlp.c_fc.weight].items()}
    mit.after_step(0, x)
    dead, live = slice(0, None, 2), slice(1, None, 2)
    assert (mlp.c_fc.weight[dead].abs().sum(1) > 0).all()  # fresh incoming weights
    assert (mlp.c_proj.weight[:, dead] == 0).all()  # zero outgoing: the network computes what it did
    assert torch.equal(mlp.c_fc.weight[live], before["transformer.h.0.mlp.c_fc.weight"][live])
    assert torch.equal(mlp.c_proj.weight[:, live], before["transformer.h.0.mlp.c_proj.weight"][:, live])
    state = opt.state[mlp.c_fc.weight]
    assert (state["exp_avg"][dead] == 0).all() and (state["exp_avg_sq"][dead] == 0).all()
    assert torch.equal(state["exp_avg"][live], moments["exp_avg"][live])
    assert (opt.state[mlp.c_proj.weight]["exp_avg_sq"][:, dead] == 0).all()
    assert torch.equal(model.transformer.h[1].mlp.c_fc.weight, before["transformer.h.1.mlp.c_fc.weight"])
    assert mit.replaced == 32


def test_continual_backprop_replaces_the_least_useful_mature_units():
    model, opt, mit, x = setup(cbp_rate=0.25, cbp_decay=0.5, cbp_maturity=0)
    mlp = model.transformer.h[1].mlp
    with torch.no_grad():
        mlp.c_proj.weight[:, 5] = 0  # unit 5 of block 1 contributes nothing: the least useful
    before = snapshot(model)
    h = activations(model, [(x, None)], attention=False)[0][1]  # block 1's MLP activations on x
    with torch.enable_grad():
        model(x, x)  # the training forward: the hooks see the activations
    mit.after_step(0, x)
    # a running utility: (1 - decay) * E|h_i| * sum_j |W_out[j, i]| after one step from 0
    utility = 0.5 * h.abs().mean(0) * before["transformer.h.1.mlp.c_proj.weight"].abs().sum(0)
    # 0.25 x 64 mature units = 16 replaced per block: the 16 of lowest utility, unit 5 among them
    replaced = (mit.age[1] == 0).nonzero().flatten()
    kept = (mit.age[1] == 1).nonzero().flatten()
    assert mit.replaced == 32 and len(replaced) == 16 and 5 in replaced.tolist()
    assert set(replaced.tolist()) == set(torch.argsort(utility)[:16].tolist())
    assert torch.allclose(mit.utility[1][kept], utility[kept], rtol=1e-5) and (mit.utility[1][replaced] == 0).all()
    assert (mlp.c_proj.weight[:, replaced] == 0).all()
    assert torch.equal(mlp.c_fc.weight[kept], before["transformer.h.1.mlp.c_fc.weight"][kept])
    assert (opt.state[mlp.c_fc.weight]["exp_avg"][replaced] == 0).all()
    assert mit.due == [0.0, 0.0]  # 16 exactly: nothing carried over


def test_embedding_reset_redraws_token_embeddings_and_their_moments():
    model, opt, mit, x = setup(emb_reset_every=2)
    before = snapshot(model)
    w = model.transformer.wte.weight
    mit.after_step(1, x)
    fresh = model.init_value("transformer.wte.weight", torch.Generator().manual_seed(3 * 1_000_003 + 1 * 16 + 4))
    assert torch.equal(w, fresh) and torch.equal(model.lm_head.weight, w)
    assert (opt.state[w]["exp_avg"] == 0).all() and (opt.state[w]["exp_avg_sq"] == 0).all()
    assert all(torch.equal(before[n], p) for n, p in model.named_parameters() if n != "transformer.wte.weight")


@pytest.mark.parametrize("tied", [True, False])
def test_hold_unseen_keeps_the_rows_of_unseen_tokens_initial(tied):
    """Rows of tokens not yet seen (as input or target) stay at their initial values with zero
    AdamW moments, in the output layer too when it is untied; seen rows train. Without the
    method the same steps move the unseen rows (weight decay, and the output layer's gradient)."""
    runs = {}
    for hold in (True, False):
        torch.manual_seed(0)
        model = GPT(GPTConfig(block_size=16, vocab_size=64, n_layer=1, n_head=2, n_embd=16, tie_weights=tied))
        opt = model.optimizer(1e-2, 0.1, (0.9, 0.95), "cpu")
        mit = mitigations.Mitigations(model, opt, dict(mitigations.SETTINGS, hold_unseen=hold), seed=3)
        rows = [model.transformer.wte.weight] + ([] if tied else [model.lm_head.weight])
        start = [w.detach().clone() for w in rows]
        g, seen = torch.Generator().manual_seed(1), torch.zeros(64, dtype=torch.bool)
        for step in range(4):
            x = torch.randint(0, 24 + 4 * step, (4, 16), generator=g)  # more tokens come into use
            y = torch.randint(0, 30, (4, 16), generator=g)
            seen[x.flatten()] = seen[y.flatten()] = True
            mit.observe(x, y)
            model(x, y)[1].backward()
            mit.before_step()
            opt.step()
            opt.zero_grad()
            mit.after_step(step, x)
        runs[hold] = [(w.detach().clone(), w0, opt.state[w]) for w, w0 in zip(rows, start)]
    assert 30 <= int(seen.sum()) < 64
    for w, w0, state in runs[True]:
        assert torch.equal(w[~seen], w0[~seen])
        assert (state["exp_avg"][~seen] == 0).all() and (state["exp_avg_sq"][~seen] == 0).all()
        assert (w[seen] != w0[seen]).any(dim=1).all()  # every seen row trained
    for w, w0, _ in runs[False]:
        assert (w[~seen] != w0[~seen]).any(dim=1).all()
    assert mitigations.names(dict(mitigations.SETTINGS, hold_unseen=True)) == "hold_unseen"


ALL_ON = ["--snp_every=7", "--l2_init=0.01", "--redo_every=5", "--redo_tau=0.3", "--cbp_rate=0.01",
          "--cbp_maturity=10", "--emb_reset_every=40", "--hold_unseen=True"]


def test_kill_and_resume_is_bit_identical_with_every_method_on(tmp_path, corpus_dir):
    args = [f"--data_dir={corpus_dir}", *TINY, "--task_tokens=4096", "--max_tokens=40000", "--save_every=9",
            "--n_ckpt=4", "--eval_batches=1", *ALL_ON]
    train([*args, f"--out_dir={tmp_path / 'a'}"])
    cfg = json.loads((tmp_path / "a" / "config.json").read_text())
    assert cfg["mitigation"] == "snp+l2init+redo+cbp+emb_reset+hold_unseen"
    b = tmp_path / "b"
    killed_at = kill_after(args, b, 60)
    assert 0 < killed_at < 156, "the run was not interrupted in the middle"
    train([*args, f"--out_dir={b}"])
    same_run(tmp_path / "a", b)
    state = torch.load(newest_state(b), weights_only=True)["mitigations"]
    assert state["replaced"] > 0  # ReDo and CBP did replace units in this run


def test_data_parallel_with_every_method_on_matches_one_process(tmp_path, corpus_dir):
    common = [f"--data_dir={corpus_dir}", *TINY, "--max_tokens=10240", "--n_ckpt=1", "--eval_batches=1", *ALL_ON]
    wa, wb = ddp_and_one(tmp_path, common)
    cfg = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert cfg["world_size"] == 2 and cfg["tokens_per_step"] == 8 * 32
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-3
