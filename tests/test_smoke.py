"""tools/gpu_smoke.py on a CPU: the config's settings, a given text directory, reduced token counts."""

import json
import random
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import gpu_smoke  # noqa: E402


def test_the_smoke_test_runs_the_configs_settings_on_given_text_and_extrapolates(tmp_path, capsys, monkeypatch):
    """config/paper-1gpu.py's settings (its evaluation batches and probe evaluations, its reading)
    with a tiny model and context through --set, on a directory of text (zh standing for zh-Hans):
    it builds the corpus, trains one task, probes, and prints the steady speed and the config's
    hours extrapolated from it beside the plan's."""
    monkeypatch.chdir(tmp_path)  # the plan looks for the config's corpus under ./data: none here
    rng = random.Random(0)
    text = tmp_path / "text"
    text.mkdir()
    for lang in ("en", "zh", "fr", "ja", "es", "de", "pt", "ru", "vi"):
        words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 6))) + lang for _ in range(60)]
        docs = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 80))) for _ in range(300)]
        (text / f"{lang}.txt").write_text("\n\n".join(docs) + "\n")
    gpu_smoke.main([f"--text={text}", f"--data_dir={tmp_path / 'data'}", f"--out={tmp_path / 'out'}", "--device=cpu",
                    "--tokens=4096", "--set=--model=cpu-1k --block_size=64 --batch_size=4 --compile=False "
                    "--n_evals=2 --eval_batches=2 --forget_batches=1 --diagnostics=False"])
    out = capsys.readouterr().out
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["model"] == "cpu-1k" and cfg["block_size"] == 64 and cfg["max_steps"] == 16
    assert cfg["compile"] is False and cfg["restart_at_task"] is True and cfg["warmup_tokens"] == 3276800
    assert sorted(cfg["train_langs"]) == sorted(["en", "zh", "fr", "ja", "es", "de", "pt", "ru"])
    recs = [json.loads(ln) for ln in (tmp_path / "out" / "probe.jsonl").read_text().splitlines()]
    assert {r["eval_batches"] for r in recs} == {2} and {r["seed"] for r in recs} == {0}
    assert "== gpu_smoke: cpu, config/paper-1gpu.py: cpu-1k" in out and "steady " in out
    assert "MFU: not on a GPU" in out and "extrapolated to config/paper-1gpu.py (1 run(s) of 3.93e+10 tokens" in out
    assert "the plan's (bench table): 4.80 h, 3.22 h, 9.7 h" in out
