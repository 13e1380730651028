"""Review exports: the visits the queue's filters select, read in keyset batches and masked
for the caller (export_visits), each export audited, and their writers: CSV text in chunks,
and an XLSX file written row by row (XlsxWriter's constant_memory mode) into a temporary
file that is then streamed out.

Neither writer holds more than a batch of visits: export_visits reads the database in keyset
batches, already masked for the caller.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path

from flask import has_app_context

from backend import spreadsheets
from backend.audit import service as audit
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import new_id
from backend.extensions import db
from backend.forms import service as forms
from backend.jurisdictions import service as jurisdictions
from backend.privacy import catalogue
from backend.privacy import rules as privacy_rules
from backend.privacy import service as privacy
from backend.reviews import export_rules, queries, queue
from backend.reviews.export_rules import (
    MEMBER_COLUMNS,
    VISIT_COLUMNS,
    ExportVisit,
    ExportWords,
)
from backend.visits import queries as visits

# The desk's language files: the same words for review states, flags and severities as the
# review screens show (issue 21: no slug in an export).
DESK_WORDS = Path(__file__).resolve().parents[2] / "pwa" / "static" / "desk" / "i18n"


def export_words(language: str) -> ExportWords:
    """The words of an export: the desk's, and every published form's choices. Imported
    versions live in the database, so the words are kept per set of published versions (a
    new import brings its choices); without an app, the shipped forms alone."""
    fingerprint = forms.published_fingerprint() if has_app_context() else None
    return _export_words(language, fingerprint)


@lru_cache(maxsize=16)
def _export_words(language: str, fingerprint: str | None) -> ExportWords:
    desk = json.loads((DESK_WORDS / f"{language}.json").read_text("utf-8"))

    def prefixed(prefix: str) -> dict[str, str]:
        return {key[len(prefix):]: value for key, value in desk.items()
                if key.startswith(prefix)}

    choices: dict[str, dict[str, str]] = {}
    for definition in (forms.published() if fingerprint else forms.shipped()):
        for section in definition.get("sections", []):
            for field in section.get("fields", []):
                _add_choices(choices, field["name"], field, language)
                for inner in field.get("fields", []):
                    _add_choices(choices, f"{field['name']}.{inner['name']}", inner, language)
    return ExportWords(states=prefixed("review.state."), flags=prefixed("review.flag."),
                       severities=prefixed("review.severity."), choices=choices,
                       separator="、" if language == "zh-CN" else "; ")


def _add_choices(choices: dict[str, dict[str, str]], name: str, field: dict,
                 language: str) -> None:
    for choice in field.get("choices", []):
        label = choice.get("label")
        words = label.get(language) if isinstance(label, dict) else label
        if isinstance(words, str):
            choices.setdefault(name, {})[choice["value"]] = words

CHUNK_CHARS = 64 * 1024
EXPORT_BATCH = 500


def export_visits(caller: Caller, filters: dict, purpose: str = catalogue.EXPORT,
                  ) -> Iterator[export_rules.ExportVisit]:
    """The visits the queue's filters select, in the queue's order, masked for the caller,
    read in keyset batches of EXPORT_BATCH so memory stays flat however many there are.
    The role is checked now; the rows are read as the iterator is consumed."""
    queue.require(caller, queue.READERS, "export visits")
    query = queries.export_rows(caller, filters, EXPORT_BATCH)

    def batches() -> Iterator[export_rules.ExportVisit]:
        place_names: dict[str, str] = {}
        people: dict[str, str] = {}
        after = None
        while True:
            rows = db.session.execute(query if after is None
                                      else query.where(queries.after_key(*after))).all()
            if not rows:
                return
            answers = visits.current_answers([r.submission_id for r in rows])
            numbers = {c.id: c.case_no for c in cases.summaries(
                case_ids={r.case_id for r in rows})}
            place_names.update(jurisdictions.names(
                {r.jurisdiction_code for r in rows} - set(place_names)))
            team_ids = {u for r in rows for u in r.team_ids.split(",") if u}
            people.update(auth.display_names(team_ids - set(people)))
            for r in rows:
                found = answers.get(r.submission_id)
                masked = privacy.survey_answers(caller, found.form_id, found.form_version,
                                                found.data, purpose) if found else {}
                yield export_rules.ExportVisit(
                    r.submission_id, r.case_id, r.household_id, r.jurisdiction_code,
                    place_names.get(r.jurisdiction_code, r.jurisdiction_code), r.state,
                    r.revision, r.risk, [c for c in r.flag_codes.split(",") if c],
                    [people.get(u, u) for u in r.team_ids.split(",") if u], r.received_at,
                    r.started_at, r.ended_at, r.sent_back_count,
                    masked if isinstance(masked, dict) else {},
                    privacy_rules.mask_values(found.computed, caller, purpose)
                    if found else {},
                    case_no=numbers.get(r.case_id))
            last = rows[-1]
            after = (last.risk_rank, last.received_at, last.submission_id)
            db.session.expire_all()

    return batches()


def record_export(caller: Caller, kind: str, filters: dict) -> None:
    """Exports of personal data leave a trace (全程留痕, 003): who, when, which filters."""
    audit.record("reviews.exported", "review_export", new_id(),
                 after={"format": kind, "filters": {k: v for k, v in filters.items()
                                                    if v is not None}},
                 jurisdiction_code=caller.jurisdiction_code)


def full_export(caller: Caller, authorisation_id: str | None) -> Authorised | None:
    """None for a masked export (the default); with an authorisation id, the approver's
    leave spent (403 when it is not the caller's, used or expired) and audited."""
    if authorisation_id is None:
        return None
    leave = privacy.use_export_authorisation(caller, authorisation_id)
    names = auth.display_names({leave.exporter_id, leave.approver_id})
    return Authorised(leave.authorisation_id, names.get(leave.exporter_id, ""),
                      names.get(leave.approver_id, ""), leave.purpose, leave.authorised_at,
                      leave.made_at)


@dataclass(frozen=True)
class Authorised:
    authorisation_id: str
    made_by: str
    approver: str
    purpose: str
    authorised_at: datetime
    made_at: datetime

    def rows(self, language: str, zone: tzinfo) -> list[list[str]]:
        words = catalogue.REVEAL_PURPOSE_WORDS[language].get(self.purpose, self.purpose)
        return export_rules.authorisation_rows(language, self.made_by, self.made_at,
                                               self.approver, self.authorised_at, words,
                                               self.authorisation_id, zone)


def csv_chunks(visits: Iterable[ExportVisit], sheet: str, language: str, now: datetime,
               zone: tzinfo, authorised: Authorised | None = None) -> Iterator[str]:
    """UTF-8 CSV for Excel: a byte-order mark first, CRLF lines, formula-looking text
    defused (backend.spreadsheets)."""
    columns = VISIT_COLUMNS if sheet == "visits" else MEMBER_COLUMNS
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)
    buffer.write("\ufeff")
    if authorised is not None:  # a full export says so before its header line
        for line in authorised.rows(language, zone):
            writer.writerow(spreadsheets.csv_row(line))
        writer.writerow([])
    writer.writerow(spreadsheets.csv_row(export_rules.headers(columns, language)))
    words = export_words(language)
    for visit in visits:
        rows = ([export_rules.visit_cells(visit, now, zone, words)] if sheet == "visits"
                else export_rules.member_cells(visit, words))
        for row in rows:
            writer.writerow(spreadsheets.csv_row(row))
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(visits: Iterable[ExportVisit], language: str, now: datetime,
               zone: tzinfo, authorised: Authorised | None = None) -> str:
    """Write the workbook (a visits sheet and a members sheet) to a temporary file, row by
    row; return its path (the caller streams it and removes it: file_chunks)."""
    handle, path = tempfile.mkstemp(prefix="doorstep-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = spreadsheets.Workbook(path, constant_memory=True,
                                         tmpdir=os.path.dirname(path))
        names = export_rules.SHEET_NAMES[language]
        if authorised is not None:
            # A full export names who made it, when, and who authorised it: a first sheet
            # and the document properties, so the file carries it wherever it goes.
            rows = authorised.rows(language, zone)
            sheet = workbook.add_worksheet(export_rules.AUTHORISATION_SHEET[language])
            for number, cells in enumerate(rows):
                workbook.write_row(sheet, number, cells)
            workbook.set_properties({
                "title": rows[0][0], "author": authorised.made_by,
                "manager": authorised.approver, "keywords": authorised.authorisation_id,
                "comments": "; ".join(": ".join(cells) for cells in rows[1:]),
                "created": authorised.made_at})
        visit_sheet = workbook.add_worksheet(names[0])
        member_sheet = workbook.add_worksheet(names[1])
        bold = workbook.add_format({"bold": True})
        for sheet, columns in ((visit_sheet, VISIT_COLUMNS), (member_sheet, MEMBER_COLUMNS)):
            workbook.write_row(sheet, 0, export_rules.headers(columns, language), bold)
            sheet.freeze_panes(1, 0)
        visit_row = member_row = 1
        words = export_words(language)
        for visit in visits:
            workbook.write_row(visit_sheet, visit_row,
                               export_rules.visit_cells(visit, now, zone, words))
            visit_row += 1
            for member in export_rules.member_cells(visit, words):
                workbook.write_row(member_sheet, member_row, member)
                member_row += 1
        workbook.close()
    except BaseException:
        os.remove(path)
        raise
    return path


def file_chunks(path: str, size: int = 64 * 1024) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is removed when done (or abandoned)."""
    try:
        with open(path, "rb") as source:
            while chunk := source.read(size):
                yield chunk
    finally:
        os.remove(path)
