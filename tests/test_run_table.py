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
