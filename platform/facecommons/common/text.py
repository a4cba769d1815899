"""Plain texts written in the admin (consent, data-use agreement), split for display."""

from __future__ import annotations

from typing import Any


def text_blocks(text: str) -> list[dict[str, Any]]:
    """A text (consent, agreement) as paragraphs and bullet lists, so that it reflows on a phone.

    The text is written in the admin as plain text: blank lines separate paragraphs, lines
    starting with "- " are list items, and other line breaks are only wrapping.
    """
    blocks: list[dict[str, Any]] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        para: list[str] = []
        items: list[str] = []
        for line in chunk.split("\n"):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(("- ", "* ", "• ")):
                if para:
                    blocks.append({"p": " ".join(para)})
                    para = []
                items.append(stripped[2:].strip())
            elif items:
                items[-1] += " " + stripped
            else:
                para.append(stripped)
        if items:
            blocks.append({"bullets": items})
        elif para:
            blocks.append({"p": " ".join(para)})
    return blocks


def text_items(text: str) -> list[str]:
    """Every paragraph and list item of ``text``, in order: a translation keeps the same
    items as its original, so item *n* is the same passage in every language."""
    items: list[str] = []
    for b in text_blocks(text):
        items.extend(b["bullets"] if "bullets" in b else [b["p"]])
    return items
