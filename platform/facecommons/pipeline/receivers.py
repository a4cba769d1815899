"""Reactions of the pipeline to the contributions app's events (connected in PipelineConfig.ready)."""

from __future__ import annotations

from typing import Any

from facecommons.pipeline.services import pipeline_enqueue, pipeline_refresh_lighting_finding


def on_contribution_received(*, contribution_id: str) -> None:
    pipeline_enqueue(contribution_id)


def on_categories_changed(*, contribution: Any) -> None:
    # The declared lighting may have changed: re-judge lighting_mismatch in the same transaction.
    pipeline_refresh_lighting_finding(contribution=contribution)
