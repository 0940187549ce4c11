"""Per fit (summary.json), how many runs have an onset of each probe metric under each definition:
established (closed interval), open above, or none up to the last checkpoint; and each group's law.

    python tools/count_onsets.py results/wikismall/summary.json results/wikismall/continual/summary.json
"""
import json, sys
for path in sys.argv[1:]:
    s = json.load(open(path))
    pts = [p for g in s["onset"]["groups"] + s["onset"]["skipped"] if g["mode"] == "full" for p in g["runs"]]
    print(path, len(pts), "runs", s["probe_kinds"])
    for d in ("delta", "rise"):
        for m in ("auc", "auc_no_step0", "final", "zero_shot"):
            est = opn = none = 0
            for p in pts:
                o = p["all_onsets"][m][d]
                if o is None or o["censored"]: none += 1
                elif o["interval"] and o["interval"][1] is not None: est += 1
                else: opn += 1
            print(f"  {d:5} {m:13} established {est:2}  open {opn:2}  none {none:2}")
    for g in s["onset"]["groups"]:
        print("  law", g["schedule"], g["verdict"], round(g["alpha"], 2), g["alpha_ci"], g["censored_fit"] and (round(g["censored_fit"]["alpha"],2), g["censored_fit"]["alpha_ci"]))
