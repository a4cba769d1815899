"""JSON read with limits: every JSON body and every JSON-valued form field goes through here.

The standard library's decoder recurses once per nesting level, so ``"[" * 5000`` raises
``RecursionError``, which neither DRF's parser (it catches ``ValueError``) nor a caller
expecting ``JSONDecodeError`` turns into a 400. Here any decoding failure, a nesting
deeper than ``API_JSON_MAX_DEPTH`` or a text longer than ``API_JSON_MAX_BYTES`` is a
``ParseError`` (400) in the API's error format; a JSON body must also be an object, because
every endpoint reads named fields from it.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from facecommons.common.tunables import tunables


class JsonTooLarge(ParseError):
    status_code = 413
    default_code = "request_too_large"


def max_json_bytes() -> int:
    return tunables.API_JSON_MAX_BYTES


def max_json_depth() -> int:
    return tunables.API_JSON_MAX_DEPTH


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON, iteratively (a recursive walk would recurse too deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node)
    return deepest


def json_load(text: str | bytes, *, what: str = "The request body") -> Any:
    """Decode ``text`` as JSON within the size and depth limits, or raise ``ParseError``."""
    limit = max_json_bytes()
    if len(text) > limit:
        raise JsonTooLarge(f"{what} is too large: at most {limit // 1024} KB of JSON.")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ParseError(f"{what} is nested too deeply (at most {max_json_depth()} levels).") from exc
    except (ValueError, TypeError) as exc:  # JSONDecodeError and undecodable bytes are ValueErrors
        raise ParseError(f"{what} is not valid JSON.") from exc
    if json_depth(value) > max_json_depth():
        raise ParseError(f"{what} is nested too deeply (at most {max_json_depth()} levels).")
    return value


class JSONObjectParser(parsers.JSONParser):
    """DRF's JSON parser with the limits above; the body must be an object."""

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        if stream is None:
            return {}
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read(max_json_bytes() + 1)
        if len(raw) > max_json_bytes():
            raise JsonTooLarge(f"The request body is too large: at most {max_json_bytes() // 1024} KB of JSON.")
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError("The request body is not valid text.") from exc
        value = json_load(text)
        if not isinstance(value, dict):
            raise ParseError("The request body must be a JSON object.")
        return value
