"""The short comprehension check before a person's first consent.

Three multiple-choice questions in the person's language: what is collected, who may
download it, how to withdraw. A wrong answer shows the passage of the consent text that
answers it, and the person answers again; the check never blocks for good. The questions
are interface strings (translated in the catalogues); the passage is taken from the consent
version itself (``ConsentVersion.check_passages``: the item number of the paragraph or list
item that answers each question, the same in every translation).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from facecommons.common.text import text_items


@dataclass(frozen=True)
class Question:
    key: str
    text: str | Promise
    choices: tuple[tuple[str, str | Promise], ...]
    correct: str


QUESTIONS: tuple[Question, ...] = (
    Question("collected", _("What does Face Commons collect?"), (
        ("nothing", _("Nothing: the photos are checked and then thrown away")),
        ("photos", _("Photos of my face and the categories I choose to declare")),
        ("contacts", _("My contacts and where I am")),
    ), correct="photos"),
    Question("download", _("Who may download the approved photos?"), (
        ("anyone", _("Anyone on the internet")),
        ("companies", _("Companies that pay for them")),
        ("researchers", _("Approved researchers who accepted a data-use agreement")),
    ), correct="researchers"),
    Question("withdraw", _("How can you withdraw?"), (
        ("account", _("At any time, from my account page: my photos are then deleted")),
        ("never", _("I cannot withdraw once a photo is approved")),
        ("letter", _("Only by sending a letter within 30 days")),
    ), correct="account"),
)


def wrong_answers(answers: dict[str, str]) -> list[str]:
    """The keys of the questions answered wrongly or not at all, in question order."""
    return [q.key for q in QUESTIONS if answers.get(q.key) != q.correct]


def passage(text: str, passages: dict[str, int] | None, key: str) -> str | None:
    """The paragraph or list item of ``text`` that answers question ``key`` (``passages``
    holds 1-based item numbers), or None when the version does not say which."""
    number = (passages or {}).get(key)
    items = text_items(text)
    if isinstance(number, int) and 1 <= number <= len(items):
        return items[number - 1]
    return None
