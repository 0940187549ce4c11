"""Two probes of the same run (sequential and --batched=True): the difference of every record's
curve, eval by eval, and the largest curve and AUC differences, in nats.

    python tools/compare_probes.py out/pseq out/pbat
"""
import json
import sys


def records(run):
    return {(d["ckpt_step"], d["seed"]): d for d in map(json.loads, open(f"{run}/probe.jsonl"))}


a, b = records(sys.argv[1]), records(sys.argv[2])
assert a.keys() == b.keys(), "the two probes cover different (checkpoint, seed) pairs"
print(f"{'step':>6}{'tokens':>10}{'seed':>5}{'start':>8}{'end':>8}  curve difference at each evaluation")
for k in sorted(a):
    d = [round(x - y, 4) for x, y in zip(a[k]["curve"], b[k]["curve"])]
    print(f"{k[0]:>6}{a[k]['tokens']:>10,}{k[1]:>5}{a[k]['curve'][0]:>8.3f}{a[k]['curve'][-1]:>8.3f}  {d}")
curve = max(abs(x - y) for k in a for x, y in zip(a[k]["curve"], b[k]["curve"]))
auc = max(abs(a[k]["auc"] - b[k]["auc"]) for k in a)
print(f"{len(a)} fine-tunes; largest curve difference {curve:.4f} nats; largest AUC difference {auc:.4f} nats")
print("batched flags:", {str(d["batched"]) for d in b.values()}, "sequential:", {str(d["batched"]) for d in a.values()})
