"""The model card a finished training run writes (Mitchell et al. 2019, "Model Cards for Model
Reporting"): data version, policy, recipe, and the per-group results with their intervals."""

from __future__ import annotations

from typing import Any

HEADLINE = {"face-vs-background": "miss_rate", "category": "accuracy", "verification": "fnmr@target"}


def _fmt(r: dict[str, Any]) -> str:
    if r.get("insufficient"):
        return f"insufficient data (n = {r['n']})"
    if r.get("estimate") is None:
        return r.get("note") or "—"
    ci = "" if r.get("ci_low") is None else f" [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
    return f"{r['estimate']:.3f}{ci} (n = {r['n']})"


def model_card(run: Any) -> str:
    cfg = run.config
    lines = [
        f"# Model card: workbench run {run.pk} ({run.task})", "",
        "## Data",
        f"- Snapshot {run.snapshot_version}, person-disjoint splits as published; trained on the train split, "
        "thresholded on validation, measured on the whole test split.",
        f"- Sampling policy: {run.policy_label} (max photos: {run.policy.get('max_photos') or 'all'}); "
        f"{run.training_set_size} training photos (the list is recorded with the run).", "",
        "## Recipe",
        f"- Seed {run.seed}, {cfg.get('epochs')} epochs, batch {cfg.get('batch_size')}, Adam lr {cfg.get('lr')}, "
        "weights trained from scratch (nothing downloaded).",
    ]
    if run.task == "face-vs-background":
        lines.append(f"- Three-convolution CNN on 32 px windows: face (square around the validated box) vs background "
                     f"patches cut from the same photos away from the box; threshold at {cfg.get('target_fpr')} "
                     "false positives on validation backgrounds.")
    elif run.task == "category":
        lines.append(f"- Classifier of `{cfg.get('category')}` on the aligned face crops "
                     f"(classes {', '.join(run.summary.get('classes', []))}).")
    else:
        lines.append(f"- Embedding (CosFace margin loss) on the aligned crops; threshold at FMR "
                     f"{cfg.get('target_fmr')} on validation; frozen dlib-resnet as the baseline.")
    lines += ["", "## Per-group results (test split, 95% intervals)", "",
              "| category | group | metric | estimate |", "|---|---|---|---|"]
    for r in run.rows:
        if r["metric"] in (HEADLINE[run.task], "gn_score", "background_false_positive_rate") or \
                r["metric"].endswith("_ratio") or r["metric"].endswith("_ratio@target"):
            lines.append(f"| {r['category']} | {r['value']} | {r['metric']} | {_fmt(r)} |")
    lines += ["", "## Limits",
              "- Groups under the minimum group size carry no estimate. Categories are self-declared.",
              "- A small model trained on one snapshot: for measuring what the training data changes, "
              "not for deployment."]
    return "\n".join(lines) + "\n"
