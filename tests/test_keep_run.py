"""tools/keep_run.py: what a long run keeps in the repository is enough to go on from it and to report it."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from keep_run import keep  # noqa: E402


def test_keeps_every_checkpoint_card_and_the_last_weights(tmp_path):
    run = tmp_path / "out" / "tiny-continual-s0"
    for sub in ("ckpt", "state"):
        (run / sub).mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(dict(max_steps=30)))
    for step in (0, 10, 20, 30):  # checkpoint cards carry the diagnostics probe.py reports
        (run / "ckpt" / f"step_{step:07d}.json").write_text(json.dumps(dict(tokens=step * 8, dormant=step / 100)))
        (run / "ckpt" / f"step_{step:07d}.pt").write_bytes(b"weights")
    for step in (20, 30):
        (run / "state" / f"step_{step:07d}.json").write_text("{}")
        (run / "state" / f"step_{step:07d}.pt").write_bytes(b"state")
    (run / "log.jsonl").write_text("".join(json.dumps(dict(step=s)) + "\n" for s in range(31)))
    keep(run, tmp_path / "kept", every=10)
    out = tmp_path / "kept" / "tiny-continual-s0"
    assert sorted(p.name for p in (out / "ckpt").iterdir()) == [
        "step_0000000.json", "step_0000010.json", "step_0000020.json", "step_0000030.json", "step_0000030.pt"]
    assert sorted(p.name for p in (out / "state").iterdir()) == ["step_0000030.json", "step_0000030.pt"]
    assert [json.loads(ln)["step"] for ln in (out / "log-thinned.jsonl").read_text().splitlines()] == [0, 10, 20, 30]
