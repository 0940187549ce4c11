import pytest
import torch

from checkpoint import checkpoint_dict, load_checkpoint
from model import GPT, CompiledOrEager, GPTConfig, LADDER, add_lora, preset, step_bytes, train_only_last


def closed_form(L, d, bias=True):
    # per block: attention 4d^2 (+4d bias), MLP 8d^2 (+5d bias), two LayerNorms 2d (+2d bias); final LayerNorm
    if bias:
        return L * (12 * d * d + 13 * d) + 2 * d
    return L * (12 * d * d + 2 * d) + d


def test_forward_shapes_and_loss():
    cfg = GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=2, n_embd=16)
    m = GPT(cfg)
    idx = torch.randint(50, (3, 16))
    logits, loss = m(idx)
    assert logits.shape == (3, 16, 50) and loss is None
    logits, loss = m(idx, idx)
    assert loss.ndim == 0 and abs(loss.item() - torch.log(torch.tensor(50.0)).item()) < 0.3


def test_causal():
    torch.manual_seed(0)
    m = GPT(GPTConfig(block_size=8, vocab_size=20, n_layer=2, n_head=2, n_embd=16)).eval()
    a = torch.randint(20, (1, 8))
    b = a.clone()
    b[0, 5:] = (b[0, 5:] + 1) % 20
    la, lb = m(a)[0], m(b)[0]
    assert torch.allclose(la[:, :5], lb[:, :5], atol=1e-6)
    assert not torch.allclose(la[:, 5:], lb[:, 5:])


def test_nonembedding_count_matches_closed_form():
    for L, d, bias in [(1, 8, True), (2, 32, True), (3, 24, False)]:
        for tie in (True, False):
            cfg = GPTConfig(block_size=32, vocab_size=100, n_layer=L, n_head=2, n_embd=d, bias=bias, tie_weights=tie)
            m = GPT(cfg)
            assert m.num_params() == closed_form(L, d, bias)
            emb = 100 * d + 32 * d + (0 if tie else 100 * d)
            assert m.num_params(non_embedding=False) == closed_form(L, d, bias) + emb


def test_ladder_sizes_are_near_their_names():
    for name, (L, h, d) in LADDER.items():
        n = closed_form(L, d)
        target = float(name.split("-")[-1].replace("k", "e3").replace("m", "e6"))
        assert 0.75 < n / target < 1.25, (name, n)
        assert d % h == 0


def test_checkpoint_roundtrip(tmp_path):
    m = GPT(preset("micro-25k", vocab_size=64, block_size=16))
    torch.save(checkpoint_dict(m), tmp_path / "c.pt")
    m2 = load_checkpoint(tmp_path / "c.pt")
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k


def test_lora_starts_identical_and_trains_only_adapters():
    torch.manual_seed(0)
    m = GPT(GPTConfig(block_size=8, vocab_size=30, n_layer=2, n_head=2, n_embd=16))
    idx = torch.randint(30, (2, 8))
    before = m(idx)[0]
    n = add_lora(m, rank=2)
    assert torch.allclose(before, m(idx)[0], atol=1e-6)
    # per block: c_attn 2*(16+48), attn c_proj 2*(16+16), c_fc 2*(16+64), mlp c_proj 2*(64+16)
    assert n == 2 * 2 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16))
    trainable = {k for k, p in m.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in k for k in trainable)


def test_train_only_last():
    m = GPT(GPTConfig(block_size=8, vocab_size=30, n_layer=3, n_head=2, n_embd=16))
    n = train_only_last(m, 1)
    assert n == 12 * 16 * 16 + 13 * 16 + 2 * 16
    assert all(p.requires_grad == (k.startswith("transformer.h.2.") or k.startswith("transformer.ln_f"))
               for k, p in m.named_parameters())


def test_the_papers_ladder_and_the_cpu_ladder():
    """The paper's eight sizes: its shape (d_model / n_layer about 80, head dimension 64) and its
    learning rates (3e-3 at 5M to 1e-3 at 314M, log-linear in N between); the CPU ladder grows depth
    and width together from about 500 to 1M; the names of earlier studies still resolve."""
    from model import CPU_LADDER, LEGACY, PAPER_LADDER, ladder_lr, n_nonembed
    assert len(PAPER_LADDER) == 8
    for name, (L, h, d) in PAPER_LADDER.items():
        assert 70 <= d / L <= 95 and d // h == 64 and d % h == 0, name
    n = {name: n_nonembed(L, d) for name, (L, _, d) in PAPER_LADDER.items()}
    assert ladder_lr(n["paper-5m"]) == pytest.approx(3e-3) and ladder_lr(n["paper-314m"]) == pytest.approx(1e-3)
    assert 1e-3 < ladder_lr(n["paper-27m"]) < ladder_lr(n["paper-12m"]) < 3e-3 and ladder_lr(888) == 3e-3
    cpu = [(L, d, n_nonembed(L, d)) for L, _, d in CPU_LADDER.values()]
    assert cpu[0][2] < 1.5e3 and 0.8e6 < cpu[-1][2] < 1.5e6
    assert all(b[0] >= a[0] and b[1] > a[1] for a, b in zip(cpu, cpu[1:])) and cpu[-1][0] >= 6  # depth grows too
    assert all(preset(name).n_layer == L for name, (L, _, _) in LEGACY.items())


def test_compile_that_cannot_build_falls_back_to_eager_with_one_warning(capsys):
    """A compiler backend that fails (as inductor does without a C compiler or Python headers):
    the first call warns once and the computation goes on eagerly, with the eager numbers and
    gradients; a backend that builds gives no warning."""
    torch.manual_seed(0)
    m = GPT(GPTConfig(block_size=8, vocab_size=32, n_layer=1, n_head=2, n_embd=8))
    idx = torch.randint(32, (2, 8))

    def no_compiler(gm, inputs):
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

    broken = CompiledOrEager(m, "the test model", backend=no_compiler)
    for _ in range(2):
        loss = broken(idx, idx)[1]
    assert torch.equal(loss, m(idx, idx)[1])
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: torch.compile could not build the test model (")
    assert "No working C++ compiler found" in err[0] and "running it eagerly" in err[0]
    assert broken.fell_back and sorted(n for n, _ in broken.named_parameters()) == sorted(
        "module." + n for n, _ in m.named_parameters())
    working = CompiledOrEager(m, "the test model", backend="eager")
    assert torch.allclose(working(idx, idx)[1], m(idx, idx)[1]) and not working.fell_back
    assert capsys.readouterr().err == ""
    with pytest.raises(IndexError):  # an error of the computation itself is not taken for a compile failure
        CompiledOrEager(lambda i: i[5], "an indexing", backend="eager")(torch.zeros(2))


@pytest.mark.parametrize("bf16", [False, True])
def test_the_memory_model_counts_what_backward_keeps(bf16):
    """model.step_bytes's activations against the bytes torch really saves for backward (the
    saved-tensor hooks, parameters left out), at shapes that vary depth, width, vocabulary and
    tokens; float32 and bf16 autocast, within 10%."""
    for L, d, V, T, b in ((2, 64, 512, 64, 8), (4, 64, 512, 64, 8), (2, 128, 512, 64, 8), (2, 64, 4096, 64, 8),
                          (3, 96, 1024, 128, 4)):
        torch.manual_seed(0)
        cfg = GPTConfig(block_size=T, vocab_size=V, n_layer=L, n_head=2, n_embd=d)
        m = GPT(cfg)
        params = {p.untyped_storage().data_ptr() for p in m.parameters()}
        seen, total = set(), [0]

        def pack(t):
            key = t.untyped_storage().data_ptr()
            if key not in seen and key not in params:
                seen.add(key)
                total[0] += t.untyped_storage().nbytes()
            return t

        x = torch.randint(V, (b, T))
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                m(x, x)
        n = m.num_params(False)
        model = step_bytes(cfg, n, b * T, bf16) - 16 * n - b * T * (6 if bf16 else 4) * V  # the saved part
        assert model == pytest.approx(total[0], rel=0.1), (L, d, V, T, b)
