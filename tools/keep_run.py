"""
Copy what a long run needs to be reported and to go on into the repository: its config.json, probe
records, onset.json and figure; its newest resumable state and last checkpoint (so that a later
part, on any machine, extends it: copy the directory back to out/<study>/ and rerun the sweep with
a larger max_tokens); every checkpoint's card (ckpt/step_*.json, about 2 kB: its tokens and the
diagnostics probe.py reads, so a run extended from here keeps its earlier checkpoints in its onset and
its diagnostics, though their weights are not kept); and its training log thinned to every k-th step
(log-thinned.jsonl: the losses and wall times can be re-derived, and a resumed run starts a log of
its own from there).

    python tools/keep_run.py out/long-docs/cpu-3k-continual-s0 results/long-docs/runs --every=100
"""

import argparse
import json
import shutil
import sys
from pathlib import Path


def keep(run, dest, every):
    run, out = Path(run), Path(dest) / Path(run).name
    if not (run / "config.json").exists():
        raise SystemExit(f"keep_run.py: {run} is not a run directory (no config.json)")
    states = sorted((run / "state").glob("step_*.json"))
    if not states:
        raise SystemExit(f"keep_run.py: {run} has no resumable state to keep")
    cfg = json.loads((run / "config.json").read_text())
    last_ckpt = run / "ckpt" / f"step_{cfg['max_steps']:07d}.json"
    for sub in ("state", "ckpt"):  # only the newest of each, not the ones an earlier keep left
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    for name in ("config.json", "probe.jsonl", "onset.json", "probe.png", "speed.json"):
        if (run / name).exists():
            shutil.copy2(run / name, out / name)
    for card in sorted((run / "ckpt").glob("step_*.json")):  # every card; the weights of the last only
        shutil.copy2(card, out / "ckpt" / card.name)
    shutil.copy2(states[-1], out / "state" / states[-1].name)
    for card, sub in ((states[-1], "state"), (last_ckpt, "ckpt")):
        if card.exists():
            shutil.copy2(card.with_suffix(".pt"), out / sub / card.with_suffix(".pt").name)
    lines = (run / "log.jsonl").read_text().splitlines()
    thinned = [ln for ln in lines if ln.endswith("}") and json.loads(ln)["step"] % every == 0]
    (out / "log-thinned.jsonl").write_text("".join(ln + "\n" for ln in thinned))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{run} -> {out}: state {states[-1].stem}, {len(thinned)} of {len(lines)} log lines, {size / 1e3:.0f} kB")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run directories, then the destination directory")
    ap.add_argument("--every", type=int, default=100, help="keep the log line of every k-th step")
    a = ap.parse_args(argv)
    if len(a.runs) < 2:
        raise SystemExit("keep_run.py: give one or more run directories and a destination")
    for run in a.runs[:-1]:
        keep(run, a.runs[-1], a.every)


if __name__ == "__main__":
    main(sys.argv[1:])
