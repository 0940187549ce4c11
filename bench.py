"""
Training throughput of the ladder sizes: tokens/s, and MFU on a GPU. Prints a table; asserts
nothing. The cost estimates in the configs come from its figures.

    python bench.py                                     # CPU sizes, 8k vocabulary
    python bench.py --sizes=5m,10m,20m,40m,85m,150m,314m --batch_size=32 --block_size=512 --compile=True
"""

import sys
import time
from contextlib import nullcontext

import torch

from configurator import configure
from model import GPT, LADDER, preset, tune_malloc

sizes = "micro-12k,micro-25k,micro-100k,micro-400k,micro-1m"
vocab = 8192  # padded to a multiple of 64, as train.py does
block_size = 128
batch_size = 16
steps = 20  # timed steps, after 3 untimed ones
device = "auto"
compile = False
peak_flops = 989e12  # dense bf16 FLOP/s of one GPU (H100 SXM), for MFU


def main(argv):
    configure(globals(), argv)
    tune_malloc()
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    cuda = dev.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    name = torch.cuda.get_device_name(0) if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"{name} | vocab {vocab} | context {block_size} | batch {batch_size} | torch {torch.__version__}")
    print(f"{'size':<12}{'non-emb':>12}{'total':>12}{'tokens/s':>12}{'MFU':>8}{'h per 1B tokens':>18}")
    for size in sizes.split(","):
        if size not in LADDER:
            raise SystemExit(f"bench.py: unknown size {size}; choose from {', '.join(LADDER)}")
        torch.manual_seed(0)
        raw = GPT(preset(size, vocab_size=(vocab + 63) // 64 * 64, block_size=block_size)).to(dev)
        model = torch.compile(raw) if compile else raw
        opt = raw.optimizer(1e-3, 0.1, (0.9, 0.95), "cuda" if cuda else "cpu")
        x = torch.randint(vocab, (batch_size, block_size), device=dev)
        for i in range(steps + 3):
            if i == 3:
                if cuda:
                    torch.cuda.synchronize()
                t0 = time.time()
            with ctx:
                loss = model(x, x)[1]
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        tps = steps * batch_size * block_size / (time.time() - t0)
        mfu = f"{raw.flops_per_token() * tps / peak_flops:.1%}" if cuda else "-"
        print(f"{size:<12}{raw.num_params():>12,}{raw.num_params(False):>12,}{tps:>12,.0f}{mfu:>8}{1e9 / tps / 3600:>18,.1f}")
        del model, raw, opt


if __name__ == "__main__":
    main(sys.argv[1:])
