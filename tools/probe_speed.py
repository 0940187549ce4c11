"""How fast probe.py fine-tunes at one size, each way it can: sequential, batched, and batched
through torch.compile, cold (the first probe of a process: the compile is paid), warm (a
later probe in the same process, as in a sweep's worker) and cached (a new process, `python
probe.py`, start-up included, whose compile finds torch's on-disk caches that the cold one
filled). One short run, each probe timed as a whole; the table gives the ratio to the
sequential probe and how far each path's curves are from the sequential ones.

    PYTHONPATH=. python tools/probe_speed.py --text=.gpu/wiki           # 5m, as on a GPU
    PYTHONPATH=. python tools/probe_speed.py --text=../shared/corpus/wiki --vocab=512 \\
        --model=micro-25k --block_size=128 --probe_batch_size=8 --probe_steps=60 --device=cpu

--text: a directory of <lang>.txt(.xz) files (the shared corpus's wiki folder), built once into
data/<corpus>. Arms can be left out with --arms; the run and the probes go to --out.
Run from the repository root.
"""
import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--text", required=True)
ap.add_argument("--corpus", default="")  # default: wiki<vocab>
ap.add_argument("--vocab", type=int, default=8192)
ap.add_argument("--model", default="5m")
ap.add_argument("--block_size", type=int, default=256)
ap.add_argument("--batch_size", type=int, default=32)
ap.add_argument("--max_tokens", type=int, default=2_000_000)
ap.add_argument("--n_ckpt", type=int, default=7)  # log-spaced, and step 0
ap.add_argument("--seeds", default="0,1,2")
ap.add_argument("--probe_steps", type=int, default=100)
ap.add_argument("--probe_batch_size", type=int, default=32)
ap.add_argument("--members", type=int, default=24)
ap.add_argument("--device", default="auto")
ap.add_argument("--arms", default="sequential,batched,compiled_cold,compiled_warm,compiled_cached")
ap.add_argument("--out", default="out/probe_speed")
a = ap.parse_args()

# the compile arms start cold: torch's on-disk compile caches in a fresh folder, which the
# cached arm's new process then finds (set before torch is imported)
CACHE = Path(a.out) / "compile_cache"
shutil.rmtree(CACHE, ignore_errors=True)
os.environ["TORCHINDUCTOR_CACHE_DIR"], os.environ["TRITON_CACHE_DIR"] = str(CACHE / "inductor"), str(CACHE / "triton")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import probe  # noqa: E402
import train  # noqa: E402

corpus, out = a.corpus or f"wiki{a.vocab}", Path(a.out)
dev = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
print(f"{torch.cuda.get_device_name() if dev == 'cuda' else 'CPU'} | torch {torch.__version__} | {a.model} | "
      f"vocab {a.vocab} | probes of {a.probe_steps} steps of {a.probe_batch_size}x{a.block_size}", flush=True)

t0 = time.time()
if not (Path("data") / corpus).exists():
    subprocess.run([sys.executable, "data.py", "textdir", "--path", a.text, "--name", corpus, "--vocab", str(a.vocab),
                    "--out", "data"], check=True, stdout=subprocess.DEVNULL)
run = out / "run"
shutil.rmtree(run, ignore_errors=True)
with contextlib.redirect_stdout(io.StringIO()):
    train.main([f"--out_dir={run}", f"--corpus={corpus}", f"--model={a.model}", f"--block_size={a.block_size}",
               f"--batch_size={a.batch_size}", f"--max_tokens={a.max_tokens}", "--ckpt_schedule=log",
               f"--n_ckpt={a.n_ckpt}", "--lr=1e-3", f"--warmup_tokens={a.max_tokens // 10}", "--eval_batches=2",
               f"--device={dev}"])
n_ckpt = len(list((run / "ckpt").glob("step_*.json")))
print(f"corpus and run ready in {time.time() - t0:.1f} s: {n_ckpt} checkpoints x {len(a.seeds.split(','))} seeds",
      flush=True)

common = [f"--probe_steps={a.probe_steps}", f"--probe_batch_size={a.probe_batch_size}",
          f"--eval_every={a.probe_steps // 4}", f"--seeds={a.seeds}", "--eval_batches=4", "--forget_batches=1",
          "--n_boot=100", f"--device={dev}", "--workers=1"]
extra = {"sequential": [], "batched": ["--batched=True", f"--members={a.members}"]}
extra["compiled_cold"] = extra["compiled_warm"] = extra["compiled_cached"] = [*extra["batched"], "--compile=True"]
rows, curves = [], {}
for arm in a.arms.split(","):
    d = out / arm
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(run, d, ignore=shutil.ignore_patterns("probe.jsonl", "onset.json", "probe.png"))
    if dev == "cuda":
        torch.cuda.synchronize()
    t = time.time()
    if arm == "compiled_cached":
        subprocess.run([sys.executable, "probe.py", f"--run_dir={d}", *common, *extra[arm]], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            probe.main([f"--run_dir={d}", *common, *extra[arm]])
    if dev == "cuda":
        torch.cuda.synchronize()
    wall = time.time() - t
    recs = sorted((json.loads(ln) for ln in (d / "probe.jsonl").read_text().splitlines()),
                  key=lambda r: (r["ckpt_step"], r["seed"]))
    curves[arm] = np.array([r["curve"] for r in recs])
    rows.append((arm, wall, len(recs)))
    print(f"{arm}: {wall:.1f} s", flush=True)

base = dict((arm, wall) for arm, wall, _ in rows).get("sequential")
print(f"\n{'arm':<16} {'wall s':>8} {'fine-tunes':>10} {'s each':>7} {'vs sequential':>13} {'max |curve - seq|':>18}")
for arm, wall, n in rows:
    ratio = f"{base / wall:.2f}x" if base else "-"
    diff = (f"{np.abs(curves[arm] - curves['sequential']).max():.4f}"
            if "sequential" in curves and curves[arm].shape == curves["sequential"].shape else "-")
    print(f"{arm:<16} {wall:>8.1f} {n:>10} {wall / n:>7.2f} {ratio:>13} {diff:>18}")
