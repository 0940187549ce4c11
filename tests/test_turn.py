"""turn.py: the turn of a probe curve and the rise after it, on curves whose turn is known."""

import numpy as np
import pytest

import turn


def test_a_known_turn_and_its_rise_are_found():
    cyc = np.arange(1, 26, dtype=float)
    clean = 3.0 - 0.1 * (1 - np.exp(-(cyc - 1) / 1.5)) + 0.006 * np.maximum(0.0, cyc - 12.0)
    rng = np.random.default_rng(0)
    runs = [clean + rng.normal(0, 0.005, (1, 25)) + rng.normal(0, 0.003, (3, 25)) for _ in range(2)]
    est = turn.estimate_turn(cyc * 8e6, runs[0], n_boot=300, runs=[r.mean(0) for r in runs])
    fine = np.linspace(1, 25, 20001)
    truth = fine[np.argmin(3.0 - 0.1 * (1 - np.exp(-(fine - 1) / 1.5)) + 0.006 * np.maximum(0.0, fine - 12.0))]
    assert est["established"] and est["interval_cycles"][0] <= truth <= est["interval_cycles"][1], est
    assert abs(est["turn_cycles"] - truth) < 2.5 and est["turn_tokens"] == pytest.approx(est["turn_cycles"] * 8e6)
    lo, hi = est["rise_interval"]
    assert 0 < lo <= 0.006 <= hi  # nats per cycle, as put in
    # an improving curve has its lowest point at the end: no turn established, no rise to measure
    down = turn.estimate_turn(cyc * 8e6, 3.0 - 0.004 * cyc + rng.normal(0, 0.003, (3, 25)), n_boot=200)
    assert not down["established"] and down["rise_per_cycle"] is None


def test_turns_on_simulated_cells():
    """Flat cells seldom get an established turn; turning cells, at 25 cycles and two training runs,
    mostly do, with the turn's interval covering the truth (the full table: turn.calibrate_turns)."""
    rows = turn.calibrate_turns(lengths=(25,), runs=(2,), train_noises=(0.005,), n_sets=40, n_boot=100, seed=1)
    (r,) = rows
    assert r["flat_established"] <= 0.1 and r["established"] >= 0.8 and r["turn_coverage"] >= 0.8, turn.turns_table(rows)
    assert 0.8 <= r["median_ratio"] <= 1.2


def test_turn_law_needs_three_sizes():
    def point(n, s):
        t = 1e6 * (n / 1e3) ** 0.5 * s
        return dict(run=f"r{n}-{s}", N=n, schedule="continual", turn=dict(established=True, turn_tokens=t,
                    interval=[t / 2, t * 2], rise_pct_per_cycle=0.1))
    two = turn.fit_turn_law([point(n, s) for n in (1e3, 4e3) for s in (0.9, 1.1)])
    assert two[0]["alpha"] is None and "2 size(s)" in two[0]["note"]
    three = turn.fit_turn_law([point(n, s) for n in (1e3, 4e3, 16e3) for s in (0.9, 1.1)])
    assert three[0]["alpha"] == pytest.approx(0.5, abs=1e-6) and three[0]["alpha_ci"][0] <= 0.5 <= three[0]["alpha_ci"][1]
