"""Tests of fit.py on synthetic run directories written in the format of probe.py."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import fit  # noqa: E402
import forgetting  # noqa: E402
import regression  # noqa: E402
import calibration  # noqa: E402
import onset  # noqa: E402

LAW = {"A": 0.05, "a": 0.3, "b": 0.4, "E": -0.02}  # true forgetting law of the synthetic probes
SIZES = [1e4, 3e4, 1e5, 3e5, 1e6]


def onset_entry(seed_onsets, last_tokens=1e8, resolved=True):
    """onset.json fields from per-seed onsets (None = that seed saw no onset), as probe.py writes them."""
    finite = sorted(v for v in seed_onsets if v is not None)
    median = float(np.median([np.inf if v is None else v for v in seed_onsets]))
    censored = not np.isfinite(median)
    return {"onset_tokens": None if censored else median, "censored": censored, "resolved": resolved,
            "last_tokens": last_tokens,
            "interval": [finite[0], finite[-1]] if finite and not censored else None,
            "seed_onsets": {str(i): v for i, v in enumerate(seed_onsets)}, "scratch_cross_tokens": None}


def probe_records(N, onset, rng, n_seeds=3, modes=(("full", 1.0), ("lora4", 0.05))):
    """best-lr probe records whose forgetting follows LAW, plus one non-best-lr record to be ignored."""
    steps = [0, 10, 20, 40, 80, 160]
    recs = []
    for tokens in [0, 1e5, 1e6, 1e7]:
        for seed in range(n_seeds):
            for mode_name, p_frac in modes:
                P = int(N * p_frac)
                law = [0.0] + [forgetting.forgetting_law(LAW, P, s) for s in steps[1:]]
                final = 4.9 + 0.1 * abs(np.log(max(tokens, 1.0) / (onset or 1e8))) / 10 + rng.normal(0, 0.02)
                curve = list(np.linspace(5.6, final, len(steps)))
                forget = {lang: [3.0 + f + (rng.normal(0, 0.002) if i else 0.0) for i, f in enumerate(law)]
                          for lang in ("uk", "el")}
                recs.append({"ckpt_step": int(tokens // 512), "tokens": tokens, "task_index": 0, "lang": "uk",
                             "seed": seed, "mode": mode_name[:4], "mode_name": mode_name, "lr": 1e-3,
                             "best_lr": True, "trainable_params": P, "n_nonembed": N, "probe_lang": "vi",
                             "eval_steps": steps, "curve": curve, "zero_shot": curve[0], "final": curve[-1],
                             "mean": float(np.mean(curve)), "forget": forget})
    recs.append(dict(recs[-1], best_lr=False, lr=1.0, forget={"uk": [3.0] + [99.0] * 5}))
    return recs


def write_run(root, name, N, seed_onsets, *, schedule="continual", corpus="synthetic", vocab="v1",
              by_mode=False, records=None, last_tokens=1e8, mode="full", resolved=True):
    d = root / name
    d.mkdir()
    config = {"schedule": schedule, "corpus": corpus, "vocab_hash": vocab, "seed": 0, "n_nonembed": N,
              "model": f"m{N:g}"}
    entry = onset_entry(seed_onsets, last_tokens, resolved)
    onset = {"run": name, "metric": "final", "mode": mode, **entry}
    if by_mode:  # lora4 onsets later by a constant factor, so both modes follow the same exponent
        onset["onsets_by_mode"] = {"full": entry, "lora4": onset_entry(
            [None if v is None else 2 * v for v in seed_onsets], last_tokens)}
    (d / "config.json").write_text(json.dumps(config))
    (d / "onset.json").write_text(json.dumps(onset))
    if records is not None:
        (d / "probe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(d)


def experiment(root, rng, alpha=0.6, sigma=0.2, runs_per_size=3, n_seeds=3, schedule="continual",
               sizes=SIZES, records=False, by_mode=False, prefix=""):
    """Runs whose per-seed onsets are 50 * N^alpha with log-normal noise."""
    dirs = []
    for N in sizes:
        for k in range(runs_per_size):
            seeds = list(50 * N**alpha * np.exp(rng.normal(0, sigma, n_seeds)))
            recs = probe_records(N, float(np.median(seeds)), rng, n_seeds) if records else None
            dirs.append(write_run(root, f"{prefix}{schedule}-{N:g}-{k}", N, seeds, schedule=schedule,
                                  records=recs, by_mode=by_mode))
    return dirs


def run_main(dirs, out, *extra):
    return fit.main([*dirs, "--out", str(out), "--bootstrap", "200", "--starts", "3", *extra])


def test_recovers_sublinear_exponent_with_covering_interval(tmp_path):
    dirs = experiment(tmp_path, np.random.default_rng(1))
    summary = run_main(dirs, tmp_path / "fit")
    (g,) = summary["onset"]["groups"]
    assert abs(g["alpha"] - 0.6) < 0.05
    assert g["alpha_ci"][0] < 0.6 < g["alpha_ci"][1]
    assert g["verdict"] == "sublinear"
    assert g["log_a_ci"][0] < np.log(50) < g["log_a_ci"][1]
    assert len(g["loso"]) == 5 and all(abs(x["alpha"] - 0.6) < 0.1 for x in g["loso"])
    assert [p["N"] for p in g["predictions"]] == [1e9, 7e9, 70e9]
    assert all(p["ci"][0] < p["onset"] < p["ci"][1] for p in g["predictions"])
    assert g["start_spread"] < 1e-6


def test_noiseless_huber_equals_least_squares():
    logN = np.log(SIZES)
    res = regression.fit_power_law(logN, np.log(50) + 0.6 * logN, delta=0.1, starts=5)
    assert res["alpha"] == pytest.approx(res["alpha_huber"], rel=1e-6)
    assert res["log_a"] == pytest.approx(res["log_a_huber"], rel=1e-6)
    assert res["alpha"] == pytest.approx(0.6, rel=1e-6)


def test_huber_resists_an_outlier():
    logN = np.log(np.repeat(SIZES, 2))
    logy = np.log(50) + 0.6 * logN + np.random.default_rng(0).normal(0, 0.02, logN.size)
    logy[-1] += 3.0  # one run's onset wildly late
    res = regression.fit_power_law(logN, logy, delta=0.1, starts=3)
    assert abs(res["alpha_huber"] - 0.6) < 0.03  # the check beside least squares, which the outlier pulls
    assert abs(res["alpha_huber"] - 0.6) < abs(res["alpha"] - 0.6) / 3


def test_forgetting_fit_recovers_known_law():
    rng = np.random.default_rng(0)
    P = np.repeat([1e3, 1e4, 1e5], 40)
    S = np.tile(np.repeat([10, 20, 40, 80, 160, 320, 640, 1280], 5), 3)
    F = forgetting.forgetting_law(LAW, P, S) + rng.normal(0, 0.002, P.size)
    res = forgetting.fit_forgetting(P, S, F, delta=0.02, starts=3)
    assert res["form"] == "A*(P^a*S)^b+E"
    for k in "Aab":
        assert res[k] == pytest.approx(LAW[k], rel=0.1), k
    assert res["E"] == pytest.approx(LAW["E"], abs=0.02)
    # one distinct P: the law in S alone, with A absorbing P^(a b)
    one = forgetting.fit_forgetting(P[P == 1e4], S[P == 1e4], F[P == 1e4], starts=3)
    assert one["form"] == "A*S^b+E" and one["a"] == 0.0
    assert one["b"] == pytest.approx(LAW["b"], rel=0.15)


@pytest.mark.parametrize("case, message", [
    ("zero onset", "non-positive onset"),
    ("mixed corpora", "runs mix corpora"),
    ("mixed vocab", "runs mix vocabularies"),
    ("no runs", "no run directories with onset.json"),
])
def test_degenerate_input_refused(tmp_path, case, message):
    if case == "zero onset":
        dirs = [write_run(tmp_path, "r0", 1e4, [1e6, 1e6, 1e6]), write_run(tmp_path, "r1", 1e5, [0.0, 0.0, 0.0])]
    elif case == "mixed corpora":
        dirs = [write_run(tmp_path, "r0", 1e4, [1e6] * 3), write_run(tmp_path, "r1", 1e5, [2e6] * 3, corpus="wiki")]
    elif case == "mixed vocab":
        dirs = [write_run(tmp_path, "r0", 1e4, [1e6] * 3), write_run(tmp_path, "r1", 1e5, [2e6] * 3, vocab="v2")]
    else:
        (tmp_path / "empty").mkdir()
        dirs = [str(tmp_path / "empty")]
    with pytest.raises(SystemExit) as err:
        run_main(dirs, tmp_path / "fit")
    text = str(err.value)
    assert text.startswith("fit.py: ") and message in text and "\n" not in text


def test_one_size_is_reported_without_a_law(tmp_path):
    """Runs of one size (a mitigation compared at the smallest size): no law, said so, and the
    runs and their onsets reported all the same."""
    dirs = [write_run(tmp_path, f"r{k}", 1e5, [1e6, 2e6, 3e6]) for k in range(3)]
    summary = run_main(dirs, tmp_path / "fit")
    assert not summary["onset"]["groups"] and len(summary["onset"]["skipped"][0]["runs"]) == 3
    assert any("all runs have one model size" in w for w in summary["warnings"])
    assert "| continual | full | r0 |" in (tmp_path / "fit" / "report.md").read_text()


def test_censored_runs_listed_and_checked(tmp_path, capsys):
    rng = np.random.default_rng(2)
    dirs = experiment(tmp_path, rng, runs_per_size=2)
    # a large model with no onset by 1e5 tokens: consistent with the line (predicted 50 * 1e7^0.6 = 8e5)
    dirs.append(write_run(tmp_path, "big-censored", 1e7, [None, None, None], last_tokens=1e5))
    # a small model that should have shown its onset (1.3e4) long before 1e9 tokens: inconsistent
    dirs.append(write_run(tmp_path, "small-censored", 1e4, [None, 5e4, None], last_tokens=1e9))
    (tmp_path / "not-probed").mkdir()
    dirs.append(str(tmp_path / "not-probed"))
    summary = run_main(dirs, tmp_path / "fit")
    assert "not-probed has no onset.json" in capsys.readouterr().err
    (g,) = summary["onset"]["groups"]
    cens = {c["run"]: c for c in g["censored"]}
    assert set(cens) == {"big-censored", "small-censored"}
    assert cens["big-censored"]["consistent"] and not cens["small-censored"]["consistent"]
    assert g["n_runs"] == 12 and g["n_fitted"] == 10 and abs(g["alpha"] - 0.6) < 0.1
    saved = json.loads((tmp_path / "fit" / "summary.json").read_text())
    assert {c["run"] for c in saved["onset"]["groups"][0]["censored"]} == set(cens)
    assert "small-censored" in (tmp_path / "fit" / "report.md").read_text()


def test_an_onset_not_established_is_fitted_as_censored(tmp_path):
    """An estimate whose interval is open above (the curve may never turn) does not pull the line:
    a wild one at the smallest size would otherwise move alpha far from the truth."""
    rng = np.random.default_rng(5)
    dirs = experiment(tmp_path, rng, runs_per_size=2)
    wild = write_run(tmp_path, "open-above", 1e4, [2e7, 3e7, 4e7], last_tokens=1e8)
    onset_file = os.path.join(wild, "onset.json")
    entry = json.loads(open(onset_file).read())
    entry["interval"] = [2e7, None]
    open(onset_file, "w").write(json.dumps(entry))
    summary = run_main(dirs + [wild], tmp_path / "fit")
    (g,) = summary["onset"]["groups"]
    assert g["n_fitted"] == 10 and abs(g["alpha"] - 0.6) < 0.1
    assert [c["run"] for c in g["censored"]] == ["open-above"]
    (p,) = [p for p in g["runs"] if p["run"] == "open-above"]
    assert p["censored"] and p["open_above"] and p["estimate"] == 3e7
    assert "not established: 3e+07 [2e+07, censored], fitted as censored" in (tmp_path / "fit" / "report.md").read_text()


def test_end_to_end_modes_schedules_forgetting_and_figures(tmp_path):
    rng = np.random.default_rng(3)
    sizes = SIZES[:3]
    dirs = experiment(tmp_path, rng, sizes=sizes, runs_per_size=2, records=True, by_mode=True)
    dirs += experiment(tmp_path, rng, alpha=0.6, sizes=sizes, runs_per_size=2, schedule="stationary",
                       records=True, by_mode=True)
    # the only run in mode last1: that group has one size, so it is skipped with a warning
    dirs.append(write_run(tmp_path, "lone", 1e4, [1e6] * 3, schedule="stationary", mode="last1"))
    summary = run_main(dirs, tmp_path / "fit")
    out = tmp_path / "fit"

    groups = {(g["schedule"], g["mode"]): g for g in summary["onset"]["groups"]}
    assert set(groups) == {(s, m) for s in ("continual", "stationary") for m in ("full", "lora4")}
    assert all(abs(g["alpha"] - 0.6) < 0.15 for g in groups.values())
    assert all(len(g["loso"]) == 3 for g in groups.values())
    comparison = {c["mode"]: c for c in summary["onset"]["schedule_comparison"]}
    assert set(comparison) == {"full", "lora4"}
    assert all(c["diff_ci"][0] < 0 < c["diff_ci"][1] for c in comparison.values())  # same true alpha

    f = summary["forgetting"]
    assert f["form"] == "A*(P^a*S)^b+E" and len(f["distinct_P"]) == 6
    assert f["params"]["b"] == pytest.approx(LAW["b"], rel=0.1)
    assert f["ci"]["b"][0] < LAW["b"] < f["ci"]["b"][1]
    assert 0 <= f["linear"]["r2"] <= 1

    saved = json.loads((out / "summary.json").read_text())
    assert saved["options"]["bootstrap"] == 200 and saved["options"]["seed"] == 0
    assert len(saved["inputs"]) == len(dirs)
    report = (out / "report.md").read_text()
    assert "sublinear" in report and "Forgetting law" in report and "skipped" in report
    for name in ("onset_vs_size.png", "probe_curves.png", "probe_parts.png", "cycle_curves.png", "forgetting.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]

    # same seed, same numbers
    again = run_main(dirs, tmp_path / "fit2")
    assert again["onset"]["groups"][0]["alpha_ci"] == summary["onset"]["groups"][0]["alpha_ci"]


def test_all_censored_is_reported_not_refused(tmp_path):
    dirs = [write_run(tmp_path, f"r{k}", n, [None, None, None]) for k, n in enumerate([1e4, 1e5])]
    run_main(dirs, tmp_path / "fit")
    summary = json.loads((tmp_path / "fit" / "summary.json").read_text())
    text = json.dumps(summary)
    assert "no onset law fitted" in text
    assert (tmp_path / "fit" / "onset_vs_size.png").exists()
    report = (tmp_path / "fit" / "report.md").read_text()  # what was seen, run by run, not empty tables
    assert "Not fitted" in report and report.count("none seen (censored)") == 2 and "| r1 |" in report


def test_onsets_bounded_only_by_the_grid_are_not_a_law(tmp_path, capsys):
    dirs = [write_run(tmp_path, f"r{k}", n, [4e3 * (1 + 0.1 * k)] * 3, resolved=False)
            for k, n in enumerate([1e4, 1e5, 1e6])]
    summary = run_main(dirs, tmp_path / "fit")
    (g,) = summary["onset"]["groups"]
    assert g["verdict"].startswith("unresolved") and len(g["unresolved"]) == 3
    assert "does not resolve them" in capsys.readouterr().err
    # one size resolved is still no law: the slope would rest on the grid-bound onsets
    dirs = [write_run(tmp_path, f"s{k}", n, [4e3 * (1 + 0.1 * k)] * 3, resolved=k == 0)
            for k, n in enumerate([1e4, 1e5, 1e6])]
    (g,) = run_main(dirs, tmp_path / "fit2")["onset"]["groups"]
    assert g["verdict"].startswith("unresolved") and len(g["unresolved"]) == 2


def test_forgetting_flat_in_steps_is_flagged_not_reported_as_a_law(tmp_path):
    """Forgetting that depends on P but not on S drives b to 0: the report must say a and b are not identified."""
    rng = np.random.default_rng(3)
    dirs = []
    for N in (1e4, 1e5):
        recs = probe_records(N, None, rng)
        for r in recs:
            flat = 0.2 * np.log10(r["trainable_params"])  # the same rise at every step
            r["forget"] = {lang: [3.0] + [3.0 + flat + rng.normal(0, 0.002) for _ in r["eval_steps"][1:]]
                           for lang in ("uk", "el")}
        dirs.append(write_run(tmp_path, f"flat-{N:g}", N, [1e5, 1.1e5, 1.2e5], records=recs))
    summary = run_main(dirs, tmp_path / "fit")
    f = summary["forgetting"]
    assert f["params"]["b"] < 0.05 and "not separately identified" in f["note"]
    assert all(ci is None for ci in f["ci"].values())  # no intervals that look precise around a degenerate fit
    assert any("not separately identified" in w for w in summary["warnings"])


def estimator_errors(rng, noise, n=60):
    """log(estimated / true onset) of onset.py on simulated probe curves (3 seeds, 10 per decade)."""
    x = np.log10(np.logspace(4, 7, 31))
    errors = []
    for i in range(n):
        fn = calibration.simulated_curve(("smooth", "plateau")[i % 2], rng, x)
        est = onset.estimate_onset(10 ** x, fn(x) + rng.normal(0, noise, (3, x.size)), None, 0.05, 100, seed=i)
        if not est["censored"]:
            errors.append(np.log(est["onset_tokens"]) - calibration.true_onset(fn, x, 0.05) * np.log(10))
    return np.array(errors)


def simulated_verdicts(rng, errors, alpha, noise_by_size, run_sd=0.05, n_studies=200):
    """Studies of 5 sizes x 3 runs with onsets 50 N^alpha, run-to-run scatter and the estimator's
    own errors; returns (alpha interval covers the truth, verdict) per study."""
    out = []
    for _ in range(n_studies):
        runs = []
        for N, noise in zip(SIZES, noise_by_size):
            for k in range(3):
                tokens = 50 * N ** alpha * np.exp(rng.normal(0, run_sd) + rng.choice(errors[noise]))
                runs.append(fit.Run(f"{N:g}-{k}", "", {"n_nonembed": N, "schedule": "continual"},
                                    {"full": fit.Onset(tokens, 1e12, None)}, []))
        g = fit.fit_onset_group("continual", "full", runs, 0.1, 1)
        out.append((g["alpha_ci"][0] <= alpha <= g["alpha_ci"][1], g["verdict"]))
    return out


def test_alpha_interval_covers_in_simulated_studies():
    """200 studies, 5 sizes x 3 runs, alpha = 0.6, onsets carrying onset.py's measured errors:
    the 95% interval of alpha covers >= 92%, whether the probe noise is the same at every size or
    grows with size; alpha = 1.2 is found superlinear; alpha = 0 is called sublinear no more often
    than a calibrated 95% interval allows (2.5%: it excludes a true 0 from below that often)."""
    rng = np.random.default_rng(0)
    errors = {noise: estimator_errors(rng, noise) for noise in (0.005, 0.02, 0.05)}
    for noise_by_size in ([0.02] * 5, [0.005, 0.005, 0.02, 0.05, 0.05], [0.05, 0.05, 0.02, 0.005, 0.005]):
        covered = [c for c, _ in simulated_verdicts(rng, errors, 0.6, noise_by_size)]
        assert np.mean(covered) >= 0.92, (noise_by_size, np.mean(covered))
    steep = [v for _, v in simulated_verdicts(rng, errors, 1.2, [0.02] * 5)]
    assert np.mean([v == "superlinear" for v in steep]) >= 0.9
    flat = [v for _, v in simulated_verdicts(rng, errors, 0.0, [0.02] * 5)]
    assert np.mean([v == "sublinear" for v in flat]) <= 0.025 and "superlinear" not in flat


def test_no_predictions_without_an_established_law(tmp_path):
    rng = np.random.default_rng(5)
    # onsets that do not depend on size: alpha ~ 0, the interval straddles 0, no law to extrapolate
    dirs = [write_run(tmp_path, f"r{N:g}-{k}", N, [1e6 * np.exp(rng.normal(0, 0.3))] * 3)
            for N in SIZES for k in range(2)]
    (g,) = run_main(dirs, tmp_path / "fit")["onset"]["groups"]
    assert g["verdict"] not in ("sublinear", "superlinear") and g["predictions"] == []
    assert "not established" in (tmp_path / "fit" / "report.md").read_text()


def test_mitigations_are_fitted_apart_and_compared_with_none(tmp_path, capsys):
    """Two arms of one study: onsets 50 N^0.6 without a mitigation, 100 N^0.9 with one. Mixed,
    fit.py refuses them; fitted apart, report.py's comparison gives the change in alpha with an
    interval that excludes 0, and the onset ratio at every size."""
    import compare as report

    rng = np.random.default_rng(3)
    arms = {}
    for mit, a, alpha in (("none", 50, 0.6), ("snp", 100, 0.9)):
        root = tmp_path / mit
        root.mkdir()
        dirs = []
        for N in SIZES:
            for k in range(3):
                onsets = list(a * N ** alpha * np.exp(rng.normal(0, 0.05, 3)))
                d = write_run(root, f"{N:g}-{k}", N, onsets, records=probe_records(N, float(np.median(onsets)), rng))
                cfg = json.loads((root / f"{N:g}-{k}" / "config.json").read_text())
                (root / f"{N:g}-{k}" / "config.json").write_text(json.dumps(dict(cfg, mitigation=mit)))
                dirs.append(d)
        arms[mit] = dirs
    with pytest.raises(SystemExit, match="runs mix mitigations"):
        run_main(arms["none"] + arms["snp"], tmp_path / "mixed")
    for mit, dirs in arms.items():
        assert run_main(dirs, tmp_path / "fit" / mit)["mitigation"] == mit
    rows = report.write_comparison(tmp_path / "fit", [tmp_path / "fit" / "none", tmp_path / "fit" / "snp"])
    (row,) = rows
    assert row["mitigation"] == "snp" and row["diff_ci"][0] < 0.3 < row["diff_ci"][1] and row["excludes_zero"]
    for N, ratio in row["onset_ratio"].items():
        assert abs(np.log(ratio / (2 * N ** 0.3))) < 0.15
    assert row["loss_cost"] is not None and abs(row["loss_cost"]) < 0.1  # the same simulated training loss
    md = (tmp_path / "fit" / "mitigations.md").read_text()
    assert "| snp | continual / full |" in md and "(excludes 0)" in md
    # a mitigation that keeps the largest size from losing plasticity within its runs: that size's
    # ratio is a lower bound (its runs enter with their last checkpoint), the alphas are not differenced
    root = tmp_path / "l2"
    root.mkdir()
    for N in SIZES:
        for k in range(3):
            onsets = [None] * 3 if N == SIZES[-1] else list(50 * N ** 0.6 * np.exp(rng.normal(0, 0.05, 3)))
            write_run(root, f"{N:g}-{k}", N, onsets, last_tokens=1e6)
            cfg = json.loads((root / f"{N:g}-{k}" / "config.json").read_text())
            (root / f"{N:g}-{k}" / "config.json").write_text(json.dumps(dict(cfg, mitigation="l2init")))
    run_main([str(root / d) for d in sorted(os.listdir(root))], tmp_path / "fit" / "l2init")
    rows = report.write_comparison(tmp_path / "fit", [tmp_path / "fit" / m for m in ("none", "snp", "l2init")])
    (l2,) = [r for r in rows if r["mitigation"] == "l2init"]
    assert l2["onset_ratio_kind"][SIZES[-1]] == ">=" and l2["onsets_seen"][SIZES[-1]] == "0/3"
    assert abs(l2["onset_ratio"][SIZES[-1]] - 1e6 / (50 * SIZES[-1] ** 0.6)) < 0.2 and l2["diff"] is None
    assert all(l2["onset_ratio_kind"][n] == "=" for n in SIZES[:-1])
    assert f"{SIZES[-1]:.3g}: >=" in (tmp_path / "fit" / "mitigations.md").read_text()
    with pytest.raises(SystemExit, match="needs the fit of the runs without mitigation"):
        report.write_comparison(tmp_path / "x", [tmp_path / "fit" / "snp"])


def test_mitigations_compared_by_how_the_last_checkpoint_learns():
    """With no onsets to compare (every run censored), mitigations.md still says how the last
    checkpoint learns: its AUC against none's (mean over runs) and its dAUC against cycle 1."""
    import compare as report

    def summary(aucs, daucs):
        runs = [dict(run=f"r{i}", N=888, censored=True, bound=4e7, onset=None) for i in range(len(aucs))]
        return {"onset": {"groups": [], "skipped": [dict(schedule="continual", mode="full", runs=runs)]},
                "inputs": [dict(schedule="continual", final_train_loss=2.0)] * len(aucs),
                "changes": [dict(schedule="continual", change={"auc": [0.0, d]}, last={"auc": a})
                            for a, d in zip(aucs, daucs)]}

    (row,) = report.compare_mitigations({"none": summary([3.0, 3.2], [-1.0, -2.0]),
                                         "l2init": summary([3.0 * 0.98, 3.2 * 0.98], [-3.0, -4.0])})
    assert row["auc_vs_none"] == pytest.approx(-2.0) and row["dauc"] == pytest.approx(-3.5)
    assert row["dauc_none"] == pytest.approx(-1.5) and row["onset_ratio"] == {888: None}
    assert "| l2init | continual / full | -2.00% | -3.50% (-1.50%) |" in report.comparison_table([row])


def test_arms_paired_with_none_by_training_seed():
    """seed_effects pairs each arm's runs with none's of the same seed and size: with the arm's dAUC
    at the last checkpoint none's + 5 +- noise, the paired difference's interval holds 5 and is
    narrower than the unpaired spread (the seeds differ by 3 points alike in both arms); onsets
    established in every run of both give the mean shift in tasks; a seed none lacks is not paired."""
    import compare

    def summary(arm, daucs, aucs, onsets, seeds):
        runs = [dict(run=f"{arm}-s{sd}", all_onsets={"auc": {"delta": dict(
            censored=o is None, onset_tasks=o, interval=None if o is None else [o - 1, o + 1])}})
            for sd, o in zip(seeds, onsets)]
        return {"metric": "auc", "onset": {"groups": [], "skipped": [dict(schedule="continual", mode="full", runs=runs)]},
                "inputs": [dict(run=f"{arm}-s{sd}", seed=sd, schedule="continual") for sd in seeds],
                "changes": [dict(run=f"{arm}-s{sd}", N=3312.0, schedule="continual", change={"auc": [0.0, d]},
                                 last={"auc": a}) for sd, d, a in zip(seeds, daucs, aucs)]}

    base = [2.0, 5.0, 8.0]
    none = summary("none", base, [3.0, 3.1, 3.2], [4, 6, 8], [0, 1, 2])
    late = summary("opt_reset", [b + 5 + e for b, e in zip(base, (-0.1, 0.1, 0.0))], [3.3, 3.41, 3.52],
                   [10, 13, 13], [0, 1, 2])
    never = summary("wd", [-1.0, -2.0, -3.0, -4.0], [3.0] * 4, [None] * 4, [0, 1, 2, 3])
    rows = {r["arm"]: r for r in compare.seed_effects({"none": none, "opt_reset": late, "wd": never})}
    r = rows["opt_reset"]
    assert r["seeds"] == [0, 1, 2] and r["dauc_diff"][0] == pytest.approx(5.0)
    assert r["dauc_diff"][1][0] < 5 < r["dauc_diff"][1][1] and np.diff(r["dauc_diff"][1])[0] < 1
    assert np.diff(r["dauc"][1])[0] > 10  # unpaired, the seeds' spread
    assert r["auc_vs_none"][0] == pytest.approx(10.0, abs=0.01)
    assert r["onsets"] == "3/3" and r["onset_shift_tasks"][0] == pytest.approx(6.0)
    w = rows["wd"]
    assert w["unpaired"] == 1 and w["onsets"] == "0/3" and w["onset_shift_tasks"] is None
    table = compare.seed_effects_table(list(rows.values()))
    assert "| wd | continual | 3.31e+03 | 3 | -2.00% [" in table and "| 0/3 | 3/3, median 6 | – |" in table
    with pytest.raises(SystemExit, match="needs the fit of the runs without"):
        compare.seed_effects({"wd": never})


def test_censored_line_without_censoring_is_least_squares():
    rng = np.random.default_rng(8)
    x = np.log(np.repeat([888.0, 1107, 1350, 1617, 1908], 4))
    y = 1 + 2 * x + rng.normal(0, 0.4, x.size)
    line = regression.censored_line(x, y, np.zeros(x.size, bool))
    (c, m), covs, df = regression.ols_line(x, y)
    assert abs(line["m"] - m) < 1e-8 and abs(line["c"] - c) < 1e-6
    assert np.allclose(line["m_ci"], regression.t_interval(m, covs[0][1, 1], df), atol=1e-6)


def test_censored_line_covers_where_dropping_censored_runs_is_biased():
    """Our small-end design (5 sizes over a factor 2.1, 4 runs each, runs stopped at 4x10^7
    tokens) with a steep true law: a third of the runs see no onset. Least squares over the
    seen onsets is biased towards a flat line and undercovers; the censored fit must not be."""
    (r,) = regression.calibrate_censored(alphas=(4.0,), sds=(0.5,), n_studies=150, seed=9)
    assert 0.25 < r["censored"] < 0.4 and r["studies"] == 150
    assert r["censored_fit_coverage"] >= 0.93 and abs(r["censored_fit_median"] - 4.0) < 0.15
    assert r["least_squares_median"] < 3.5 and r["least_squares_coverage"] < 0.93  # what the censored fit is for


def test_censored_runs_decide_the_verdict(tmp_path):
    """Onsets that grow steeply with N, the largest sizes' runs stopped before theirs: the
    censored fit over all runs gives the verdict, and says superlinear."""
    rng = np.random.default_rng(10)
    dirs = []
    for N in (1e3, 1.5e3, 2.2e3, 3.3e3, 5e3):
        for k in range(3):
            true = 1e6 * (N / 1e3) ** 2.5 * np.exp(rng.normal(0, 0.2))
            seen = true < 2e7
            dirs.append(write_run(tmp_path, f"r{N:g}-{k}", N, [true] * 3 if seen else [None] * 3, last_tokens=2e7))
    summary = run_main(dirs, tmp_path / "fit")
    (g,) = summary["onset"]["groups"]
    cf = g["censored_fit"]
    assert cf["n_censored"] >= 3 and g["verdict_from"] == "censored likelihood"
    assert cf["alpha_ci"][0] > 1 and g["verdict"] == "superlinear"
    assert abs(cf["alpha"] - 2.5) < abs(g["alpha"] - 2.5)
    assert "censored likelihood" in (tmp_path / "fit" / "report.md").read_text()


def test_report_puts_every_onset_side_by_side(tmp_path):
    """probe.py estimates the onset of every probe metric under both definitions; the report
    puts them side by side per run, so an onset of the loss before fine-tuning alone (a worse
    start, not a worse learner) shows, and names the probe's kind."""
    rng = np.random.default_rng(5)
    dirs = experiment(tmp_path, rng, sizes=SIZES[:2], runs_per_size=2)
    seen = {"onset_tokens": 3e6, "interval": [2e6, 5e6], "censored": False, "resolved": True, "last_tokens": 1e8}
    none = dict(seen, onset_tokens=None, interval=None, censored=True)
    every = {"zero_shot": {"delta": {"full": seen}, "rise": {"full": seen}},
             "auc_no_step0": {"delta": {"full": none}, "rise": {"full": none}}}
    open_above = dict(seen, interval=[2e6, None])  # seen, not established: counted as no learner's onset
    learner = {"final": {"delta": {"full": open_above}, "rise": {"full": open_above}}}
    for d, e in zip(dirs[:3], (every, every, learner)):
        onset = json.loads((Path(d) / "onset.json").read_text())
        (Path(d) / "onset.json").write_text(json.dumps(dict(onset, onsets_by_metric=e, probe_kind="task-length")))
    run_main(dirs, tmp_path / "fit")
    text = (tmp_path / "fit" / "report.md").read_text()
    assert ("0 runs have an established onset in how they learn (the AUC without step 0, or the final loss); in 2 "
            "only the loss before fine-tuning has one") in text
    table = text[text.index("## Every onset, side by side"):].split("\n\n## ")[0]
    header = next(ln for ln in table.splitlines() if ln.startswith("| schedule"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    rows = {ln.split(" | ")[1]: [c.strip() for c in ln.strip("|").split("|")] for ln in table.splitlines()
            if ln.startswith("| continual")}
    names = [Path(d).name for d in dirs]
    row = rows[names[0]]
    assert row[cols.index("dAUC > 0 for good: before fine-tuning")] == "3e+06"
    assert row[cols.index("rise from the best so far: AUC without step 0")] == "none ≤ 1e+08"
    assert all(rows[n][cols.index("rise from the best so far: final loss")] == "–" for n in names[:2] + names[3:])
    assert rows[names[2]][cols.index("rise from the best so far: final loss")] == "3e+06 (open)"
    assert "Probe: **" in text


def test_a_fit_of_other_runs_is_not_overwritten(tmp_path):
    """A fit directory made from one set of runs is not silently replaced by a fit of another
    (the README's examples write elsewhere); --overwrite replaces it, the same runs refit freely."""
    dirs = experiment(tmp_path, np.random.default_rng(2), sizes=SIZES[:3], runs_per_size=2)
    run_main(dirs, tmp_path / "fit")
    run_main(dirs, tmp_path / "fit")  # the same runs: fine
    with pytest.raises(SystemExit, match="holds a fit of 6 other run directories.*--overwrite"):
        run_main(dirs[:4], tmp_path / "fit")
    assert len(json.loads((tmp_path / "fit" / "summary.json").read_text())["inputs"]) == 6
    run_main(dirs[:4], tmp_path / "fit", "--overwrite")
    assert len(json.loads((tmp_path / "fit" / "summary.json").read_text())["inputs"]) == 4
