"""
What fit.py writes: the figures (figures.py draws them), the Markdown report of a fit, and
summary.json.

    python fit.py out/demo/*-s0 --out out/demo/fit      # calls write_outputs() below
    python report.py --compare out/s/fit/none out/s/fit/snp --out out/s/fit/mitigations

*.png              the five figures of figures.py
report.md          every run's onset, the laws with their intervals and verdicts
summary.json       everything above as numbers; written last, so its presence means the
                   whole output was written
mitigations.md     (--compare) each mitigation's fit against that of the runs without one (compare.py)
"""

import json
import os

import numpy as np

import figures
import regression
from figures import fmt, fmt_ci, fmt_open


def write_outputs(out, summary, runs, fdata):
    """The five figures, report.md and (last) summary.json into the directory out."""
    os.makedirs(out, exist_ok=True)
    what = (f"{METRIC_NAMES.get(summary.get('metric'), summary.get('metric'))}, "
            f"{DEFINITION_NAMES.get(summary.get('definition'), summary.get('definition'))}")
    figures.plot_onsets(os.path.join(out, "onset_vs_size.png"), summary["onset"], what)
    figures.plot_probe_curves(os.path.join(out, "probe_curves.png"), runs)
    figures.plot_probe_parts(os.path.join(out, "probe_parts.png"), runs)
    figures.plot_cycle_curves(os.path.join(out, "cycle_curves.png"), runs)
    figures.plot_forgetting(os.path.join(out, "forgetting.png"), summary["forgetting"], fdata)
    write_atomic(os.path.join(out, "report.md"), write_report(summary))
    write_atomic(os.path.join(out, "summary.json"), json.dumps(_jsonable(summary), indent=2, allow_nan=False))


# ----------------------------------------------------------------------------- output

def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None  # strict JSON has no NaN or inf
    return v.item() if isinstance(v, np.generic) else v


METRIC_NAMES = {"auc": "AUC", "auc_no_step0": "AUC without step 0", "final": "final loss",
                "zero_shot": "before fine-tuning"}
DEFINITION_NAMES = {"delta": "dAUC > 0 for good vs cycle 1 (the paper's)", "rise": "rise from the best so far"}


def established(o):
    """An onset of onset.json's onsets_by_metric that is seen and whose interval is closed above."""
    return bool(o) and not o["censored"] and bool(o.get("interval")) and o["interval"][1] is not None


def onset_cell(o):
    """One onset of onset.json's onsets_by_metric, in a cell: tokens, open above, or none seen."""
    if not o:
        return "–"
    if o["censored"]:
        return f"none ≤ {fmt(o['last_tokens'])}"
    return fmt(o["onset_tokens"]) + ("" if established(o) else " (open)") + ("" if o["resolved"] else " (unres.)")


def side_by_side(o):
    """Every run's onsets of every metric under both definitions (full mode, or the first)."""
    points = [(g["schedule"], g["mode"], p) for g in o["groups"] + o["skipped"] for p in g["runs"]]
    mode = "full" if any(m == "full" for _, m, _ in points) else (points[0][1] if points else "full")
    rows = sorted(((sch, p) for sch, m, p in points if m == mode), key=lambda t: (t[0], t[1]["N"], t[1]["run"]))
    cols = [(d, m) for d in DEFINITION_NAMES for m in METRIC_NAMES]
    lines = [f"## Every onset, side by side (mode {mode})\n",
             "Each probe metric under both definitions (run_onset.py): the AUC weighs the whole fine-tuning curve, "
             "the AUC without step 0 how the checkpoint learns, the final loss where it gets to, the loss before "
             "fine-tuning where it starts. An onset in the loss before fine-tuning alone is a worse start, not a "
             "worse learner. 'none ≤ X': no onset up to the last checkpoint X; '(open)': the interval is open "
             "above, so the onset is not established.\n",
             "| schedule | run | N | " + " | ".join(f"{DEFINITION_NAMES[d].split(' (')[0].split(' vs')[0]}: "
                                                  f"{METRIC_NAMES[m]}" for d, m in cols) + " |",
             "|---|---|---|" + "---|" * len(cols)]
    for sch, p in rows:
        every = p.get("all_onsets") or {}
        lines.append(f"| {sch} | {p['run']} | {fmt(p['N'])} | "
                     + " | ".join(onset_cell((every.get(m) or {}).get(d)) for d, m in cols) + " |")
    return lines


def changes_table(rows):
    """Each metric's change against cycle 1 at every probed checkpoint, per run (fit.changes_against_reference):
    the numbers the paper's onset is read from."""
    if not rows:
        return []
    cycles = sorted({round(c, 3) for r in rows for c in r["cycles"] if c > 0})
    lines = ["\n## Against cycle 1, checkpoint by checkpoint\n",
             "100 (m_k / m_ref - 1) per run, m the mean over probe seeds of each probe metric at the checkpoint "
             "after that many cycles (0.125: the first task's end), ref the end of cycle 1 (or the first checkpoint "
             "after it). Positive: learns Vietnamese worse than at cycle 1. The paper's onset is where the AUC's "
             "turns positive for good.\n"]
    for key in METRIC_NAMES:
        if not any(key in r["change"] for r in rows):
            continue
        lines += [f"\n{METRIC_NAMES[key]} (% against cycle 1):\n",
                  "| schedule | run | N | " + " | ".join(f"{c:g}" for c in cycles) + " |",
                  "|---|---|---|" + "---|" * len(cycles)]
        for r in sorted(rows, key=lambda r: (r["schedule"], r["N"], r["run"])):
            at = {round(c, 3): v for c, v in zip(r["cycles"], r["change"].get(key, []))}
            lines.append(f"| {r['schedule']} | {r['run']} | {fmt(r['N'])} | "
                         + " | ".join("–" if at.get(c) is None else f"{at[c]:+.2f}" for c in cycles) + " |")
    return lines


def turn_section(t):
    """The turn of every run (turn.py: where the smooth probe curve is lowest, and the rise after it)
    beside the paper's onset, and the turn law where there is one."""
    if not t or not any(p["turn"] for p in t["runs"]):
        return []
    lines = ["\n## The turn\n",
             "Per run, from cycle 1 on: the cycle end where the smooth curve of the head metric is lowest (the "
             "turn) with its 95% interval, the rise per cycle after it (% of the metric at the turn) with its "
             "95% interval, and the paper's onset beside it. Established: the turn lies before the last two "
             "cycle ends and the rise's interval lies above zero (turn.py). The last column is the paper's "
             "onset's power on the run: the smallest dAUC that, sustained over the last quarter of its cycle "
             "ends, would have been established on its own data and noise (onset.smallest_sustained; – where "
             "not even 50% would be, or not computed).\n",
             "| schedule | run | N | turn (tokens) [95%] | rise after it (%/cycle) [95%] | established | paper's onset "
             "| smallest sustained dAUC it could establish |",
             "|---|---|---|---|---|---|---|---|"]
    for p in sorted(t["runs"], key=lambda p: (p["schedule"], p["N"], p["run"])):
        u = p["turn"]
        if not u:
            continue
        power = "–" if p.get("smallest_sustained") is None else f"+{p['smallest_sustained']:.2f}%"
        rise = "–" if u["rise_pct_per_cycle"] is None else \
            f"{u['rise_pct_per_cycle']:+.3f} " + ("" if u["rise_pct_interval"] is None else
                                                  f"[{u['rise_pct_interval'][0]:+.3f}, {u['rise_pct_interval'][1]:+.3f}]")
        lines.append(f"| {p['schedule']} | {p['run']} | {fmt(p['N'])} | {fmt(u['turn_tokens'])} {fmt_ci(u['interval'])} | "
                     f"{rise} | {'yes' if u['established'] else 'no'} | "
                     f"{'none' if p['onset'] is None else fmt(p['onset']) + ' ' + fmt_ci(p['onset_interval'])} | "
                     f"{power} |")
    for law in t["laws"]:
        lines.append(f"\nTurn against N, {law['schedule']}: " + (law["note"] or
                     f"turn = a N^alpha, alpha = {law['alpha']:.3f} {fmt_ci(law['alpha_ci'])} "
                     f"(least squares in logs over {len(law['established'])} runs at {len(law['sizes'])} sizes)."))
    return lines


def plain_summary(s):
    """The report's first paragraph: what the runs show, in words, from the numbers below it."""
    o = s["onset"]
    points = [p for g in o["groups"] + o["skipped"] if g["mode"] == "full" for p in g["runs"]] or \
        [p for g in o["groups"] + o["skipped"] for p in g["runs"]]
    n = len(points)
    est = sum(1 for p in points if not p["censored"])
    open_ = sum(1 for p in points if p["censored"] and p.get("open_above"))
    none = n - est - open_
    kinds = s.get("probe_kinds") or []
    text = [f"**In short.** {n} runs ({', '.join(sorted({i['schedule'] for i in s['inputs']}))}; N from "
            f"{min(i['n_nonembed'] for i in s['inputs']):,} to {max(i['n_nonembed'] for i in s['inputs']):,}), "
            f"probed with a {' / '.join(kinds) or 'probe of unrecorded kind'} probe. The onset ("
            f"{METRIC_NAMES.get(s.get('metric'), s.get('metric'))}, "
            f"{DEFINITION_NAMES.get(s.get('definition'), s.get('definition'))}) is established in {est} of them; "
            f"{none} show none up to their last checkpoint and {open_} have one whose interval is open above."]
    every = [p.get("all_onsets") or {} for p in points]
    d = s.get("definition", "rise")

    def seen(e, m):
        return established((e.get(m) or {}).get(d))

    start_only = sum(1 for e in every if seen(e, "zero_shot") and not seen(e, "auc_no_step0") and not seen(e, "final"))
    learner = sum(1 for e in every if seen(e, "auc_no_step0") or seen(e, "final"))
    if any(every):
        text.append(f"Split by the part of the fine-tuning curve: {learner} runs have an established onset in how they "
                    f"learn (the AUC without step 0, or the final loss); in {start_only} only the loss before "
                    "fine-tuning has one (a worse start, not a worse learner).")
    for g in o["groups"]:
        text.append(f"Onset law, {g['schedule']}/{g['mode']}: **{g['verdict']}** (alpha {g['alpha']:.2f} "
                    f"{fmt_ci(g['alpha_ci'])}" + (f"; censored likelihood {g['censored_fit']['alpha']:.2f} "
                                                    f"{fmt_open(g['censored_fit']['alpha_ci'])}" if g["censored_fit"]
                                                    else "") + ").")
    if not o["groups"]:
        text.append("No onset law: no group has onsets at two sizes.")
    if any(k.startswith("short") for k in kinds):
        text.append("A short probe weighs where a checkpoint starts heavily; read the side-by-side table before "
                    "any of the laws.")
    return " ".join(text) + "\n"


def write_report(s):
    o = s["onset"]
    kinds = s.get("probe_kinds") or ["(not recorded)"]
    head = (f"{METRIC_NAMES.get(s.get('metric'), s.get('metric'))}, "
            f"{DEFINITION_NAMES.get(s.get('definition'), s.get('definition'))}")
    lines = ["# Fit report\n", plain_summary(s), f"{len(s['inputs'])} runs, corpus `{s['corpus']}`, vocab `{s['vocab_hash']}`. "
             f"Probe: **{'; '.join(kinds)}**"
             + (" (a short probe lets the checkpoint's starting loss carry much of the AUC: read the side-by-side "
                "table before any law)" if any(k.startswith("short") for k in kinds) else "")
             + f". The onsets fitted: {head}. "
             "Onset law: least squares over runs, 95% t interval (the larger of the classical and HC3 "
             "standard errors); Huber fit "
             f"(delta {s['options']['huber_delta']} in log onset) alongside. Forgetting law: "
             f"{s['options']['bootstrap']} bootstrap replicates, seed {s['options']['seed']}.\n",
             "## Onsets per run\n",
             f"Each run's onset ({head}) from all its probed checkpoints and probe seeds (onset.py), with its "
             "95% interval.\n",
             "| schedule | mode | run | N | onset (tokens) [95%] | last checkpoint |",
             "|---|---|---|---|---|---|"]
    for g in sorted(o["groups"] + o["skipped"], key=lambda g: (g["schedule"], g["mode"])):
        for p in sorted(g["runs"], key=lambda p: p["N"]):
            seen = (f"not established: {fmt(p['estimate'])} {fmt_ci(p['interval'])}, fitted as censored"
                    if p.get("open_above") else "none seen (censored)") if p["censored"] else \
                f"{fmt(p['onset'])} {fmt_ci(p['interval'])}" + (
                f" = {p['tasks']:.3g} tasks" if p.get("tasks") else "") + (
                "" if p["resolved"] else " unresolved: before the second checkpoint")
            lines.append(f"| {g['schedule']} | {g['mode']} | {p['run']} | {fmt(p['N'])} | {seen} | "
                         f"{fmt(p['last_tokens'])} |")
    lines += [""] + side_by_side(o) + changes_table(s.get("changes", [])) + turn_section(s.get("turn"))
    lines.append("\n## Onset law: onset = a N^alpha\n")
    if not o["groups"]:
        lines.append("Not fitted: no (schedule, mode) group has onsets at two model sizes or more.")
    else:
        lines += ["alpha by least squares over the seen onsets; where runs are censored (no onset by the last "
                  "checkpoint, or one not established), also by censored maximum likelihood over all runs "
                  "(a censored run counts as an onset beyond its bound): least squares alone would then be "
                  "biased towards a flat line, so the verdict is the censored fit's.\n",
                  "| schedule | mode | runs (fitted/all) | sizes | alpha [95% CI] | alpha Huber | a [95% CI] "
                  "| alpha, censored likelihood [95%] | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {g['n_fitted']}/{g['n_runs']} | {len(g['sizes'])} | "
                  f"{g['alpha']:.3f} {fmt_ci(g['alpha_ci'])} | {g['alpha_huber']:.3f} | "
                  f"{fmt(g['a'])} {fmt_ci(g['a_ci'])} | "
                  + (f"{g['censored_fit']['alpha']:.3f} {fmt_open(g['censored_fit']['alpha_ci'])}"
                     if g["censored_fit"] else "– (none censored)")
                  + f" | **{g['verdict']}** |" for g in o["groups"]]
        predicted = [g for g in o["groups"] if g["predictions"]]
        lines += ["\n### Predicted onsets (tokens)\n"]
        if predicted:
            ns = [p["N"] for p in predicted[0]["predictions"]]  # fit.py's PREDICT_N, the same for every group
            lines += ["| schedule | mode | " + " | ".join(f"N = {n:.0e}" for n in ns) + " |",
                      "|---|---|" + "---|" * len(ns)]
            lines += [f"| {g['schedule']} | {g['mode']} | "
                      + " | ".join(f"{fmt(p['onset'])} {fmt_ci(p['ci'])}" for p in g["predictions"]) + " |"
                      for g in predicted]
        lines += [(f"{g['schedule']}/{g['mode']}: none; the verdict is the censored fit's, whose line has no "
                   "interval at other sizes (and a few sizes say little about N a million times larger)."
                   if g["censored_fit"] and g["verdict"] in ("sublinear", "superlinear") else
                   f"{g['schedule']}/{g['mode']}: none, the law is not established ({g['verdict']}); "
                   "extrapolating it would say nothing.") for g in o["groups"] if not g["predictions"]]
    bounds = [g for g in o["skipped"] if g.get("censored_fit")]
    if bounds:
        lines += ["\n### Groups with onsets at one size: what the censored runs say\n",
                  "| schedule | mode | runs (censored) | alpha, censored likelihood [95%] |", "|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {g['censored_fit']['n_runs']} ({g['censored_fit']['n_censored']}) "
                  f"| {g['censored_fit']['alpha']:.3f} {fmt_open(g['censored_fit']['alpha_ci'])} |" for g in bounds]
    loso = [(g, x) for g in o["groups"] for x in g["loso"]]
    if loso:
        lines += ["\n### Leave one size out\n",
                  "| schedule | mode | held-out N | alpha | observed / predicted onset |", "|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {fmt(x['held_out_N'])} | {x['alpha']:.3f} | "
                  f"{x['observed_over_predicted']:.3g} |" for g, x in loso]
    cens = [(g, c) for g in o["groups"] for c in g["censored"]]
    if cens:
        lines.append(f"\n### Censored runs in fitted groups: {len(cens)}")
        lines += ["", "The bound is the last checkpoint, or for an onset not established the lower end of its "
                  "interval; consistent: the least-squares line predicts an onset beyond it.", "",
                  "| schedule | mode | run | N | onset beyond | predicted onset | consistent |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {g['schedule']} | {g['mode']} | {c['run']} | {fmt(c['N'])} | {fmt(c['bound'])} | "
                  f"{fmt(c['predicted_onset'])} | {'yes' if c['consistent'] else 'NO'} |" for g, c in cens]
    if o["schedule_comparison"]:
        lines += ["\n### Continual vs stationary\n",
                  "| mode | alpha cont. | alpha stat. | difference [95% CI] | excludes 0 |", "|---|---|---|---|---|"]
        lines += [f"| {c['mode']} | {c['alpha_continual']:.3f} | {c['alpha_stationary']:.3f} | {c['diff']:.3f} "
                  f"{fmt_ci(c['diff_ci'])} | "
                  + (("yes" if c["excludes_zero"] else "no") if c["both_resolved"] else
                     "not compared: the onsets of one schedule do not resolve a law") + " |"
                  for c in o["schedule_comparison"]]
        if any(c["censored_present"] for c in o["schedule_comparison"]):
            lines.append("\nThe difference is of the least-squares alphas; a schedule has censored runs, so read "
                         "it beside the censored fits above.")
    f = s["forgetting"]
    lines.append("\n## Forgetting law\n")
    if "skipped" in f:
        lines.append(f"Skipped: {f['skipped']}.")
    else:
        lines += [f"F = {f['form']} over {f['n_points']} points ({f['n_records']} records, {f['n_runs']} runs, "
                  f"{len(f['distinct_P'])} distinct P), Huber delta {f['huber_delta']} nats. {f.get('note', '')}\n",
                  "| parameter | value | 95% CI |", "|---|---|---|"]
        lines += [f"| {k} | {fmt(v)} | {fmt_ci(f['ci'][k])} |" for k, v in f["params"].items()]
        lin = f["linear"]
        lines.append(f"\nFinal forgetting vs final learning: F = c * learn + d with c = {lin['c']:.3g} "
                     f"{fmt_ci(lin['c_ci'])}, d = {lin['d']:.3g}, R² = {lin['r2']:.3f}.")
    lines.append("\n## Diagnostics against the probe metric\n")
    d = s.get("diagnostics") or {}
    if not d:
        lines.append("None: these runs' checkpoints carry no diagnostics (trained before train.py recorded them, "
                     "or with --diagnostics=False).")
    else:
        lines += ["Per run, the rank correlation (Spearman) between each diagnostic and the probe metric over the "
                  "trained checkpoints (positive: higher with a worse probe); its mean over runs with a 95% "
                  "bootstrap interval over runs; the same over the checkpoints from each run's best one on (where "
                  "a loss of plasticity would show; over whole runs the correlation mostly follows training "
                  "progress); and, in runs with an onset and a checkpoint between the best one and the onset, how "
                  "often the diagnostic was higher at the last checkpoint before the onset than at the best.\n",
                  "| diagnostic | rank correlation, whole runs [95%] | runs | from the best checkpoint on [95%] | "
                  "runs | rose before the onset |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['rho']:+.2f} {fmt_ci(v['rho_ci'])} | {v['runs']} | "
                  + ("–" if v["rho_after_best"] is None else f"{v['rho_after_best']:+.2f} {fmt_ci(v['rho_after_best_ci'])}")
                  + f" | {v['runs_after_best']} | "
                  + (f"{v['rose_before_onset']} of {v['runs_with_onset']}" if v["runs_with_onset"] else "–")
                  + " |" for k, v in d.items()]
    ew = s.get("early_warning") or {}
    if ew:
        lines += ["\n### Early warning: the onset predicted from the diagnostics before it\n",
                  "A rule per diagnostic (relate.early_warning): warn at the first checkpoint after the reference "
                  "where its change since the reference passes a threshold, direction and threshold chosen on the "
                  "other runs with an established onset and applied to the run left out. The median error of the "
                  "warning against the onset as a factor over runs left out one at a time, the runs warned at or "
                  "before their onset, and the error of a rule without diagnostics (the other runs' geometric mean "
                  "onset): a diagnostic that warns must beat it.\n",
                  "| diagnostic | error factor, left out | warned at or before the onset | runs | "
                  "without diagnostics |", "|---|---|---|---|---|"]
        lines += [f"| {k} | {v['error_factor']:.2f} | {v['warned_early']} | {v['runs']} | {v['baseline_factor']:.2f} |"
                  for k, v in sorted(ew.items(), key=lambda kv: kv[1]["error_factor"])]
    if s["warnings"]:
        lines += ["\n## Warnings\n"] + [f"- {w}" for w in s["warnings"]]
    lines.append("\nFigures: `onset_vs_size.png`, `probe_curves.png`, `probe_parts.png`, `cycle_curves.png` (the probe's\n"
                 "fine-tuning curves at each probed checkpoint, one panel per size and schedule), `forgetting.png`.\n")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Compare fits of runs with and without mitigations.")
    ap.add_argument("--compare", nargs="+", required=True, help="fit directories (fit.py --out), none among them")
    ap.add_argument("--out", required=True, help="directory for mitigations.md and mitigations.json")
    a = ap.parse_args()
    from compare import comparison_table, write_comparison  # the comparison's own file; this command is its name

    print(comparison_table(write_comparison(a.out, a.compare)))
