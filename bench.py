"""
Training throughput of the ladder sizes: tokens/s, the fraction of the machine's matmul peak
(CPU: measured in the same invocation; GPU: MFU against peak_flops), and the ratio to a
reference run in the same invocation, so every speedup can be rechecked on any machine.
Prints a table; asserts nothing. The cost estimates in the configs come from its figures.

    python bench.py                                     # the CPU ladder, the CPU studies' 512-id vocabulary
    python bench.py --sizes=cpu-10k,cpu-85k --vocab=8192
    python bench.py --sizes=paper-5m,paper-27m,paper-314m --batch_size=32 --block_size=512 --compile=True
    python bench.py --groups=1,2,4,8 --sizes=cpu-1k,cpu-3k,cpu-10k,cpu-25k   # group.py against separate runs

The reference (CPU): the same steps in a child process with glibc's default allocator, i.e.
without model.tune_malloc, which is what a plain PyTorch training loop (nanoGPT's) gets.

--groups: S runs of a size trained as one computation (group.py's step: stack.py's forward, backward,
per-run clipping and AdamW) against the same S runs trained as S separate processes at the same time on
the same cores (cores // S threads each, at least one; started together, timed from a common start to the
last one's end): tokens/s in total and per run, their ratio, and the group's fraction of the peak.
"""

import json
import multiprocessing
import subprocess
import sys
import time
from contextlib import nullcontext

import torch

import stack
from configurator import at_least, configure
from finetune import cores
from model import GPT, LADDER, n_nonembed, preset, tune_malloc

# ----------------------------------------------------------------------------- settings
sizes = "cpu-1k,cpu-10k,cpu-85k,cpu-390k,cpu-1m"  # model.py ladder names
vocab = 512  # as the CPU studies use (padded to a multiple of 64, as train.py does)
block_size = 128
batch_size = 16
steps = 20  # timed steps, after 3 untimed ones
device = "auto"
compile = False
peak_flops = 989e12  # dense bf16 FLOP/s of one GPU (H100 SXM), for MFU
malloc = True  # tune the allocator as train.py and probe.py do (False: glibc's defaults)
reference = True  # CPU: also time each size with malloc=False in a child process, and print the ratio
json_out = False  # print one JSON line per size instead of the table (the reference run uses it)
groups = ""  # e.g. "1,2,4,8": the table of S runs as one computation against S separate runs, for each S
# -----------------------------------------------------------------------------


def matmul_peak(n=2048, reps=3, tries=5):
    """FLOP/s of a large fp32 matmul at this process's thread count, the best of a few tries:
    the CPU's practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(tries):
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - t0))
    return best


def tokens_per_second(size, dev, ctx):
    torch.manual_seed(0)
    raw = GPT(preset(size, vocab_size=(vocab + 63) // 64 * 64, block_size=block_size)).to(dev)
    model = torch.compile(raw) if compile else raw
    opt = raw.optimizer(1e-3, 0.1, (0.9, 0.95), "cuda" if dev.startswith("cuda") else "cpu")
    x = torch.randint(vocab, (batch_size, block_size), device=dev)
    for i in range(steps + 3):
        if i == 3:
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.time()
        with ctx:
            loss = model(x, x)[1]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    if dev.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch_size * block_size / (time.time() - t0), raw


def train_step(size, S, dev, ctx, shape, n_steps, seed=0, ready=lambda: None):
    """Seconds of n_steps training steps (after 3 untimed, then ready()) of S models of a size as one
    computation (S = 0: one plain GPT, as train.py steps it), with gradient clipping and AdamW."""
    vocab_, T, B = shape
    cfg = preset(size, vocab_size=(vocab_ + 63) // 64 * 64, block_size=T)
    models = []
    for k in range(max(S, 1)):
        torch.manual_seed(seed + k)
        models.append(GPT(cfg).to(dev))
    if S:
        params = stack.stack(models)
        opt = stack.StackedAdamW(params, S)
    else:
        opt = models[0].optimizer(1e-3, 0.1, (0.9, 0.95), "cuda" if dev.startswith("cuda") else "cpu")
    x = torch.randint(vocab_, (max(S, 1), B, T), device=dev)
    for i in range(n_steps + 3):
        if i == 3:
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            ready()
            t0 = time.perf_counter()
        with ctx:
            loss = stack.losses(params, cfg, x, x).sum() if S else models[0](x[0], x[0])[1]
        loss.backward()
        if S:
            stack.clip_(params, [1.0] * S)
            opt.step([1e-3] * S, [(0.9, 0.95)] * S, [0.1] * S)
            for p in params.values():
                p.grad = None
        else:
            torch.nn.utils.clip_grad_norm_(models[0].parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
    if dev.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t0, models[0].flops_per_token()


def separate_child(size, threads, shape, n_steps, seed, barrier, done):
    """One of S separate runs: a plain training loop of `threads` threads; reports when its steps ended."""
    torch.set_num_threads(threads)
    tune_malloc()
    train_step(size, 0, "cpu", nullcontext(), shape, n_steps, seed, ready=barrier.wait)  # timed steps start together
    done.put(time.perf_counter())


def separate(size, S, shape, n_steps):
    """Tokens/s in total of S separate CPU runs at the same time: S processes of cores // S threads."""
    ctx = multiprocessing.get_context("spawn")
    barrier, done = ctx.Barrier(S + 1), ctx.Queue()
    procs = [ctx.Process(target=separate_child, args=(size, max(1, cores() // S), shape, n_steps, k, barrier, done))
             for k in range(S)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    ends = [done.get() for _ in procs]
    for p in procs:
        p.join()
    return S * n_steps * shape[2] * shape[1] / (max(ends) - t0)


def group_table(dev, ctx, peak):
    shape = (vocab, block_size, batch_size)
    name = torch.cuda.get_device_name(0) if dev.startswith("cuda") else f"CPU, {cores()} cores"
    print(f"{name} | vocab {vocab} | context {block_size} | batch {batch_size} per run | torch {torch.__version__} | "
          f"peak {peak / 1e9:,.0f} GFLOP/s")
    print(f"{'size':<10}{'N':>8}{'S':>4}{'group tok/s':>13}{'per run':>10}{'separate tok/s':>16}{'per run':>10}"
          f"{'ratio':>8}{'group of peak':>15}")
    for size in sizes.split(","):
        for S in (int(s) for s in groups.split(",")):
            seconds, flops = train_step(size, S, dev, ctx, shape, steps)
            tps = S * steps * batch_size * block_size / seconds
            sep = separate(size, S, shape, steps) if not dev.startswith("cuda") else float("nan")
            n = n_nonembed(LADDER[size][0], LADDER[size][2])
            print(f"{size:<10}{n:>8,}{S:>4}{tps:>13,.0f}{tps / S:>10,.0f}{sep:>16,.0f}{sep / S:>10,.0f}"
                  f"{tps / sep:>7.2f}x{flops * tps / peak:>15.1%}", flush=True)


def main(argv):
    at_least("bench.py", configure(globals(), argv), dict(vocab=1, block_size=1, batch_size=1, steps=1))
    if malloc:
        tune_malloc()
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    cuda = dev.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    for size in sizes.split(","):
        if size not in LADDER:
            raise SystemExit(f"bench.py: unknown size {size}; choose from {', '.join(LADDER)}")
    peak = peak_flops if cuda else matmul_peak()
    if groups:
        group_table(dev, ctx, peak)
        return
    if not json_out:
        name = torch.cuda.get_device_name(0) if cuda else f"CPU, {torch.get_num_threads()} threads"
        print(f"{name} | vocab {vocab} | context {block_size} | batch {batch_size} | torch {torch.__version__} | "
              + (f"peak {peak / 1e12:.0f} TFLOP/s (peak_flops)" if cuda else
                 f"fp32 matmul peak {peak / 1e9:.0f} GFLOP/s (measured)"))
        ref_head = f"{'reference':>12}{'ratio':>8}" if reference and not cuda else ""
        print(f"{'size':<12}{'non-emb':>12}{'total':>12}{'tokens/s':>12}{'of peak':>9}{ref_head}{'h per 1B tokens':>17}")
    for size in sizes.split(","):
        tps, raw = tokens_per_second(size, dev, ctx)
        frac = raw.flops_per_token() * tps / peak
        if json_out:
            print(json.dumps(dict(size=size, tokens_per_s=tps, of_peak=frac)))
            continue
        ref = ""
        if reference and not cuda:  # the same steps with glibc's default allocator, in a fresh process
            child = subprocess.run([sys.executable, __file__, *argv, f"--sizes={size}", "--malloc=False",
                                    "--reference=False", "--json_out=True"], capture_output=True, text=True)
            ref_tps = json.loads(child.stdout.splitlines()[-1])["tokens_per_s"]
            ref = f"{ref_tps:>12,.0f}{tps / ref_tps:>7.2f}x"
        print(f"{size:<12}{raw.num_params():>12,}{raw.num_params(False):>12,}{tps:>12,.0f}{frac:>9.1%}{ref}"
              f"{1e9 / tps / 3600:>17,.1f}")
        del raw


if __name__ == "__main__":
    main(sys.argv[1:])
