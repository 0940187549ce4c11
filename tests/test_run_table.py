"""tools/run_table.py: a crossing is called established only with both ends of its interval."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from run_table import crossing, turn_cells  # noqa: E402


def test_crossing_labels():
    ref = 8e6
    assert crossing(dict(censored=True, onset_tokens=None, interval=None, ref_tokens=ref)) == "none"
    assert crossing(dict(censored=False, onset_tokens=12 * ref, interval=[10 * ref, 14 * ref], ref_tokens=ref)) \
        == "12.0 [10.0, 14.0]"
    assert crossing(dict(censored=False, onset_tokens=15 * ref, interval=[13 * ref, None], ref_tokens=ref)) == "15.0, open"
    assert crossing(dict(censored=False, onset_tokens=15 * ref, interval=None, ref_tokens=ref)) == "15.0, open"


def test_turn_at_the_end_is_no_turn():
    end = dict(turn_cycles=15.0, interval_cycles=[8.0, 15.0], n_after=0, rise_pct_per_cycle=None,
               rise_pct_interval=None, established=False)
    assert turn_cells(end) == ("last cycle end (15.0 [8.0, 15.0])", "–", "no")
    up = dict(turn_cycles=14.9, interval_cycles=[11.8, 25.0], n_after=10, rise_pct_per_cycle=0.094,
              rise_pct_interval=[0.01, 0.19], established=True)
    assert turn_cells(up) == ("14.9 [11.8, 25.0]", "+0.094 [+0.010, +0.190]", "yes")


def test_slope_over_cycle_ends():
    from run_table import slope
    ref = 8001536
    est = dict(ref_tokens=ref, tokens=[ref * c for c in range(1, 11)], delta_pct=[0.5 - 0.2 * c for c in range(1, 11)])
    assert abs(slope(est, 5, 10) + 0.2) < 1e-12
    est["delta_pct"][-1] += 3.0  # a jump at the last cycle end tilts only windows that hold it
    assert abs(slope(est, 2, 9) + 0.2) < 1e-12 and slope(est, 5, 10) > 0


def test_diagnostic_at_cycle_one_the_crossing_and_the_end(tmp_path):
    import json
    import pytest
    from run_table import diagnostic_line
    ref = 100
    diag = dict(tokens=[0, 50, 100, 200, 300, 400], dormant=[0.5, 0.0, 0.0, 0.1, 0.4, 0.3], mlp_rank=[1, 2, 3, 4, 5, None])
    (tmp_path / "onset.json").write_text(json.dumps(dict(diagnostics=diag)))
    crossed = dict(censored=False, onset_tokens=250, interval=[150, 350], ref_tokens=ref, last_tokens=400)
    # step 0 and the first task's end come before cycle 1 and are left out; the crossing takes the checkpoint before it
    assert diagnostic_line(tmp_path, crossed, "dormant") == \
        "dormant: cycle 1 0, before the crossing (2.5) 0.1, last 0.3, range [0, 0.4]"
    assert diagnostic_line(tmp_path, dict(crossed, interval=[150, None]), "dormant") == \
        "dormant: cycle 1 0, last 0.3, range [0, 0.4]"  # an open crossing is not established
    assert diagnostic_line(tmp_path, dict(crossed, censored=True), "mlp_rank") == "mlp_rank: cycle 1 3, last 5, range [3, 5]"
    assert diagnostic_line(tmp_path, dict(crossed, censored=True, last_tokens=300), "dormant") == \
        "dormant: cycle 1 0, last 0.4, range [0, 0.4]"  # a run cut at an earlier cycle (--upto) ends there
    (tmp_path / "onset.json").write_text(json.dumps(dict(diagnostics=dict(tokens=[300, 400], dormant=[0.2, 0.3]))))
    assert diagnostic_line(tmp_path, dict(crossed, censored=True), "dormant") == \
        "dormant: cycle 3 (the first with it) 0.2, last 0.3, range [0.2, 0.3]"  # not called cycle 1's
    with pytest.raises(SystemExit, match="no diagnostic 'rank'"):
        diagnostic_line(tmp_path, crossed, "rank")


def test_a_path_that_is_not_a_run_is_named(tmp_path):
    import pytest
    from run_table import main
    (tmp_path / "cpu-3k-continual-s0.log").write_text("a sweep's log\n")
    with pytest.raises(SystemExit, match="cpu-3k-continual-s0.log is not a probed run"):
        main([str(tmp_path / "cpu-3k-continual-s0.log")])


def test_upto_shows_a_run_as_it_was_at_that_cycle(tmp_path, capsys):
    """--upto=C re-derives a part's verdict after later parts extended the run: the run and its cell's
    other runs cut at cycle C give the estimate the run had there, not one of the longer curve."""
    import json
    from power import power
    from run_table import main
    tpb = 8  # tokens a step: block_size 4, batch_size 2
    for seed, wiggle in ((0, 0.0), (1, 0.01)):
        d = tmp_path / f"tiny-continual-s{seed}"
        d.mkdir()
        (d / "config.json").write_text(json.dumps(dict(
            schedule="continual", seed=seed, n_nonembed=100, task_tokens=1000, train_langs=["a", "b"],
            block_size=4, batch_size=2)))
        records = []
        for c in range(0, 11):  # step 0, then cycle ends 1-10 (2,000 tokens a cycle, the step it ends on)
            tokens = 0 if c == 0 else c * 2000 + tpb
            for s in range(3):
                v = 3.0 - 0.02 * min(c, 5) + 0.1 * max(c - 6, 0) + wiggle * (-1) ** (c + s) + 0.001 * s
                records.append(dict(ckpt_step=tokens // tpb, tokens=tokens, seed=s, mode_name="full", lr=1e-3,
                                    eval_steps=[0, 10], curve=[v, v], probe_steps=250, batch_size=2))
        (d / "probe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    run = tmp_path / "tiny-continual-s0"
    _, whole = power(run, n_boot=50)
    _, cut = power(run, n_boot=50, upto=5)
    assert whole["last_tokens"] == 10 * 2000 + tpb and cut["last_tokens"] == 5 * 2000 + tpb
    assert cut["delta_pct"] == whole["delta_pct"][:5]  # the same points, the later ones left out
    assert not whole["censored"] and cut["censored"]  # the rise from cycle 7 on is not there at cycle 5
    main([str(run), "--upto=5", "--n_boot=50"])
    assert "| tiny-continual-s0 | 100 | continual | 5 | " in capsys.readouterr().out
