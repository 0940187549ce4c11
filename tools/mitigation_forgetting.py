"""results/mitigations-docs re-read per arm at its last checkpoint (cycle 5): the training languages'
loss at the start of the fine-tune (the checkpoint's own), forgetting.py's measure (their mean rise
over the fine-tune), and how far apart the arm's two training seeds' mean AUCs are at cycles 1-5.

    python tools/mitigation_forgetting.py
"""
import glob
import json

import numpy as np

for arm, pattern in (("none", "cpu-1k-continual-s?"), ("l2init", "*-l2init"), ("hold_unseen", "*-hold_unseen")):
    start, rise, aucs = [], [], []
    for d in sorted(glob.glob(f"results/mitigations-docs/runs/{pattern}/")):
        recs = [json.loads(ln) for ln in open(d + "probe.jsonl")]
        recs = [r for r in recs if r["mode_name"] == "full" and r["ckpt_step"] > 0]
        last = [r for r in recs if r["ckpt_step"] == max(q["ckpt_step"] for q in recs)]
        start.append(np.mean([np.mean([v[0] for v in r["forget"].values()]) for r in last]))
        rise.append(np.mean([np.mean([v[-1] - v[0] for v in r["forget"].values()]) for r in last]))
        by = {}
        for r in recs:
            if r["tokens"] >= 8e6:  # cycle 1 on
                by.setdefault(r["tokens"], []).append(r["auc"])
        aucs.append({t: np.mean(v) for t, v in by.items()})
    gaps = [100 * abs(aucs[0][t] / aucs[1][t] - 1) for t in aucs[0] if t in aucs[1]]
    print(f"{arm}: training languages' loss at the fine-tune's start {', '.join(f'{v:.2f}' for v in start)}; "
          f"its rise over the fine-tune {', '.join(f'{v:+.2f}' for v in rise)} (mean {np.mean(rise):+.2f}); "
          f"the two seeds' AUCs {min(gaps):.2f}-{max(gaps):.2f}% apart at cycles 1-5")
