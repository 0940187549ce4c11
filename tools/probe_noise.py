"""A study's probe records re-read: the range of the AUC over trained checkpoints and probe seeds, the
probe-seed standard deviation of the AUC pooled per run (each seed's offset removed, as onset.py's
noise model removes it) and at single checkpoints, and the evaluations after step 0 per probe.

    python tools/probe_noise.py results/study-docs
"""
import glob
import json
import sys

import numpy as np

lo_auc, hi_auc, pooled, worst, nevals = np.inf, -np.inf, [], [], set()
for d in sorted(glob.glob(sys.argv[1] + "/runs/*/")):
    recs = [json.loads(ln) for ln in open(d + "probe.jsonl")]
    recs = [r for r in recs if r["mode_name"] == "full" and r["ckpt_step"] > 0]
    nevals |= {len(r["eval_steps"]) - 1 for r in recs}
    steps, seeds = sorted({r["ckpt_step"] for r in recs}), sorted({r["seed"] for r in recs})
    by = {(r["ckpt_step"], r["seed"]): r["auc"] for r in recs}
    T = np.array([[by[(s, sd)] for s in steps] for sd in seeds])
    R = T - T.mean(0) - T.mean(1, keepdims=True) + T.mean()
    pooled.append(np.sqrt((R * R).sum() / ((T.shape[0] - 1) * (T.shape[1] - 1))))
    worst.append(T.std(0, ddof=1).max())
    lo_auc, hi_auc = min(lo_auc, T.min()), max(hi_auc, T.max())
print(f"AUC over trained checkpoints and probe seeds: {lo_auc:.2f}-{hi_auc:.2f} nats")
print(f"probe-seed sd of the AUC pooled per run (seed offsets removed): {min(pooled):.4f}-{max(pooled):.4f}; "
      f"at single checkpoints up to {max(worst):.4f}")
print("evaluations after step 0:", sorted(nevals))
