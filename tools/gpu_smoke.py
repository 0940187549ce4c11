"""
The smoke test of a GPU configuration, before its hours are spent: the config's own model, shapes,
vocabulary, evaluation and compile settings on a slice of real text, one task of training and
the first probe, at reduced token counts. It prints the measured steady training throughput and
MFU (train.py's speed.json: compile, checkpoints and states apart), the probe's throughput, and
the whole configuration's hours extrapolated from them, beside the ones its preflight
(sweep.py --plan=True) computes from the bench table.

    python tools/gpu_smoke.py                                   # config/paper-1gpu.py, 20 MB of CC-100 a language
    python tools/gpu_smoke.py --text=path/to/docs               # a directory of <lang>.txt[.xz] files instead
    python tools/gpu_smoke.py --text=path/to/docs --device=cpu --tokens=65536 \\
        --set="--block_size=256 --batch_size=4 --compile=False --n_evals=2"   # the script itself, on a CPU

The text: --text when given (files named by language; zh for zh-Hans is accepted), else the first
--mb MB of each of the config's CC-100 languages, downloaded from --url into data/_cache. The
corpus (data/smoke-<config name>) is built once with the config's vocabulary. --tokens is the
task, the run (one task) and the probe's length. --set passes settings to train.py and probe.py
(each takes those it has) after the config's own, to make the check fit a small machine.
"""

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import data  # noqa: E402
import probe  # noqa: E402
import sources  # noqa: E402
import sweep  # noqa: E402
from configurator import configure  # noqa: E402
from schedule import paper_code  # noqa: E402


def run(cmd):
    """Run a project script, its output shown as it comes; returns its wall seconds."""
    print("$ " + shlex.join(cmd), flush=True)
    t0 = time.time()
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        for line in p.stdout:
            print("  " + line, end="", flush=True)
    if p.returncode:
        raise SystemExit(f"gpu_smoke.py: {cmd[1]} failed (exit {p.returncode}); its output is above")
    return time.time() - t0


def own(script, args):
    """The --key=value arguments of args that script declares (train.py and probe.py share --set)."""
    names = set(configure(dict(vars(__import__(script))), []))
    return [a for a in args if a.startswith("--") and a[2:].split("=", 1)[0] in names]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--config", default="config/paper-1gpu.py")
    ap.add_argument("--text", default="", help="a directory of <lang>.txt[.xz] files; empty: download CC-100")
    ap.add_argument("--mb", type=float, default=20, help="MB of CC-100 text per language to download")
    ap.add_argument("--url", default=sources.CC100_URL, help="base URL of CC-100's <lang>.txt.xz files")
    ap.add_argument("--data_dir", default="data")
    ap.add_argument("--tokens", type=float, default=1e8, help="the task, the run and the probe, in tokens")
    ap.add_argument("--set", default="", help="settings after the config's, e.g. \"--batch_size=4 --compile=False\"")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="out/gpu-smoke", help="run directory (made afresh)")
    args = ap.parse_args(argv)
    t_all = time.time()
    sweep.configure(vars(sweep), [str(ROOT / args.config)])
    header = sweep.make_plan(sweep.cells())
    cfg = dict(name=sweep.name, vocab=sweep.vocab, size=sweep.sizes.split(",")[0],
               langs=[s for s in sweep.source_langs.split(",") if s])
    extra = shlex.split(args.set) + [f"--device={args.device}"]
    train_args = shlex.split(sweep.train_args) + extra
    probe_args = shlex.split(sweep.probe_args) + extra

    corpus = f"smoke-{cfg['name']}"
    t_data = 0.0
    if not (ROOT / args.data_dir / corpus / "vocab.json").exists():
        t0 = time.time()
        if args.text:
            present = {p.name.split(".")[0] for p in Path(args.text).iterdir()} if Path(args.text).is_dir() else set()
            langs = [lang if lang in present or paper_code(lang) not in present else paper_code(lang)
                     for lang in cfg["langs"]]
            texts = sources.textdir_sources(args.text, langs)
        else:
            texts = sources.cc100_sources(cfg["langs"], args.mb, ROOT / args.data_dir / "_cache" / "cc100", args.url)
        data.build_corpus(corpus, texts, ROOT / args.data_dir, cfg["vocab"])
        t_data = time.time() - t0

    out = ROOT / args.out
    shutil.rmtree(out, ignore_errors=True)  # a smoke test starts afresh
    task = int(args.tokens)
    t_train = run([sys.executable, "train.py", f"--model={cfg['size']}", *own("train", train_args),
                   f"--data_dir={args.data_dir}", f"--corpus={corpus}", f"--out_dir={out}", "--schedule=continual",
                   f"--task_tokens={task}", f"--max_tokens={task}", "--save_every=1000000"])
    t_probe = run([sys.executable, "probe.py", f"--run_dir={out}", *own("probe", probe_args), "--seeds=0",
                   "--n_boot=100"])
    speed = json.loads((out / "speed.json").read_text())
    run_cfg = json.loads((out / "config.json").read_text())
    recs = [json.loads(ln) for ln in (out / "probe.jsonl").read_text().splitlines()]
    probe_rate = sum(probe.cost_tokens(r, run_cfg["block_size"]) for r in recs) / t_probe
    tps = speed["steady_tokens_per_s"]

    print(f"\n== gpu_smoke: {speed['device']}, {args.config}: {run_cfg['model']} (N = {run_cfg['n_nonembed']:,}), "
          f"context {run_cfg['block_size']}, batch {run_cfg['batch_size']}, vocabulary {run_cfg['vocab_size']:,}")
    print(f"corpus {corpus}: " + (f"built in {t_data:.0f} s" if t_data else "already built"))
    print(f"train: {task:,} tokens in {t_train:.0f} s wall; steady {tps:,.0f} tokens/s"
          + (f", MFU {speed['mfu']:.1%}" if speed["mfu"] is not None else ", MFU: not on a GPU")
          + "; apart: " + ", ".join(f"{k} {v:.1f} s" for k, v in speed["apart_s"].items()))
    first = min((r for r in recs if r["ckpt_step"] > 0), key=lambda r: r["ckpt_step"])
    print(f"probe: {len(recs)} fine-tunes of {first['probe_steps']} steps, {len(first['eval_steps'])} evaluations, in "
          f"{t_probe:.0f} s wall ({probe_rate:,.0f} training-token equivalents/s, start-up included); the first "
          f"task's end: {first['zero_shot']:.3f} -> {first['final']:.3f}, AUC {first['auc']:.4f}")
    cells = header["cells"]
    if cells and tps:
        train_h = sum(header["tokens"] / tps / 3600 for _ in cells)
        probe_h = sum(header["probed"] * header["n_seeds"] * header["per_record"] / probe_rate / 3600 for _ in cells)
        rest = sum(c["saves_h"] + c["compile_h"] for c in cells) + header["build_h"]
        print(f"extrapolated to {args.config} ({len(cells)} run(s) of {header['tokens']:.3g} tokens, the build and saves "
              f"as the plan has them): training {train_h:.2f} h, probes {probe_h:.2f} h, in all "
              f"{train_h + probe_h + rest:.1f} h; the plan's (bench table): {sum(c['train_h'] for c in cells):.2f} h, "
              f"{sum(c['probe_h'] for c in cells):.2f} h, {header['hours']:.1f} h")
    print(f"in all {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main()
