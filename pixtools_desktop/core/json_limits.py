"""Bounded JSON parsing for request fields (`operations`, `operation_params`, the CLI's --params).

Why: `json.loads` recurses once per nesting level, so 50,000 nested brackets
raise RecursionError (a 500 in `serve`, a traceback in the CLI), and a huge
field is parsed in full before anyone looks at it. A real request is a few
hundred bytes three levels deep, so size and depth are checked first, in one
linear scan that never recurses.
"""

from __future__ import annotations

import json
from typing import Any

from pixtools_desktop.core.errors import ValidationError

MAX_FIELD_BYTES = 64 * 1024
MAX_DEPTH = 16


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside JSON strings (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_limited(text: str, field: str) -> Any:
    """json.loads for one request field, after size and depth checks (ValidationError, 422, when over)."""
    if len(text) > MAX_FIELD_BYTES:
        raise ValidationError(f"{field} is too large ({len(text)} characters; at most {MAX_FIELD_BYTES})")
    if nesting_depth(text) > MAX_DEPTH:
        raise ValidationError(f"{field} is nested too deeply (more than {MAX_DEPTH} levels)")
    return json.loads(text)
