"""calibration.py: the onset estimators on simulated curves with known answers meet their bars."""

import numpy as np

import calibration


def test_calibration_bias_and_coverage():
    """The issue's bar: 200 curve sets per case, 3 seeds, 10 checkpoints per decade; median
    estimated/true onset within [0.85, 1.15], 95%-interval coverage >= 90%, and a curve that
    only improves reported censored every time up to 0.02 nats of per-seed noise. At 0.05 nats
    the rise from the running minimum (not the global one: a later dip must not erase an
    earlier rise) takes a noise bump early on for an onset in 6.5% of such curves (the global
    minimum's did in under 5%): the bar there is 90%."""
    rows = calibration.calibrate(noises=(0.005, 0.02, 0.05), n_sets=200, n_seeds=3, per_decade=10, decades=3,
                           n_boot=150, seed=0)
    meets(rows, ratio=(0.85, 1.15), coverage=0.90, censored=0.90)
    assert all(r["censored"] == 1 for r in rows if r["shape"] == "decreasing" and r["noise"] <= 0.02)


def meets(rows, ratio, coverage, censored):
    """Every calibration row meets the bar: curves with an onset within the median-ratio range and
    at least the coverage; curves that only improve reported censored at least that often."""
    table = calibration.calibration_table(rows)
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
    rows = calibration.calibrate(noises=(0.005,), n_sets=100, n_seeds=3, per_decade=10, decades=3, n_boot=150,
                           seed=1, nugget=0.05)
    meets(rows, ratio=(0.8, 1.5), coverage=0.85, censored=0.75)


def test_paper_onset_on_simulated_cells():
    """The paper's onset on flat cells and cells with a known onset, one run alone and two training
    runs, training noise 0.01 nats (2-5 times the probe noise), 5 and 8 cycles: flat cells rarely get
    an established onset (bar 10% on 60 cells: the issue's 5% on 200 is `python probe.py
    --calibrate`'s table), true onsets are covered and found where they are. Without the training
    noise in the model (the old rule below 8 cycles) 5 cycles gave flat cells an onset a quarter of
    the time."""
    rows = calibration.calibrate_cells(lengths=(5, 8), runs=(1, 2), train_noises=(0.01,), n_sets=60, n_boot=100, seed=3)
    table = calibration.cells_table(rows)
    for r in rows:
        assert r["flat_established"] <= 0.10, table
        assert r["seen"] >= 0.9 and r["coverage"] >= 0.9 and 0.85 <= r["median_ratio"] <= 1.15, table
    assert table.count("\n") == len(rows) + 1 and "| 5 | 2 | 0.01 |" in table
