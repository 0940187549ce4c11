"""
Where the time of a group step goes on a CPU: torch.profiler over the forward and backward of S runs as
one computation (stack.losses), the operators by their share of the time. What bench.py --groups
measures in tokens/s, split by operator: a share that grows with S is work per token, which batching
cannot remove.

    python tools/profile_group.py --size=cpu-10k --S=4
"""

import argparse
import sys
from pathlib import Path

import torch
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import stack  # noqa: E402
from model import GPT, preset, tune_malloc  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--size", default="cpu-10k")
    ap.add_argument("--S", type=int, default=4, help="runs as one computation")
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--top", type=int, default=8, help="operators printed")
    a = ap.parse_args(argv)
    tune_malloc()
    cfg = preset(a.size, vocab_size=(a.vocab + 63) // 64 * 64, block_size=128)
    params = stack.stack([GPT(cfg) for _ in range(a.S)])
    x = torch.randint(a.vocab, (a.S, 16, 128))
    for _ in range(3):
        stack.losses(params, cfg, x, x).sum().backward()
    with profile() as p:
        for _ in range(a.steps):
            stack.losses(params, cfg, x, x).sum().backward()
    events = sorted(p.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    print(f"{a.size}, S={a.S}, {torch.get_num_threads()} threads: {total / a.steps / 1e3:.1f} ms a forward and backward")
    for e in events[:a.top]:
        print(f"  {e.self_cpu_time_total / total:6.1%}  {e.key}")


if __name__ == "__main__":
    main()
