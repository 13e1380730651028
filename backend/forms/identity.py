"""Chinese resident ID numbers and mobile numbers: validate and mask (pure, no I/O).

Resident ID (公民身份号码), GB 11643-1999: 18 characters =
6-digit address code + 8-digit birth date YYYYMMDD + 3-digit sequence (odd for men) +
1 check character, ISO 7064 MOD 11-2: sum(digit_i * weight_i) mod 11 indexes "10X98765432".

Decisions:
- The check character must be an upper-case ``X``. A lower-case ``x`` is rejected rather than
  silently accepted, so what is stored is canonical and compares equal when the same person
  turns up in two households; input screens apply ``normalize_resident_id`` first.
- The address code is six ASCII digits not starting with 0 (no list of live area codes: codes
  change, and a person keeps the number of a county that was merged away).
- The birth date must be a real calendar date from 1800 on (the standard's own worked example,
  440524188001010014, is born in 1880). Whether it is in the future needs a clock: callers decide.
"""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_RESIDENT_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# A resident ID as the field-worker role is shown it (mask_resident_id): 4 + 10 stars + 4.
_MASKED_RESIDENT_ID = re.compile(r"[1-9][0-9]{3}\*{10}[0-9]{3}[0-9X]")


def is_calendar_date(year: int, month: int, day: int) -> bool:
    """A real Gregorian date (years 1-9999)."""
    if not (1 <= year <= 9999 and 1 <= month <= 12 and day >= 1):
        return False
    is_leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if is_leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return day <= days


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_resident_id(text: str) -> str:
    """What an input screen should store: trimmed, with the check character upper-case."""
    return text.strip().upper()


def is_valid_resident_id(text: object) -> bool:
    if not isinstance(text, str) or not _RESIDENT_ID.fullmatch(text):
        return False
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if year < 1800 or not is_calendar_date(year, month, day):
        return False
    return resident_id_check_char(text[:17]) == text[17]


def is_valid_mobile(text: object) -> bool:
    """11 digits, starting with 1 and a second digit 3-9 (mainland mobile numbers)."""
    return isinstance(text, str) and _MOBILE.fullmatch(text) is not None


def _mask(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_resident_id(text: str) -> str:
    """Keep the first 4 and last 4 characters: 110105199003071234 → 1101**********1234."""
    return _mask(text, 4, 4)


def is_masked_resident_id(text: object) -> bool:
    """A masked ID sent back untouched: the worker confirmed the registered number unchanged.

    A survey prefills members' IDs masked for the field-worker role; the worker types a full
    number only when it changed, so a masked one answers "as registered".
    """
    return isinstance(text, str) and _MASKED_RESIDENT_ID.fullmatch(text) is not None


def mask_mobile(text: str) -> str:
    """Keep the first 3 and last 4 digits: 13812345678 → 138****5678."""
    return _mask(text, 3, 4)
