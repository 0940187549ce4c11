"""
The first slice of config/paper-1gpu.py, as one command of at most 8 minutes on one GPU: the
corpus, the first task of paper-5m on the paper's schedule (compiled, bf16), and the first probe
(the first task's end, a task-length fine-tune with 100 evaluations). It prints the device,
training throughput and MFU, the probe's curve and AUC, and the wall time of each part.

    python tools/gpu_smoke.py                                  # corpus from --text (default below)
    python tools/gpu_smoke.py --text=path/to/docs              # <lang>.txt[.xz] files, no network needed
    python tools/gpu_smoke.py --device=cpu --model=cpu-25k --block_size=128 --batch_size=8 \\
        --task_tokens=200000 --compile=0                       # the script itself, checked on a CPU

The corpus: data/<corpus> when it exists, else built from --text (the paper's eight languages and
vi; the shared docs corpus has them), else from synthetic text (the numbers then say nothing about
language, only about speed). Expected on one H100 (results/gpu/bench_paper.txt: 2.3M tokens/s at
5M parameters, 23% MFU): the corpus 1-2 min, compiling about 1 min, the task (10^8 tokens) under a
minute, the probe about as long: 4-5 minutes in all.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = ROOT.parent / "shared" / "corpus" / "docs"


def run(cmd):
    """Run a project script, its output shown as it comes; returns (wall seconds, output)."""
    print("$ " + " ".join(cmd), flush=True)
    t0, lines = time.time(), []
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        for line in p.stdout:
            print("  " + line, end="", flush=True)
            lines.append(line)
    if p.returncode:
        raise SystemExit(f"gpu_smoke.py: {cmd[1]} failed (exit {p.returncode}); its output is above")
    return time.time() - t0, "".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--text", default=str(DEFAULT_TEXT), help="text directory for the corpus when it is not built")
    ap.add_argument("--data_dir", default="data")
    ap.add_argument("--corpus", default="docs-paper", help="the corpus's name under data_dir")
    ap.add_argument("--vocab", type=int, default=32768, help="compact vocabulary size when building")
    ap.add_argument("--model", default="paper-5m")
    ap.add_argument("--block_size", type=int, default=1024)
    ap.add_argument("--batch_size", type=int, default=32)
    ap.add_argument("--task_tokens", type=float, default=1e8, help="tokens of the task and of the probe")
    ap.add_argument("--compile", type=int, default=1, help="1: torch.compile the training step")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="out/gpu-smoke", help="run directory (made afresh)")
    args = ap.parse_args(argv)
    task = int(args.task_tokens)
    t_all = time.time()

    corpus = Path(args.data_dir) / args.corpus
    t_data = 0.0
    if not (ROOT / corpus / "vocab.json").exists():
        text = Path(args.text)
        source = ["textdir", f"--path={text}"] if text.is_dir() else ["synthetic", "--mb=20"]
        if not text.is_dir():
            print(f"gpu_smoke.py: no text directory {text}: building synthetic languages (speed only)")
        t_data, _ = run([sys.executable, "data.py", *source, f"--name={args.corpus}", f"--out={args.data_dir}",
                         f"--vocab={args.vocab}"])
    langs = sorted(p.name for p in (ROOT / corpus).iterdir() if (p / "meta.json").exists())
    train_langs = [lang for lang in langs if lang != "vi"]

    out = ROOT / args.out
    if out.exists():
        import shutil

        shutil.rmtree(out)  # a smoke test starts afresh
    tokens_per_step = args.batch_size * args.block_size
    t_train, log = run([sys.executable, "train.py", f"--data_dir={args.data_dir}", f"--corpus={args.corpus}",
                        f"--out_dir={args.out}", f"--model={args.model}", f"--block_size={args.block_size}",
                        f"--batch_size={args.batch_size}", f"--task_tokens={task}", f"--max_tokens={task}",
                        "--lr=0", f"--warmup_tokens={100 * tokens_per_step}", "--restart_at_task=True",
                        "--ckpt_schedule=tasks", "--n_ckpt=1", "--save_every=100000",
                        f"--log_every={max(1, task // tokens_per_step // 10)}", "--eval_batches=4",
                        f"--compile={bool(args.compile)}", f"--device={args.device}"])
    speeds = [float(s.replace(",", "")) for s in re.findall(r"\| ([\d,]+) tok/s", log)]
    mfus = re.findall(r"mfu ([\d.]+)%", log)
    t_probe, _ = run([sys.executable, "probe.py", f"--run_dir={args.out}", "--seeds=0", "--eval_batches=4",
                      "--forget_batches=1", "--n_boot=100", f"--device={args.device}"])
    cfg = json.loads((out / "config.json").read_text())
    recs = [json.loads(ln) for ln in (out / "probe.jsonl").read_text().splitlines()]
    first = min((r for r in recs if r["ckpt_step"] > 0), key=lambda r: r["ckpt_step"])
    scratch = next(r for r in recs if r["ckpt_step"] == 0)

    import torch

    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() and args.device != "cpu" else "cpu"
    print(f"\n== gpu_smoke: {dev}, torch {torch.__version__}")
    print(f"corpus {corpus}: {', '.join(train_langs)} + vi; built in {t_data:.0f} s" if t_data else
          f"corpus {corpus}: {', '.join(train_langs)} + vi (already built)")
    print(f"train: {args.model} (N = {cfg['n_nonembed']:,}), lr {cfg['peak_lr']:.2e}, {task:,} tokens (one task) in "
          f"{t_train:.0f} s wall; throughput {speeds[-1] if speeds else float('nan'):,.0f} tokens/s (last print)"
          + (f", MFU {mfus[-1]}%" if mfus else ", MFU: not on a GPU"))
    for r, name in ((scratch, "from scratch (step 0)"), (first, f"the first task's end ({first['tokens']:,} tokens)")):
        print(f"probe, {name}: {r['probe_steps']} steps, {len(r['eval_steps'])} evaluations; loss "
              f"{r['zero_shot']:.3f} -> {r['final']:.3f}; AUC {r['auc']:.4f}, without step 0 {r['auc_no_step0']:.4f}, "
              f"step 0's share {r['step0_share']:.2%}")
    print(f"probe wall time {t_probe:.0f} s; in all {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main()
