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
    crossed = dict(censored=False, onset_tokens=250, interval=[150, 350], ref_tokens=ref)
    # step 0 and the first task's end come before cycle 1 and are left out; the crossing takes the checkpoint before it
    assert diagnostic_line(tmp_path, crossed, "dormant") == \
        "dormant: cycle 1 0, before the crossing (2.5) 0.1, last 0.3, range [0, 0.4]"
    assert diagnostic_line(tmp_path, dict(crossed, interval=[150, None]), "dormant") == \
        "dormant: cycle 1 0, last 0.3, range [0, 0.4]"  # an open crossing is not established
    assert diagnostic_line(tmp_path, dict(crossed, censored=True), "mlp_rank") == "mlp_rank: cycle 1 3, last 5, range [3, 5]"
    with pytest.raises(SystemExit, match="no diagnostic 'rank'"):
        diagnostic_line(tmp_path, crossed, "rank")


def test_a_path_that_is_not_a_run_is_named(tmp_path):
    import pytest
    from run_table import main
    (tmp_path / "cpu-3k-continual-s0.log").write_text("a sweep's log\n")
    with pytest.raises(SystemExit, match="cpu-3k-continual-s0.log is not a probed run"):
        main([str(tmp_path / "cpu-3k-continual-s0.log")])
