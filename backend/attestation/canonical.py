"""The bytes both investigators sign: RFC 8785 canonical JSON and the submission digest.

Shared by every record that is attested on the device (home visits today, check-ins next);
the PWA's canonical.js produces the same bytes (tests/data/canonical_cases.json).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from typing import Any

import rfc8785

# The submission keys both investigators sign. Attestations themselves are not part of it,
# nor are server-side fields (received_at, flags, review state).
ATTESTED_KEYS: tuple[str, ...] = (
    "id",
    "case_id",
    "form_id",
    "form_version",
    "data",
    "stamps",
    "photos",
)


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme (JCS), UTF-8 bytes.

    Keys sorted by UTF-16 code units (as RFC 8785 and JavaScript's default sort do; it differs
    from code-point order only between astral characters and U+E000-U+FFFF), no whitespace,
    numbers as ECMAScript's Number.prototype.toString (100.0 -> 100, 1e21 -> 1e+21,
    1e-7 -> 1e-7, -0.0 -> 0). NaN, infinities, lone surrogates, non-string keys and integers
    beyond +-(2**53 - 1) (not exact in a JavaScript number) raise ValueError.

    ``rfc8785`` (Trail of Bits, pure Python, tested against the RFC's vectors; chosen over
    ``canonicaljson``, Matrix's format with other number rules, and ``jcs``, an unmaintained
    port) is the reference. It takes about a millisecond for a visit, so the common case goes
    through ``_fast_canonical_json`` (the C ``json`` encoder plus the number rules), which
    answers only where it provably agrees and hands everything else to ``rfc8785``:
    tests/unit/test_canonical.py checks both on the shared vectors and a Hypothesis corpus.
    The PWA's canonical.js produces the same bytes; tests/data/canonical_cases.json proves it.
    """
    fast = _fast_canonical_json(obj)
    return fast if fast is not None else rfc8785.dumps(obj)


_MAX_SAFE_INTEGER = 2**53 - 1
# In json.dumps's output: a string (as it escapes them) or a number token.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?[0-9][0-9.eE+-]*')
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _fast_canonical_json(obj: Any) -> bytes | None:
    """The RFC 8785 bytes of ``obj`` when the C encoder's output provably equals them, else
    None (then ``rfc8785`` decides, and raises where it must).

    ``json.dumps`` with sorted keys, no whitespace and UTF-8 text escapes strings exactly as
    RFC 8785 does (quote, backslash, \\b \\f \\n \\r \\t, other controls as lowercase
    \\u00xx). It differs in three places, each handled here:
    - key order: code points, not UTF-16 code units. The two agree unless a text holds an
      astral character; then None.
    - numbers: a float is written as Python's repr, the same shortest round-trip digits as
      ECMAScript, laid out alike except an integral ".0" (-0.0 too) and exponents (Python's
      from 1e16 and below 1e-4, ECMAScript's from 1e21 and below 1e-6, in another form):
      those tokens are rewritten (``_es_number``). An integer beyond +-(2**53 - 1) gives None.
    - types: non-string keys, tuples and other look-alikes would be coerced, so the text must
      parse back to a value equal to ``obj`` (both ways C code), else None. That parse also
      meets every number token, outside strings, as it was written.
    """
    rewrite: list[str] = []

    def parse_float(token: str) -> float:
        if token.endswith(".0") or "e" in token:
            rewrite.append(token)
        return float(token)

    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        if _ASTRAL.search(text) or json.loads(text, parse_float=parse_float,
                                              parse_int=_safe_int) != obj:
            return None
        if rewrite:
            text = _TOKEN.sub(_number_token, text)
        return text.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
    except (TypeError, ValueError, RecursionError):
        return None


def _safe_int(token: str) -> int:
    value = int(token)
    if not -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        raise ValueError(f"{token} is beyond what a JavaScript number holds exactly")
    return value


def _number_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token[0] == '"' or not ("." in token or "e" in token):
        return token
    return _es_number(float(token))


def _es_number(value: float) -> str:
    """ECMAScript Number::toString (ECMA-262 7.1.12.1, RFC 8785 3.2.2.3) of a finite float,
    from Python's repr, which holds the same shortest round-trip digits."""
    if value == 0:
        return "0"
    if value < 0:
        return "-" + _es_number(-value)
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # n: where the decimal point falls after the first len(whole) digits, shifted by exponent
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(
        (whole + fraction).lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    shift = point - 1
    sign = "+" if shift >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(shift)}"


def attested_content(submission: dict[str, Any]) -> dict[str, Any]:
    """The part of a submission the investigators sign: exactly ATTESTED_KEYS, all required."""
    missing = [key for key in ATTESTED_KEYS if key not in submission]
    if missing:
        raise ValueError(f"submission lacks attested keys: {', '.join(missing)}")
    return {key: submission[key] for key in ATTESTED_KEYS}


def submission_digest(submission: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of the submission's attested content."""
    return hashlib.sha256(canonical_json(attested_content(submission))).hexdigest()


def parsed_submission_digest_in(submission: dict[str, Any], digests: Collection[str]) -> bool:
    """Whether the digest of ``submission``, as a JSON parser returned it (dicts with string
    keys, lists, strings, ints, finite floats, booleans, None), is one of ``digests``: a
    replay's question, asked of a thousand records at once (issue 23).

    The C encoder's text is tried first, without ``_fast_canonical_json``'s parse back. Its
    hash can only equal a digest when that text *is* canonical JSON of some stored content:
    the encoder writes parsed JSON values injectively (no coercion is possible, floats are
    written round-trip exact), so the content is that stored content. Where the two writings
    differ (a float like 100.0 or 1e21, keys holding astral characters) the hash misses and
    the full digest answers. Raises ValueError as ``submission_digest`` does."""
    try:
        quick = json.dumps(attested_content(submission), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # ValueError: also a lone surrogate
        quick = None
    if quick is not None and hashlib.sha256(quick).hexdigest() in digests:
        return True
    return submission_digest(submission) in digests
