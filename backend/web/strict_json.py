"""Parse a request body as JSON within limits, so a hostile body is a clear refusal.

Python's json module recurses once per nesting level (50,000 levels is a
RecursionError), turns `NaN` and `1e400` into floats that no canonical JSON can
hold, keeps the last of two equal keys without a word, and hands a lone
`\\ud800` escape through as a string no database or signature can encode.
`loads_strict` refuses each of those with a JsonBodyError naming the limit.

A `\\u0000` escape is valid JSON and is not refused here: `backend.dbtypes.nul_paths`
names the fields holding one, so the caller refuses just those.

Pure: no Flask. `backend.web.hooks` applies it to every JSON request body.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
# Longest number literal, in characters. Bounds the work of converting it; an
# integer this long still parses, and the visit rules refuse it per record.
MAX_NUMBER_LENGTH = 1000

# An escape is a backslash and the character after it; dropped first, so no quote or bracket
# that belongs to an escape survives into the structure below.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
# Every byte but the quote and the four brackets (bytes.translate deletes them in one C pass;
# UTF-8 never uses these bytes inside a multi-byte character).
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonBodyError(ValueError):
    """The body is not JSON this API accepts; the message says why, for the user."""


def loads_strict(raw: bytes | str, max_depth: int = MAX_DEPTH,
                 max_number_length: int = MAX_NUMBER_LENGTH) -> Any:
    text = _decode(raw)
    if not text.strip():
        raise JsonBodyError("The body is empty; send a JSON document.")
    # The bytes as received when there are any: the depth check works on bytes, and
    # encoding the decoded text again would be a second pass over the whole body.
    _check_depth(raw if isinstance(raw, bytes) else text, max_depth)
    try:
        value = json.loads(
            text,
            parse_int=lambda literal: _parse_int(literal, max_number_length),
            parse_float=lambda literal: _parse_float(literal, max_number_length),
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except JsonBodyError:
        raise
    except RecursionError as error:  # _check_depth makes this unreachable; kept as a net
        raise JsonBodyError(f"The body is nested more than {max_depth} levels deep.") from error
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise JsonBodyError(
            f"The body is not valid JSON ({error}); check quotes, commas and brackets."
        ) from error
    if _SURROGATE_ESCAPE.search(text):
        _check_no_lone_surrogates(value)
    return value


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonBodyError(
            f"The body is not valid UTF-8 (byte {error.start}); JSON must be sent as UTF-8."
        ) from error


def _brackets(body: bytes | str) -> bytes:
    """The body's brackets outside strings, in order.

    Escapes go first, then every byte but quotes and brackets. A bracket is then inside a
    string exactly when an odd number of quotes comes before it. Dropping two adjacent quotes
    keeps that parity for every bracket, so the many strings without a bracket (now ``""``)
    go in one replace; what is left is split at its quotes, keeping the pieces between
    strings. A regex that skipped every string, escapes and all, was a third of the parsing
    of a 2 MB push; these passes are a tenth of it (issue 23)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    structure = _ESCAPE.sub(b"", raw).translate(
        None, _NOT_STRUCTURE).replace(b'""', b"")
    return b"".join(structure.split(b'"')[0::2]) if b'"' in structure else structure


def _check_depth(body: bytes | str, max_depth: int) -> None:
    """Count nesting without recursion: drop strings, keep brackets, peel innermost pairs.

    Each pass removes one level, so a body that is not empty after `max_depth`
    passes is deeper than allowed. Every pass runs in C, in time linear in the body.
    """
    brackets = _brackets(body)
    for level in range(max_depth):
        if not brackets:
            return
        peeled = _INNERMOST_PAIR.sub(b"", brackets)
        if peeled == brackets:  # unbalanced: json.loads names the spot, if it is shallow
            if level + len(brackets) <= max_depth:
                return
            raise JsonBodyError("The body's brackets do not match; check [ ] and { }.")
        brackets = peeled
    if brackets:
        raise JsonBodyError(f"The body is nested more than {max_depth} levels deep.")


def _parse_int(literal: str, max_length: int) -> int:
    if len(literal) > max_length:
        raise JsonBodyError(f"A number in the body is longer than {max_length} digits.")
    try:
        return int(literal)
    except ValueError as error:  # the interpreter's own digit limit (sys.set_int_max_str_digits)
        raise JsonBodyError(f"A number in the body has too many digits ({error}).") from error


def _parse_float(literal: str, max_length: int) -> float:
    if len(literal) > max_length:
        raise JsonBodyError(f"A number in the body is longer than {max_length} characters.")
    value = float(literal)
    if not math.isfinite(value):
        raise JsonBodyError(f"The number {literal[:40]} is too large for this API.")
    return value


def _refuse_constant(name: str) -> Any:
    raise JsonBodyError(f"{name} is not a JSON number; send a finite number or null.")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise JsonBodyError(f"The key {key[:60]!r} appears twice in one object.")
            seen.add(key)
    return obj


def _check_no_lone_surrogates(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise JsonBodyError(
            "A string in the body holds an unpaired \\ud800-\\udfff escape, "
            "which is not a character."
        ) from error

