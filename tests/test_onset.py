"""The onset estimator (onset.py): known answers, and its calibration on simulated probe curves."""

import math

import numpy as np
import pytest

import onset


def test_t_quantile_matches_tables():
    for df, q in ((1, 12.7062), (2, 4.3027), (3, 3.1824), (13, 2.1604), (1000, 1.9623)):
        assert onset.t_quantile(0.975, df) == pytest.approx(q, abs=2e-3)
    assert onset.t_quantile(0.025, 5) == pytest.approx(-onset.t_quantile(0.975, 5))


def test_onset_recovered_with_its_interval_and_scratch_crossing():
    tokens = np.geomspace(1e3, 1e7, 25)
    t0, slope, tol = 1e5, 0.3, 0.05  # slope in nats per e-fold of tokens
    rng = np.random.default_rng(0)
    clean = 2.0 - 0.2 * np.minimum(np.log(tokens / 1e3), np.log(t0 / 1e3)) / np.log(100) \
        + slope * np.maximum(0, np.log(tokens / t0))
    table = clean + rng.normal(0, 0.01, size=(5, len(tokens)))
    est = onset.estimate_onset(tokens, table, scratch=np.full(5, 2.0), tol=tol, n_boot=300)
    truth = t0 * math.exp(tol / slope)  # where the rise exceeds the best by tol
    assert not est["censored"] and est["resolved"] and abs(math.log(est["onset_tokens"] / truth)) < 0.1
    lo, hi = est["interval"]
    assert lo <= truth <= hi and hi / lo < 3
    # crosses the from-scratch level 2.0 where the rise has undone the 0.2 improvement
    assert abs(math.log(est["scratch_cross_tokens"] / (t0 * math.exp(0.2 / slope)))) < 0.15
    assert len(est["smooth_curve"]) == len(tokens) and est["noise_df"] == 4 * 3  # 5 seeds, the 4 checkpoints of an edge window, seed offsets removed


def test_onset_before_the_second_checkpoint_is_unresolved():
    tokens = np.geomspace(1e3, 1e7, 8)
    worsening = 2.0 + 0.3 * np.log(tokens / 1e3)  # best at the first checkpoint, worse from then on
    est = onset.estimate_onset(tokens, np.tile(worsening, (3, 1)), scratch=None, tol=0.05, n_boot=50)
    assert not est["censored"] and tokens[0] <= est["onset_tokens"] <= tokens[1] and not est["resolved"]
    assert onset.estimate_onset(tokens, np.tile(worsening[::-1], (3, 1)), None, n_boot=50)["censored"]


def test_no_onset_is_censored_and_one_seed_still_gets_an_interval():
    tokens = np.geomspace(1e3, 1e7, 12)
    rng = np.random.default_rng(1)
    improving = 3.0 - 0.1 * np.log(tokens)
    est = onset.estimate_onset(tokens, improving + rng.normal(0, 0.005, (4, 12)), None, tol=0.05, n_boot=200)
    assert est["censored"] and est["onset_tokens"] is None and est["last_tokens"] == 1e7 and est["interval"] is None
    # a single seed: the noise comes from the curve's roughness, and the interval still covers
    rising = 3.0 + 0.2 * np.maximum(0, np.log10(tokens / 1e5))
    one = onset.estimate_onset(tokens, rising + rng.normal(0, 0.005, (1, 12)), None, tol=0.05, n_boot=200)
    truth = 1e5 * 10 ** (0.05 / 0.2)
    assert one["interval"][0] <= truth <= one["interval"][1]


def test_checkpoint_noise_is_measured_and_widens_the_interval():
    """Noise shared by all the seeds of a checkpoint (its training noise) cannot be seen in the
    seed-to-seed spread; the fourth differences of the seed means find it, and the interval
    widens to cover the truth instead of pinning a kink that the noise made."""
    tokens = np.geomspace(1e4, 1e7, 31)
    x = np.log10(tokens)
    clean = 4.0 + 0.3 * np.maximum(0, x - 6.0)  # flat, then a rise from 10^6 tokens
    truth = 10 ** (6.0 + 0.05 / 0.3)
    rng = np.random.default_rng(3)
    quiet = clean + rng.normal(0, 0.005, (3, x.size))
    noisy = quiet + rng.normal(0, 0.05, (1, x.size))  # 10x the probe-seed noise, as results/archive/pilot-phase
    q = onset.estimate_onset(tokens, quiet, None, tol=0.05, n_boot=300)
    n = onset.estimate_onset(tokens, noisy, None, tol=0.05, n_boot=300)
    assert q["checkpoint_noise_share"] < 0.5 < 0.9 < n["checkpoint_noise_share"]
    assert 0.03 < np.median(n["noise_sd"]) / np.sqrt(3) < 0.08  # sd of the seed mean: about the 0.05 put in
    assert n["interval"][0] <= truth <= (n["interval"][1] or np.inf)
    q_width, n_width = (q["interval"][1] / q["interval"][0]), ((n["interval"][1] or 1e7) / n["interval"][0])
    assert n_width > 2 * q_width


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="increasing"):
        onset.estimate_onset([1e3, 1e3, 1e4], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=">= 2 checkpoints"):
        onset.estimate_onset([1e3], np.zeros((2, 1)))


def test_calibration_bias_and_coverage():
    """The issue's bar: 200 curve sets per case, 3 seeds, 10 checkpoints per decade; median
    estimated/true onset within [0.85, 1.15], 95%-interval coverage >= 90%, and a curve that
    only improves reported censored every time up to 0.02 nats of per-seed noise. At 0.05 nats
    the rise from the running minimum (not the global one: a later dip must not erase an
    earlier rise) takes a noise bump early on for an onset in 6.5% of such curves (the global
    minimum's did in under 5%): the bar there is 90%."""
    rows = onset.calibrate(noises=(0.005, 0.02, 0.05), n_sets=200, n_seeds=3, per_decade=10, decades=3,
                           n_boot=150, seed=0)
    meets(rows, ratio=(0.85, 1.15), coverage=0.90, censored=0.90)
    assert all(r["censored"] == 1 for r in rows if r["shape"] == "decreasing" and r["noise"] <= 0.02)


def meets(rows, ratio, coverage, censored):
    """Every calibration row meets the bar: curves with an onset within the median-ratio range and
    at least the coverage; curves that only improve reported censored at least that often."""
    table = onset.calibration_table(rows)
    for r in rows:
        if r["shape"] in ("decreasing", "improving"):
            assert r["censored"] >= censored, table
        else:
            assert ratio[0] <= r["median_ratio"] <= ratio[1] and r["coverage"] >= coverage, table


def test_calibration_with_checkpoint_noise():
    """Checkpoint noise of 0.05 nats (the pilot's level, 10x the probe-seed noise): the interval
    still covers the truth (>= 85%) at a bias under 1.5x (1.39-1.44 with the running minimum,
    1.2-1.3 with the global one), where the estimator without the checkpoint term covered 8-38%
    and found onsets in most curves that only improve."""
    rows = onset.calibrate(noises=(0.005,), n_sets=100, n_seeds=3, per_decade=10, decades=3, n_boot=150,
                           seed=1, nugget=0.05)
    meets(rows, ratio=(0.8, 1.5), coverage=0.85, censored=0.75)


def test_running_minimum_keeps_an_earlier_rise():
    """A rise of 0.2 nats at the fifth of 12 checkpoints, then a deeper dip: the rise from the
    running minimum is found there; the global minimum (the dip) would have hidden it."""
    tokens = np.geomspace(1e4, 1e7, 12)
    curve = np.array([3.0, 2.9, 2.8, 2.75, 2.95, 3.0, 3.0, 2.9, 2.6, 2.5, 2.45, 2.44])
    best, at = onset.crossings(np.log10(tokens), curve[None], 0.05)
    assert best[0] == 3 and np.log10(tokens[3]) < at[0] < np.log10(tokens[4])


def test_delta_onset_where_the_curve_turns_above_cycle_one_for_good():
    """The paper's onset: dAUC against the first column crosses zero and stays positive; a curve
    that dips, comes back above cycle 1 briefly and dips again has its onset at the last turn."""
    cyc = np.arange(1, 17, dtype=float)
    curve = np.array([3.0, 2.92, 2.9, 2.95, 3.03, 3.03, 2.95, 2.9, 2.9, 2.9, 2.92, 2.95, 3.0, 3.05, 3.1, 3.15])
    rng = np.random.default_rng(0)
    est = onset.estimate_delta_onset(cyc * 1e6, curve + rng.normal(0, 0.003, (3, 16)), n_boot=200)
    assert not est["censored"] and 12.0e6 <= est["onset_tokens"] <= 14e6, est["onset_tokens"]
    assert est["interval"][0] <= 13e6 <= est["interval"][1] and est["delta_smooth"][0] == 0
    improving = onset.estimate_delta_onset(cyc * 1e6, 3.0 - 0.01 * cyc + rng.normal(0, 0.003, (3, 16)), n_boot=200)
    assert improving["censored"] and improving["onset_tokens"] is None
    # above cycle 1 at the last checkpoint only: seen, but not established (open above), as the
    # 522-parameter run of results/study-docs whose fifth cycle end rose and its next 20 did not
    last = np.array([3.0, 2.97, 2.98, 2.97, 3.03])
    est = onset.estimate_delta_onset(np.arange(1, 6) * 8e6, last + rng.normal(0, 0.003, (3, 5)), n_boot=200)
    assert not est["censored"] and 3.2e7 < est["onset_tokens"] < 4e7 and est["interval"][1] is None
    two = onset.estimate_delta_onset(np.arange(1, 7) * 8e6, np.append(last, 3.04) + rng.normal(0, 0.003, (3, 6)),
                                     n_boot=200)
    assert two["interval"][1] is not None  # and again at the next: established


def test_delta_onset_calibration():
    """The issue's bar for the paper's onset on simulated cycle-end curves (16 cycles, 3 seeds):
    median estimated/true within [0.85, 1.15], coverage >= 90%, curves that only improve
    censored >= 95%, at per-seed noise up to 0.02 nats and with checkpoint noise of 0.01."""
    rows = onset.calibrate_delta(noises=(0.005, 0.02), n_sets=100, n_boot=150, seed=0)
    rows += onset.calibrate_delta(noises=(0.01,), n_sets=100, n_boot=150, seed=1, nugget=0.01)
    meets(rows, ratio=(0.85, 1.15), coverage=0.90, censored=0.95)
