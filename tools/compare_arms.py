"""Per run, plain against an arm of the same grid (run directories <run> and <run>-<arm>): the AUC
onset with its 95% interval, the probe language's loss before fine-tuning at the last
checkpoint, the AUC and the final loss at the best checkpoint and at the last one (means over
probe seeds), and the training languages' validation loss at the end.

    python tools/compare_arms.py out/wikismall hold_unseen > table.md
    python tools/compare_arms.py out/wikismall hold_unseen continual > continual/table.md

The optional third argument keeps the runs of that schedule only.
"""
import json
import sys
from pathlib import Path

import numpy as np

root, arm = Path(sys.argv[1]), sys.argv[2]
schedule = sys.argv[3] if len(sys.argv) > 3 else ""


def onset(run):
    d = json.loads((run / "onset.json").read_text())
    if d["onset_tokens"] is None or d["censored"]:
        return f"none to {d['last_tokens'] / 1e6:.0f}e6"
    lo, hi = d["interval"]
    return f"{d['onset_tokens'] / 1e6:.2f}e6 [{lo / 1e6:.2f}, {'open' if hi is None else f'{hi / 1e6:.2f}'}]"


def curves(run):
    recs = [json.loads(ln) for ln in (run / "probe.jsonl").read_text().splitlines()]
    steps = sorted({r["ckpt_step"] for r in recs})
    mean = {k: np.array([np.mean([r[k] for r in recs if r["ckpt_step"] == s]) for s in steps])
            for k in ("zero_shot", "auc", "final")}
    return steps, mean


def train_loss(run):
    last = max((run / "ckpt").glob("step_*.json"))
    val = json.loads(last.read_text())["val_loss"]
    langs = json.loads((run / "config.json").read_text())["train_langs"]
    return np.mean([val[lg] for lg in langs])


print(f"| run | AUC onset, plain | AUC onset, {arm} | zero-shot at the end, plain / {arm} | AUC best -> end, plain "
      f"| AUC best -> end, {arm} | final best -> end, plain | final best -> end, {arm} | training loss at the end, "
      f"{arm} - plain |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
size = lambda run: json.loads((run / "config.json").read_text())["n_nonembed"]  # noqa: E731
runs = [p for p in root.iterdir() if p.is_dir() and (root / f"{p.name}-{arm}" / "onset.json").exists()
        and schedule in ("", json.loads((p / "config.json").read_text())["schedule"])]
for plain in sorted(runs, key=lambda p: (size(p), p.name)):
    other = root / f"{plain.name}-{arm}"
    (_, a), (_, b) = curves(plain), curves(other)
    row = [plain.name, onset(plain), onset(other), f"{a['zero_shot'][-1]:.2f} / {b['zero_shot'][-1]:.2f}"]
    for m in (a, b):
        row.append(f"{m['auc'][1:].min():.3f} -> {m['auc'][-1]:.3f}")  # trained checkpoints only
    for m in (a, b):
        row.append(f"{m['final'][1:].min():.3f} -> {m['final'][-1]:.3f}")
    row.append(f"{train_loss(other) - train_loss(plain):+.3f}")
    print("| " + " | ".join(row) + " |")
