"""probe.py with its batched fine-tunes run one other way, each batched job timed:

    python tools/batched_variants.py VARIANT --run_dir=... <probe.py settings> --batched=True

VARIANT: default; MATH, EFFICIENT_ATTENTION or FLASH_ATTENTION (the attention backend forced);
explicit (attention written out, so that vmap batches its backward); compile or
compile_explicit (the batched step and evaluation through torch.compile); profile (torch.profiler
tables of the first job). Run from the repository root with PYTHONPATH=. ."""
import sys
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import finetune
import model
import probe

T0 = time.time()
variant, argv = sys.argv[1], sys.argv[2:]
plain = finetune.finetune_batched
if variant.startswith("compile"):  # finetune_batched builds its step with vmap: compile what it builds
    finetune.vmap = lambda *a, **k: torch.compile(torch.func.vmap(*a, **k))


def explicit_attention(self, x):
    B, T, C = x.shape
    q, k, v = self.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
    att = (q @ k.transpose(-2, -1)) * (1.0 / (k.size(-1) ** 0.5))
    causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
    att = F.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
    return self.resid_dropout(self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C)))


def timed(*args, **kwargs):
    t0 = time.time()
    print(f"[{variant}] job starts {t0 - T0:.2f} s after start-up", flush=True)
    if variant.endswith("explicit"):
        model.CausalSelfAttention.forward = explicit_attention
    if variant == "profile":
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            out = plain(*args, **kwargs)
        for key in ("cuda_time_total", "cpu_time_total"):
            print(prof.key_averages().table(sort_by=key, row_limit=30, max_name_column_width=60))
    elif hasattr(SDPBackend, variant):
        with sdpa_kernel(getattr(SDPBackend, variant)):
            out = plain(*args, **kwargs)
    else:
        out = plain(*args, **kwargs)
    torch.cuda.synchronize()
    print(f"[{variant}] batched job of {len(args[0])} members: {time.time() - t0:.2f} s", flush=True)
    return out


finetune.finetune_batched = timed
probe.main(argv)
