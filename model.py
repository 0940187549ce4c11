"""
The GPT of the study: a GPT-2-style decoder-only transformer.

- GPTConfig / GPT: pre-LayerNorm blocks, causal self-attention through
  scaled_dot_product_attention, GELU MLP, learned positions, tied input/output
  embeddings by default. forward(idx, targets=None) -> (logits, loss).
- Parameter counts: total and non-embedding. The scaling laws of the study are
  stated in non-embedding parameters N: everything except the token embedding,
  the position embedding and (when untied) the output head, i.e. the parameters
  that do not depend on the vocabulary or the context length. For L layers of
  width d with biases, N = L * (12 d^2 + 13 d) + 2 d.
- LADDER: named sizes by N, from CPU-sized micro models to the paper's 314M.
  `python model.py --vocab 8192` prints it.
- LoRA adapters (add_lora) and layer freezing (train_only_last) for the probe.
- tune_malloc: the allocator setting that train, probe and bench make at start-up on CPU.
- Checkpoint files: save_file writes any .pt atomically and returns its sha256; read_file
  checks a file against the sha256 in its JSON sidecar and refuses, in one line naming the
  file, one that is damaged, truncated or holds pickled objects; load_checkpoint rebuilds a
  model from a checkpoint (weights only); save_state / load_state keep train.py's resumable
  states (the newest two; a damaged one set aside); write_json writes any sidecar atomically.
"""

import argparse
import ctypes
import errno
import hashlib
import io
import json
import math
import os
import pickle
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

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


# name -> (n_layer, n_head, n_embd); the name is the approximate non-embedding size.
LADDER = {
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
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))
        return logits, loss

    def flops_per_token(self):
        """Training FLOPs per token (forward + backward), as in the PaLM appendix."""
        cfg = self.config
        return 6 * self.num_params(non_embedding=False) + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size

    def optimizer(self, lr, weight_decay, betas, device_type):
        return adamw([p for p in self.parameters() if p.requires_grad], lr, weight_decay, betas, device_type)


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


# ----------------------------------------------------------------------------
# Checkpoint files: {"model_args": dict of GPTConfig, "model": state_dict of the plain module, ...}.
# Every .pt is written by save_file and read by read_file. The sha256 of its bytes is recorded
# in its JSON sidecar (the same name with .json, written after it by the caller), so a damaged
# file is found on load instead of being trained, probed or resumed from.


class CheckpointError(SystemExit):
    """A checkpoint file that cannot be trusted or written: the message names it."""


def disk_error(e: OSError, path):
    """One line for a failed write: a full disk says so."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return CheckpointError(f"disk full while writing {path} ({e.strerror}); nothing was left half-written; "
                               "fix: free space on that disk, then rerun the same command to resume")
    return CheckpointError(f"cannot write {path}: {e.strerror or e}")


def write_json(path, obj):
    """Write JSON atomically (a sidecar, a record): a temporary name unique to this process, then
    rename. A failed write (a full disk) removes the temporary file and leaves path as it was."""
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=1))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_file(obj, path):
    """torch.save obj to path: serialised in memory, written under a temporary name, read back
    and compared, then renamed over path. Returns the sha256 of the bytes on disk. A failed
    write (a full disk) removes the temporary file and leaves path as it was."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if hashlib.sha256(tmp.read_bytes()).hexdigest() != digest:
            raise CheckpointError(f"{tmp} does not read back as written; the disk may be failing")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise disk_error(e, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest


def read_file(path, map_location="cpu"):
    """The dict saved at path, checked against the sha256 recorded in its sidecar (files written
    before checksums existed have none and are only parsed). Only plain tensors and containers
    are accepted (weights_only=True): a pickled object is refused and nothing in it is run."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    sidecar = path.with_suffix(".json")
    try:
        want = json.loads(sidecar.read_text()).get("sha256")
    except (OSError, ValueError):
        want = None
    if want is not None and hashlib.sha256(data).hexdigest() != want:
        raise CheckpointError(f"{path} is damaged: its sha256 differs from the one recorded in {sidecar.name} "
                              f"when it was written ({len(data):,} bytes now)")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path} is not a plain-tensor checkpoint (it holds pickled objects); "
                              "it was not loaded and nothing in it was run") from None
    except (RuntimeError, EOFError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path} is damaged (truncated or corrupt: {str(e).splitlines()[0][:80]})") from None


def checkpoint_dict(model: GPT):
    return {"model_args": asdict(model.config), "model": model.state_dict()}


def load_checkpoint(path, device="cpu"):
    """Build a GPT from a checkpoint written by train.py, verified by read_file."""
    ckpt = read_file(path, map_location=device)
    model = GPT(GPTConfig(**ckpt["model_args"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device)


def save_state(out, state):
    """A run's resumable state (train.py): out/state/step_XXXXXXX.pt and its sidecar; then the
    older states but the previous one go."""
    name = out / "state" / f"step_{state['step']:07d}"
    sha = save_file(state, name.with_suffix(".pt"))
    write_json(name.with_suffix(".json"), dict(step=state["step"], sha256=sha, time=time.time()))
    for old in sorted((out / "state").glob("step_*.json"))[:-2]:
        old.unlink()  # the sidecar first: a state without one is never resumed from
        old.with_suffix(".pt").unlink(missing_ok=True)


def load_state(out, dev, master=True):
    """The newest intact resumable state, or None when there is none yet. A damaged one is
    renamed *.damaged by the master process (kept for inspection) and the one before it is
    tried; every process makes the same choice."""
    states = sorted((out / "state").glob("step_*.json"), reverse=True)
    for card in states:
        try:
            return read_file(card.with_suffix(".pt"), map_location=dev)
        except CheckpointError as e:
            if master:
                print(f"train.py: {e}; set aside as *.damaged, trying the state before it", file=sys.stderr)
                for p in (card.with_suffix(".pt"), card):
                    os.replace(p, f"{p}.damaged")
    if states:
        raise SystemExit(f"train.py: no intact resumable state in {out}/state (all {len(states)} damaged); "
                         "fix: start again in a new out_dir")
    return None


def main():
    ap = argparse.ArgumentParser(description="Print the size ladder.")
    ap.add_argument("--vocab", type=int, default=8192, help="vocabulary size (8192 compact, 100277 full cl100k)")
    ap.add_argument("--block_size", type=int, default=256)
    args = ap.parse_args()
    print(f"{'name':<12}{'layers':>7}{'heads':>6}{'width':>7}{'non-embedding':>16}{'total':>14}")
    for name in LADDER:
        cfg = preset(name, vocab_size=args.vocab, block_size=args.block_size)
        with torch.device("meta"):  # count without allocating memory
            m = GPT(cfg)
        print(f"{name:<12}{cfg.n_layer:>7}{cfg.n_head:>6}{cfg.n_embd:>7}"
              f"{m.num_params():>16,}{m.num_params(non_embedding=False):>14,}")


if __name__ == "__main__":
    main()
