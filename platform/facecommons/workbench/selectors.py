"""Reads of the workbench: runs a user may see, and the per-group comparison of several runs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from facecommons.accounts.roles import is_admin, is_researcher
from facecommons.common.tunables import tunables
from facecommons.workbench.models import TrainingRun, TrainingStatus
from ml.workbench.results import difference_interval

#: The metric each task is compared on, and the summaries shown beside it.
HEADLINE = {"face-vs-background": "miss_rate", "category": "accuracy", "verification": "fnmr@target"}
SUMMARIES = ("gn_score", "miss_rate_ratio", "error_rate_ratio", "accuracy_gap", "face_recall_gap",
             "fmr_ratio@target", "fnmr_ratio@target", "fdr@target", "gn_score@target")


def can_use(user: Any) -> bool:
    return is_admin(user) or is_researcher(user)


def runs_for(user: Any) -> QuerySet[TrainingRun]:
    """Admins see every run, researchers the runs they started."""
    qs = TrainingRun.objects.defer("training_set", "rows", "baseline_rows", "model_card")
    return qs if is_admin(user) else qs.filter(requested_by=user)


def stats_min_count() -> int:
    return tunables.STATS_MIN_COUNT


def public_row(r: dict[str, Any]) -> dict[str, Any]:
    """A result row as shown: groups under STATS_MIN_COUNT lose their n and number."""
    if r["value"] != "*" and r["n"] < stats_min_count():
        return {**r, "n": None, "estimate": None, "ci_low": None, "ci_high": None, "hidden": True}
    return {**r, "hidden": False}


def compare(runs: list[TrainingRun], *, category: str) -> dict[str, Any]:
    """Per group of ``category``: each run's headline metric, and each run's difference to the
    first run (the reference) with Newcombe's interval for a difference of two proportions."""
    task = runs[0].task
    metric = HEADLINE[task]
    by_run = [{(r["category"], r["value"]): r for r in run.rows if r["metric"] == metric} for run in runs]
    groups = sorted({v for rows in by_run for (c, v) in rows if c == category})
    if category != "all":
        groups = ["all", *groups]
    table = []
    for g in groups:
        cat = "all" if g == "all" else category
        cells = []
        ref = by_run[0].get((cat, g))
        for rows in by_run:
            r = rows.get((cat, g))
            cell: dict[str, Any] = {"row": public_row(r) if r else None, "diff": None}
            if r and ref and r is not ref and not r["insufficient"] and not ref["insufficient"] and \
                    r["estimate"] is not None and ref["estimate"] is not None and metric != "fnmr@target" and \
                    min(r["n"], ref["n"]) >= stats_min_count():
                k1, k0 = round(r["estimate"] * r["n"]), round(ref["estimate"] * ref["n"])
                d, lo, hi = difference_interval(k1, r["n"], k0, ref["n"])
                cell["diff"] = {"estimate": d, "ci_low": lo, "ci_high": hi,
                                "significant": lo > 0 or hi < 0}
            cells.append(cell)
        table.append({"group": g, "cells": cells})
    summaries = []
    for name in SUMMARIES:
        vals = [next((public_row(r) for r in run.rows if r["metric"] == name and r["category"] == category
                      and r["value"] == "*"), None) for run in runs]
        if any(vals):
            summaries.append({"metric": name, "values": vals})
    categories = sorted({r["category"] for run in runs for r in run.rows if r["metric"] == metric} - {"all"})
    return {"metric": metric, "table": table, "summaries": summaries, "categories": categories,
            "same_task": all(r.task == task for r in runs),
            "done": all(r.status == TrainingStatus.DONE for r in runs)}


def run_payload(run: TrainingRun, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": run.pk, "snapshot": run.snapshot_version, "task": run.task, "policy": run.policy, "seed": run.seed,
        "status": run.status, "cancel_requested": run.cancel_requested,
        "progress": {"epoch": run.epoch, "epochs": run.epochs, "loss": run.loss, "validation": run.validation,
                     "validation_name": run.validation_name},
        "training_set_size": run.training_set_size, "registered_model_id": run.registered_model_id or None,
        "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
        "error": run.error or None,
    }
    if full:
        out.update({"config": run.config, "history": run.history, "summary": run.summary,
                    "results": [public_row(r) for r in run.rows],
                    "baseline_results": [public_row(r) for r in run.baseline_rows], "model_card": run.model_card})
    return out
