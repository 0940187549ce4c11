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
    assert est["interval"][0] <= 13e6 <= est["interval"][1]
    assert est["ref_level"] == pytest.approx(est["smooth_curve"][0] / (1 + est["delta_smooth"][0] / 100))
    improving = onset.estimate_delta_onset(cyc * 1e6, 3.0 - 0.01 * cyc + rng.normal(0, 0.003, (3, 16)), n_boot=200)
    assert improving["censored"] and improving["onset_tokens"] is None
    # above cycle 1 at the last checkpoint only: seen, but not established (open above), as the
    # 522-parameter run of results/study-docs whose fifth cycle end rose and its next 20 did not
    last = np.array([3.0, 2.97, 2.98, 2.97, 3.03])
    est = onset.estimate_delta_onset(np.arange(1, 6) * 8e6, last + rng.normal(0, 0.003, (3, 5)), n_boot=200)
    assert not est["censored"] and 3.2e7 < est["onset_tokens"] < 4e7 and est["interval"][1] is None
    six = np.append(last, 3.04)
    table = six + rng.normal(0, 0.003, (3, 6))
    alone = onset.estimate_delta_onset(np.arange(1, 7) * 8e6, table, n_boot=200)
    assert alone["interval"][1] is None  # one run's six cycle ends cannot tell this step from its training noise
    twin = six + rng.normal(0, 0.003, (3, 6))  # a second training run of the cell that does the same
    two = onset.estimate_delta_onset(np.arange(1, 7) * 8e6, table, n_boot=200, runs=[table.mean(0), twin.mean(0)])
    assert two["interval"][1] is not None and two["noise_source"] == "training seeds (2 runs)"  # established


def test_training_noise_from_the_cells_runs_or_the_runs_checkpoints():
    """The paper's onset's noise model holds the training run's noise whatever the number of
    checkpoints: from the cell's runs (their seed means), else from the run's own cycle ends, else
    an onset is seen but never established."""
    rng = np.random.default_rng(4)
    cyc = np.arange(1, 6, dtype=float)
    flat = [3.0 + rng.normal(0, 0.02, (1, 5)) + rng.normal(0, 0.003, (3, 5)) for _ in range(4)]
    alone = onset.estimate_delta_onset(cyc, flat[0], n_boot=200)
    cell = onset.estimate_delta_onset(cyc, flat[0], n_boot=200, runs=[t.mean(0) for t in flat])
    assert alone["noise_source"] == "checkpoints" and cell["noise_source"] == "training seeds (4 runs)"
    assert cell["noise_df"] >= 4 * 3 - 1 and 0.01 < np.median(cell["noise_sd"]) / np.sqrt(3) < 0.04  # the 0.02 put in
    assert cell["checkpoint_noise_share"] > 0.9
    probe_only = onset.estimate_delta_onset(cyc, flat[0] - flat[0].mean(0) + 3.0, n_boot=200)  # no training noise left
    assert np.median(probe_only["noise_sd"]) < 0.5 * np.median(cell["noise_sd"])
    four = onset.estimate_delta_onset(cyc[:4], np.array([[3.0, 2.99, 3.02, 3.04]] * 3) + rng.normal(0, 0.001, (3, 4)),
                                      n_boot=200)
    assert four["noise_source"] == onset.TOO_FEW and not four["censored"] and four["interval"][1] is None
    with pytest.raises(ValueError, match="runs has 4 checkpoints"):
        onset.estimate_delta_onset(cyc, flat[0], n_boot=10, runs=[t.mean(0)[:4] for t in flat])


def test_the_onset_lies_in_its_own_interval_when_the_seeds_agree():
    """The loss before fine-tuning is the same in every probe seed (no fine-tune yet): its probe
    noise is nil, and the bootstrap's replicates, no longer moved by noise, measured how a second
    smoothing distorts a step instead of the estimate's spread; the bias correction then put the
    onset a cycle outside its own interval (results/study-docs cpu-1k-stationary-s0: 2.59e7 tokens
    against [1.29e7, 2.09e7]). That run's seed means, with its checkpoints' noise now measured and
    the interval holding the point whatever the replicates do:"""
    tokens = np.arange(1, 6) * 8001536.0
    table = np.tile([8.07857, 7.94405, 8.55812, 8.55085, 8.50688], (3, 1))
    est = onset.estimate_delta_onset(tokens, table, n_boot=300)
    assert est["interval"][0] <= est["onset_tokens"] <= (est["interval"][1] or np.inf), est
    assert est["noise_source"] == "checkpoints" and min(est["noise_sd"]) > 0.01
    # the bootstrap itself, with no noise at all to move its replicates: the point stays inside
    x = tokens / tokens[0]
    f = np.array([8.078, 8.024, 8.492, 8.547, 8.507])
    smooth = onset.Smoother(x, np.full(5, 1e-12))
    point = float(onset.stays_above(x, f[None], f[:1])[0])
    corrected, (lo, hi), _, shift = onset.bootstrap(x, f, np.full(5, 1e-12), 6, point,
                                                    lambda R: onset.stays_above(x, smooth(R)[0], smooth(R)[0][:, 0]),
                                                    200, 0)
    assert shift != 0 and lo <= point <= hi and lo <= corrected <= hi


def test_the_smallest_sustained_dauc_a_run_could_establish_scales_with_its_noise():
    """onset.smallest_sustained on simulated flat runs (25 cycle ends, 3 probe seeds, training noise of
    known size): twice the noise needs about twice the step; a step of that size over the last quarter is
    established, a step of half of it is not; three cycle ends cannot establish any."""
    rng = np.random.default_rng(0)
    tokens = np.arange(1, 26) * 8e6
    walk = rng.normal(0, 1, 25)  # the training run's own wander, shared by its probe seeds
    probe = rng.normal(0, 0.1, (3, 25))
    found = []
    for sd in (0.01, 0.02):
        table = 3.0 + sd * (walk + probe)
        d = onset.smallest_sustained(tokens, table)
        found.append(d)
        for size, want in ((d, True), (d / 2, False)):
            step = np.zeros(25)
            step[-6:] = table.mean(0)[0] * (1 + size / 100) - table.mean(0)[-6:]
            est = onset.estimate_delta_onset(tokens, table + step, 300)
            assert (not est["censored"] and est["interval"][1] is not None) == want
    assert 1.5 < found[1] / found[0] < 2.5
    assert onset.smallest_sustained(tokens[:3], (3.0 + 0.01 * (walk + probe))[:, :3]) is None


def test_seeds_that_agree_exactly_still_get_a_noise_model():
    """The loss before fine-tuning is the same in every probe seed. With two seeds (or values a
    float mean reproduces exactly) the seed variance is exactly zero: the checkpoint-noise test's
    ratio was then 0/0 and the whole noise model NaN, so the onset came out censored. With the
    variance floored, the checkpoints' own roughness is the noise, as with seeds that differ by
    rounding."""
    tokens = np.geomspace(1e6, 1e8, 16)
    curve = np.array([3, 2.5, 2.25, 2, 2.125, 2, 1.75, 1.5, 1.625, 1.5, 1.25, 1.5, 1.75, 2, 2.25, 2.5])
    exact = onset.estimate_onset(tokens, np.tile(curve, (2, 1)), None, tol=0.05, n_boot=30)
    assert np.all(np.isfinite(exact["noise_sd"])) and exact["checkpoint_noise_share"] > 0.99
    assert not exact["censored"] and tokens[10] <= exact["onset_tokens"] <= tokens[-1]  # the rise after the 11th
    rounded = onset.estimate_onset(tokens, np.tile(curve, (2, 1)) + [[0.0], [1e-9]], None, tol=0.05, n_boot=30)
    assert exact["onset_tokens"] == pytest.approx(rounded["onset_tokens"], rel=1e-3)
