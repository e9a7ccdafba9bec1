"""WCAG 2.x contrast: the relative luminance of two sRGB colours, and their ratio (4.5:1 is
AA for text, 3:1 for large text and for the parts of graphics that carry meaning)."""

from __future__ import annotations

__all__ = ["contrast", "rgb"]

import re

_HEX = re.compile(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", re.IGNORECASE)
_CSS_RGB = re.compile(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)")


def rgb(colour: str) -> tuple[int, int, int]:
    """`#1a7f37`, or `rgb(26, 127, 55)` as a browser reports a computed colour (an
    `rgba(…)` must be opaque: a see-through colour has no contrast of its own)."""
    if match := _HEX.fullmatch(colour.strip()):
        r, g, b = (int(part, 16) for part in match.groups())
        return r, g, b
    if match := _CSS_RGB.fullmatch(colour.strip()):
        alpha = match.group(4)
        assert alpha is None or float(alpha) == 1, f"{colour} is not opaque"
        r, g, b = (int(part) for part in match.groups()[:3])
        return r, g, b
    raise ValueError(f"not a colour: {colour!r}")


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
