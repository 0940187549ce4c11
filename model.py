"""
The GPT of the study: a GPT-2-style decoder-only transformer, and its sizes.

- GPTConfig / GPT: pre-LayerNorm blocks, causal self-attention through
  scaled_dot_product_attention, GELU MLP (4x), learned positions, tied input/output
  embeddings by default. forward(idx, targets=None) -> (logits, loss).
- Parameter counts: total and non-embedding. The scaling laws of the study are
  stated in non-embedding parameters N: everything except the token embedding,
  the position embedding and (when untied) the output head, i.e. the parameters
  that do not depend on the vocabulary or the context length. For L layers of
  width d with biases, N = L * (12 d^2 + 13 d) + 2 d.
- The ladders (`python model.py` prints them with N, shape and learning rate):
  PAPER_LADDER, the paper's eight sizes (5M to 314M, d_model / n_layer about 80, head
  dimension 64); CPU_LADDER, about 1k to 1M, depth and width grown together (d / n_layer 8 to 16,
  16 from 25k on); LEGACY, the names of earlier studies, kept so that their runs resume
  and their commands still work. ladder_lr: the paper's learning rates, 3e-3 at 5M to 1e-3
  at 314M, interpolated in log N (held at the end values outside that range).
- LoRA adapters (add_lora) and layer freezing (train_only_last) for the probe.
- step_bytes: the memory of a training or fine-tuning step, for plans and for fitting batched probes.
- tune_malloc: the allocator setting that train, probe and bench make at start-up on CPU.
Checkpoint files (saving, checking, resuming) are in checkpoint.py.
"""

import argparse
import ctypes
import math
import sys
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


def tune_malloc():
    """Keep freed memory for reuse instead of handing it back to the kernel (glibc only; a no-op
    elsewhere). A micro model's logits (a 16x128 batch at vocabulary 8192: 64 MB) are above
    glibc's mmap threshold, so by default every step maps them afresh and the kernel faults
    each page in again: tens of thousands of page faults per step, system time close to user
    time. Allocating them from the heap and never trimming it doubles the micro models' speed
    on CPU (`python bench.py`); the numbers are bit-identical."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


@dataclass
class GPTConfig:
    block_size: int = 128
    vocab_size: int = 8192
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True
    tie_weights: bool = True


# name -> (n_layer, n_head, n_embd); a name is the approximate non-embedding size N.
# The paper's sizes (Hernandez-Garcia et al. 2026, as two readings of it report them): d_model / n_layer
# about 80, head dimension 64, MLP 4x.
PAPER_LADDER = {
    "paper-5m": (4, 5, 320),
    "paper-12m": (5, 7, 448),
    "paper-27m": (7, 9, 576),
    "paper-39m": (8, 10, 640),
    "paper-53m": (9, 11, 704),
    "paper-83m": (10, 13, 832),
    "paper-106m": (11, 14, 896),
    "paper-314m": (16, 20, 1280),
}
# Below them, for CPUs: depth and width together (d / n_layer 8 to 16; the paper's 80 would
# need d >= 80 at one layer), head dimension 8 up to d = 32, 16 above; under 1k only width can
# shrink (one layer, one head).
CPU_LADDER = {
    "cpu-500": (1, 1, 6),
    "cpu-1k": (1, 1, 8),
    "cpu-3k": (1, 2, 16),
    "cpu-10k": (2, 2, 20),
    "cpu-25k": (2, 4, 32),
    "cpu-85k": (3, 3, 48),
    "cpu-200k": (4, 4, 64),
    "cpu-390k": (5, 5, 80),
    "cpu-670k": (6, 6, 96),
    "cpu-1m": (7, 7, 112),
}
# The names of earlier studies (width grown at one or two layers; the GPU names of an older ladder), kept
# so that their committed runs resume and their configs run; new studies use the ladders above.
LEGACY = {
    "micro-500": (1, 1, 6),
    "micro-700": (1, 1, 7),
    "micro-1k": (1, 1, 8),
    "micro-1.1k": (1, 1, 9),
    "micro-1.3k": (1, 1, 10),
    "micro-1.6k": (1, 1, 11),
    "micro-1.9k": (1, 1, 12),
    "micro-3k": (1, 2, 16),
    "micro-12k": (1, 2, 32),
    "micro-25k": (2, 2, 32),
    "micro-100k": (2, 4, 64),
    "micro-400k": (5, 4, 80),
    "micro-1m": (4, 4, 144),
    "5m": (6, 4, 256),
    "10m": (8, 5, 320),
    "20m": (12, 6, 384),
    "40m": (12, 8, 512),
    "85m": (12, 12, 768),
    "150m": (16, 14, 896),
    "314m": (25, 16, 1024),
}
LADDER = {**CPU_LADDER, **PAPER_LADDER, **LEGACY}


def n_nonembed(n_layer, n_embd, bias=True):
    """N of a shape without building it: L (12 d^2 + 13 d) + 2 d with biases (L 12 d^2 + 2 d without)."""
    return n_layer * (12 * n_embd ** 2 + (13 * n_embd if bias else 0)) + 2 * n_embd


def n_total(cfg):
    """All parameters of a GPTConfig without building it: N, the token and position embeddings, and
    an untied output layer."""
    d = cfg.n_embd
    return n_nonembed(cfg.n_layer, d, cfg.bias) + (cfg.vocab_size * (1 if cfg.tie_weights else 2) + cfg.block_size) * d


def ladder_lr(n):
    """The paper's learning rate for N non-embedding parameters: 3e-3 at its 5M size, 1e-3 at its 314M,
    linear in log N between them and held at the end values outside."""
    lo, hi = (n_nonembed(L, d) for L, _, d in (PAPER_LADDER["paper-5m"], PAPER_LADDER["paper-314m"]))
    frac = min(max(math.log(n / lo) / math.log(hi / lo), 0.0), 1.0)
    return 3e-3 * (1e-3 / 3e-3) ** frac


def preset(name, **overrides):
    """GPTConfig for a ladder size; overrides (block_size, vocab_size, ...) pass through."""
    if name not in LADDER:
        raise ValueError(f"unknown model size {name!r}; choose one of {', '.join(LADDER)}")
    n_layer, n_head, n_embd = LADDER[name]
    return GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, **overrides)


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's has no bias=False before 2.1)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0, "n_embd must be a multiple of n_head"
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head, self.dropout = cfg.n_head, cfg.dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = LayerNorm(cfg.n_embd, cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg.n_embd, cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
                wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
                drop=nn.Dropout(cfg.dropout),
                h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
                ln_f=LayerNorm(cfg.n_embd, cfg.bias),
            )
        )
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 * n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def init_value(self, name, generator):
        """A fresh draw of parameter `name` from the distribution __init__ gives it (on the CPU
        generator, then moved to the parameter's device): what mitigations re-initialise with."""
        p = self.get_parameter(name)
        if name.endswith("bias") or name.endswith("ln_1.weight") or name.endswith("ln_2.weight") \
                or name.endswith("ln_f.weight"):
            value = torch.ones(p.shape) if name.endswith("weight") else torch.zeros(p.shape)
        else:
            std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
            value = torch.randn(p.shape, generator=generator) * std
        return value.to(device=p.device, dtype=p.dtype)

    def num_params(self, non_embedding=True):
        """Total parameters (each tensor once), or the non-embedding count N."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wte.weight.numel() + self.transformer.wpe.weight.numel()
            if not self.config.tie_weights:
                n -= self.lm_head.weight.numel()
        return n

    def hidden(self, idx):
        """The final hidden states (after the last LayerNorm) of token ids idx (B, T)."""
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than block_size {self.config.block_size}")
        pos = torch.arange(T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.hidden(idx))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(upcast(logits.reshape(-1, logits.size(-1))), targets.reshape(-1))
        return logits, loss

    def flops_per_token(self):
        """Training FLOPs per token (forward + backward), as in the PaLM appendix."""
        cfg = self.config
        return 6 * self.num_params(non_embedding=False) + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size

    def optimizer(self, lr, weight_decay, betas, device_type):
        return adamw([p for p in self.parameters() if p.requires_grad], lr, weight_decay, betas, device_type)


def upcast(logits):
    """Logits for the loss: float32 under a half-precision autocast (the softmax in float32), else as
    they are (float64 stays float64: the equivalence tests compute in it)."""
    return logits.float() if logits.dtype in (torch.bfloat16, torch.float16) else logits


def compile_failed(e):
    """Whether an exception is torch.compile failing to build (no C compiler, no Python headers, a
    backend error), as opposed to an error of the computation itself."""
    return isinstance(e, Exception) and type(e).__module__.startswith(("torch._dynamo", "torch._inductor"))


class CompiledOrEager(nn.Module):
    """fn (a module or a function) through torch.compile, and fn itself from the first call on
    which compiling fails: a warning names why, and the run goes on eagerly (slower, the same
    computation). A module's parameters are this one's, so DDP can wrap it; its state is saved
    from the module itself. Compiling happens on the first call, so that is where it can fail
    (the backward graph is built on the first backward: a failure there is not caught)."""

    def __init__(self, fn, what, backend=None):
        super().__init__()
        if isinstance(fn, nn.Module):
            self.module = fn
        compiled = torch.compile(fn) if backend is None else torch.compile(fn, backend=backend)  # None: inductor
        self.__dict__.update(eager=fn, compiled=compiled, what=what, fell_back=False)

    def forward(self, *args, **kwargs):
        if not self.fell_back:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as e:
                if not compile_failed(e):
                    raise
                self.fell_back = True
                cause = getattr(e, "inner_exception", None) or e.__cause__ or e  # the backend's own error
                why = f"{type(cause).__name__}: {(str(cause).strip().splitlines() or [''])[0][:200]}"
                print(f"warning: torch.compile could not build {self.what} ({why}): running it eagerly, slower; "
                      "fix: install a C compiler and the Python headers (python3-dev), or set compile=False",
                      file=sys.stderr, flush=True)
        return self.eager(*args, **kwargs)


def step_bytes(cfg, n_params, tokens, bf16=True):
    """Bytes one training step of this GPT holds at its peak, for `tokens` tokens in the step (a
    micro-batch): the float32 weights, gradients and AdamW's two moments (16 per parameter), the
    activations saved for backward, and the gradient of the logits made at the start of backward.
    The activation coefficients were counted on a CPU with torch's saved-tensor hooks (the test
    checks them): per token, float32 keeps 16 d numbers per layer, 2 d more and the vocabulary
    once (the log-softmax); bf16 autocast keeps 36 d bytes per layer, 14 d, 4 bytes per vocabulary
    id (its log-softmax in float32) and a bf16 copy of the weights. Not counted: the CUDA context
    and the caching allocator's slack (leave a tenth of the device free)."""
    d, L, V = cfg.n_embd, cfg.n_layer, cfg.vocab_size
    if bf16:
        return 16 * n_params + 2 * n_params + tokens * (L * 36 * d + 14 * d + 4 * V) + tokens * 6 * V
    return 16 * n_params + tokens * 4 * (L * 16 * d + 2 * d + V) + tokens * 4 * V


def adamw(params, lr, weight_decay, betas, device_type, matrix_dim=2):
    """AdamW; weight decay on matrices only (not on biases, norms); fused on CUDA. matrix_dim:
    the dimensions of a matrix (3 for weights stacked along a first axis, finetune_batched's)."""
    groups = [
        {"params": [p for p in params if p.dim() >= matrix_dim], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < matrix_dim], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=device_type == "cuda")


@torch.no_grad()
def estimate_loss(model, batches, ctx=None):
    """{name: mean loss over its list of (x, y) batches}, in eval mode (no dropout); the
    batches may live on another device than the model."""
    was_training = model.training
    dev = next(model.parameters()).device
    model.eval()
    out = {}
    for name, bs in batches.items():
        total = 0.0
        for x, y in bs:
            with ctx or nullcontext():
                total += model(x.to(dev), y.to(dev))[1].item()
        out[name] = total / len(bs)
    model.train(was_training)
    return out


# ----------------------------------------------------------------------------
# Fine-tuning modes used by the probe: LoRA adapters and training only the last blocks.


class LoRALinear(nn.Module):
    """A frozen Linear plus a trainable low-rank update B @ A, scaled by alpha / rank.
    B starts at zero, so the wrapped layer starts out computing exactly what it did."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale


def add_lora(model: GPT, rank: int, alpha: float = None):
    """Freeze the model and wrap every attention and MLP matrix with a LoRA adapter.
    Returns the number of trainable parameters."""
    alpha = float(rank) if alpha is None else alpha
    for p in model.parameters():
        p.requires_grad_(False)
    for block in model.transformer.h:
        for parent, name in ((block.attn, "c_attn"), (block.attn, "c_proj"), (block.mlp, "c_fc"), (block.mlp, "c_proj")):
            base = getattr(parent, name)
            lora = LoRALinear(base, rank, alpha).to(base.weight.device)
            setattr(parent, name, lora)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_only_last(model: GPT, k: int):
    """Freeze everything but the last k blocks (and the final LayerNorm). Returns trainable count."""
    if not 1 <= k <= model.config.n_layer:
        raise ValueError(f"last-k fine-tuning needs 1 <= k <= n_layer={model.config.n_layer}, got {k}")
    for p in model.parameters():
        p.requires_grad_(False)
    for module in list(model.transformer.h)[-k:] + [model.transformer.ln_f]:
        for p in module.parameters():
            p.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print the model sizes: the paper's ladder, the CPU ladder and the "
                                 "earlier names, with N (non-embedding parameters), shape and learning rate.")
    ap.add_argument("--vocab", type=int, default=512, help="vocabulary size for the total count (512: the CPU "
                    "studies' compact vocabulary; 151680: the paper's Qwen3 tokenizer)")
    ap.add_argument("--block_size", type=int, default=128, help="context length for the total count")
    ap.add_argument("--legacy", action="store_true", help="also print the names of earlier studies")
    args = ap.parse_args(argv)
    ladders = [("the paper's sizes (d_model / n_layer about 80, head dimension 64)", PAPER_LADDER),
               ("the CPU ladder (depth and width together)", CPU_LADDER)]
    if args.legacy:
        ladders.append(("earlier names (kept for the committed studies)", LEGACY))
    for title, ladder in ladders:
        print(f"{title}:")
        print(f"  {'name':<12}{'layers':>7}{'heads':>6}{'width':>7}{'d/L':>6}{'N':>15}{'total':>15}{'lr':>9}")
        for name in ladder:
            cfg = preset(name, vocab_size=args.vocab, block_size=args.block_size)
            with torch.device("meta"):  # count without allocating memory
                m = GPT(cfg)
            print(f"  {name:<12}{cfg.n_layer:>7}{cfg.n_head:>6}{cfg.n_embd:>7}{cfg.n_embd / cfg.n_layer:>6.0f}"
                  f"{m.num_params():>15,}{m.num_params(non_embedding=False):>15,}{ladder_lr(m.num_params()):>9.2e}")
    if not args.legacy:
        print(f"(--legacy: also the {len(LEGACY)} names of earlier studies, micro-500 .. 314m)")


if __name__ == "__main__":
    main()
