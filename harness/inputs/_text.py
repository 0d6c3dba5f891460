"""Text fields that must say something: empty after removing whitespace and invisible (zero-width) characters is
an error, so a scenario, persona, criterion, response or system prompt made of spaces or U+200B is caught up front."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
                                    "\u034f\u115f\u1160\u3164\uffa0"))
"""Zero-width and other invisible format characters (ZWSP, ZWNJ, ZWJ, LRM/RLM, word joiner, BOM, soft hyphen...)."""
BLANK = "is empty after removing whitespace and zero-width characters"


def is_blank(text: str) -> bool:
    """Whether `text` is empty once whitespace and invisible characters are removed."""
    return not text.translate(_INVISIBLE).strip()


def _non_blank(text: str) -> str:
    if is_blank(text):
        raise ValueError(BLANK)
    return text


NonBlank = Annotated[str, Field(min_length=1), AfterValidator(_non_blank)]
"""A str field that must hold visible text."""
