"""What goes into a household's file, read through each package's service and masked for
the reader: the sections of ``layout.Dossier`` in the order of 一户一档.

Every read is the reader's own (their scope, their masking): the household and its members,
the cases, each visit's answers and flags, the workflow view of each case, check-ins, the
case's audit rows (whose before/after text passes the same shape masker as everything else).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from backend import clock
from backend.audit import service as audit
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import rules as case_rules
from backend.cases import service as cases
from backend.checkins import recipients as checkins
from backend.dossiers import layout, rules, watermarks
from backend.forms import service as forms
from backend.households import service as households
from backend.privacy import rules as privacy_rules
from backend.visits import queries as visits
from backend.workflow import case_view

Progress = Callable[[str, int, int], None]
PWA = Path(__file__).resolve().parents[2] / "pwa" / "static"


@cache
def screen_words(lang: str) -> dict[str, str]:
    """The words the screens use for statuses, kinds, flags and audit actions (no slug on a
    printed page either)."""
    found: dict[str, str] = {}
    for path in (PWA / "i18n" / f"{lang}.json", PWA / "i18n" / "workflow" / f"{lang}.json",
                 PWA / "desk" / "i18n" / f"{lang}.json"):
        found.update(json.loads(path.read_text("utf-8")))
    return found


def _word(lang: str, key: str, fallback: str) -> str:
    return screen_words(lang).get(key, fallback)


def _when(value: Any, lang: str) -> str:
    if isinstance(value, datetime):
        return rules.beijing(value)[:16]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return rules.beijing(parsed)[:16] if parsed.tzinfo else value
    return "—"


def _text(value: Any, lang: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return layout.words(lang)["yes" if value else "no"]
    if isinstance(value, list):
        return layout.words(lang)["sep"].join(_text(v, lang) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v, lang)}" for k, v in value.items())
    return str(value)


def complaints_section(caller: Caller, household_id: str, lang: str) -> list[layout.Block]:
    """THE HOOK FOR backend/complaints (built in parallel): when that package exists and its
    service offers ``for_dossier(caller, household_id, lang) -> list[dict]`` (each with
    ``received_at``, ``summary``, ``status``; the reporter already hidden), its rows are
    printed; without the package this renders nothing and the section is left out."""
    if importlib.util.find_spec("backend.complaints") is None:
        return []
    try:
        service = importlib.import_module("backend.complaints.service")
    except ImportError:
        return []
    for_dossier = getattr(service, "for_dossier", None)
    if for_dossier is None:
        return []
    w = layout.words(lang)
    rows = [[_when(c.get("received_at"), lang), _text(c.get("summary"), lang),
             _text(c.get("status"), lang)] for c in for_dossier(caller, household_id, lang)]
    return [layout.Grid((w["at"], w["complaint"], w["status"]), rows)] if rows else \
        [layout.Para(w["none"])]


def _answer_rows(definition: dict | None, answers: dict, lang: str) -> list[tuple[str, str]]:
    labels: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}

    def label_of(field: dict) -> str:
        label = field.get("label")
        text = label.get(lang) or label.get("zh-CN") if isinstance(label, dict) else label
        return text if isinstance(text, str) else field["name"]

    for section in (definition or {}).get("sections", []):
        for field in section.get("fields", []):
            labels[field["name"]] = label_of(field)
            choices[field["name"]] = {c["value"]: label_of({"name": c["value"], **c})
                                      for c in field.get("choices", [])}
            for inner in field.get("fields", []):
                labels[f"{field['name']}.{inner['name']}"] = label_of(inner)
                choices[f"{field['name']}.{inner['name']}"] = {
                    c["value"]: label_of({"name": c["value"], **c})
                    for c in inner.get("choices", [])}

    def shown(name: str, value: Any) -> str:
        words = choices.get(name, {})
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return _text([words.get(v, v) for v in value], lang)
        return _text(words.get(value, value) if isinstance(value, str) else value, lang)

    rows: list[tuple[str, str]] = []
    for name, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, entry in enumerate(value, start=1):
                for inner, inner_value in entry.items():
                    if inner == "registered_member_id":
                        continue
                    key = f"{name}.{inner}"
                    rows.append((f"{labels.get(name, name)} {index} · "
                                 f"{labels.get(key, inner)}", shown(key, inner_value)))
        else:
            rows.append((labels.get(name, name), shown(name, value)))
    return rows


def _visit_section(caller: Caller, found: visits.VisitEvidence, lang: str, number: int,
                   on_photo: Callable[[], None]) -> list[layout.Block]:
    w = layout.words(lang)
    context = watermarks.visit_context(found.case_id, found.household_id)
    current = next(r for r in found.revisions if r.revision == found.current_revision)
    try:
        definition = forms.get_definition(found.form_id, found.form_version)
    except Exception:  # noqa: BLE001 - an unknown form still prints its answers by name
        definition = None
    blocks: list[layout.Block] = [
        layout.Heading(w["visit_n"].format(n=number), 1),
        layout.Fields(((w["case_no"], context.case_no or "—"),
                       (w["started"], _when(current.started_at, lang)),
                       (w["ended"], _when(current.ended_at, lang)),
                       (w["received"], _when(found.received_at, lang)),
                       (w["team"], w["sep"].join(context.investigators) or "—"))),
        layout.Heading(w["answers"], 2),
        layout.Fields(tuple(_answer_rows(definition, found.answers, lang)) or
                      ((w["answers"], "—"),)),
    ]
    thumbs: list[tuple[bytes, str]] = []
    points: list[tuple[str, float | None, float | None]] = []
    for stamp in found.stamps:
        kind = stamp.get("kind")
        lat, lon = stamp.get("lat"), stamp.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            points.append((w["stamp_" + ("start" if kind == "start" else "end")],
                           float(lat), float(lon)))
    for index, ref in enumerate(found.photos, start=1):
        facts = watermarks.facts_of(ref.sha256, context)
        on_photo()
        if facts is None:
            continue
        thumbs.append((watermarks.print_thumbnail(facts, lang), w["photo_n"].format(
            n=index, sha=ref.sha256[:rules.SHORT_HASH])))
        points.append((w["photo_short"].format(n=index), facts.lat, facts.lon))
    blocks.append(layout.Heading(w["photos"], 2))
    blocks.append(layout.Photos(tuple(thumbs)) if thumbs else layout.Para(w["none"]))
    blocks.append(layout.Heading(w["map"], 2))
    plotted = rules.plot_points(context.home, points)
    blocks.append(layout.Plot(tuple(plotted), (250.0, 500.0, 1000.0),
                              context.home is not None))
    blocks.append(layout.Para(w["map_note"]))
    people = auth.display_names({a.user_id for a in found.attestations})
    blocks.append(layout.Heading(w["signatures"], 2))
    blocks.append(layout.Grid((w["signer"], w["key"], w["signed_at"], w["valid"]), tuple(
        (people.get(a.user_id, a.user_id), (a.key_id or "—")[:12], _when(a.signed_at, lang),
         w["yes"] if a.is_signature_valid and a.revision == found.current_revision
         else w["no"]) for a in found.attestations)) if found.attestations
        else layout.Para(w["no_signatures"]))
    blocks.append(layout.Heading(w["flags"], 2))
    flag_rows = tuple((_word(lang, f"review.severity.{f['severity']}", f["severity"]),
                       _word(lang, f"review.flag.{f['code']}", f["code"]),
                       f["detail_zh"] if lang != "en" else f["detail_en"])
                      for f in found.flags)
    blocks.append(layout.Grid((w["severity"], w["flag"], w["detail"]), flag_rows)
                  if flag_rows else layout.Para(w["no_flags"]))
    return blocks


def _workflow_blocks(view: dict, lang: str, caller: Caller) -> dict[str, list[layout.Block]]:
    w = layout.words(lang)
    view = privacy_rules.mask_values(view, caller)
    app = view["application"]
    econ = view["economic_check"]
    panel = view["panel"]
    notice = view["notice"]
    decision = view["decision"]
    proposal = view["proposal"]

    def who(entry: dict | None) -> str:
        return (entry or {}).get("display_name") or "—"

    result = econ.get("result")
    return {
        "application": [layout.Fields((
            (w["pledge"], w["yes"] if app["has_honesty_pledge"] else w["no"]),
            (w["pledge_by"], f"{who(app['pledge']['by'])} · {_when(app['pledge']['at'], lang)}"),
            (w["authorization"], w["yes"] if app["is_economic_check_authorized"] else w["no"]),
            (w["authorization_by"], f"{who(app['authorization']['by'])} · "
                                    f"{_when(app['authorization']['at'], lang)}"),
            (w["missing_documents"], _text(app["missing_documents"], lang))))],
        "economic_check": [layout.Fields((
            (w["requested_at"], _when(econ["requested_at"], lang)),
            (w["returned_at"], _when(econ["returned_at"], lang)),
            (w["result"], _word(lang, f"wf.result.{result}", _text(result, lang))
             if isinstance(result, str) else _text(result, lang))))],
        "panel": [layout.Fields((
            (w["panel_members"], w["sep"].join(m["name"] for m in panel["drawn_members"])
             or "—"),
            (w["panel_record"], _text(panel["record"], lang))))],
        "notices": [layout.Fields((
            (w["notice_round"], str(notice["round"])),
            (w["notice_period"], f"{_text(notice['starts_on'], lang)} — "
                                 f"{_text(notice['ends_on'], lang)}"),
            (w["objections"], w["sep"].join(
                f"{o['notice_round']}: {o['content']}" for o in view["objections"]) or "—")))],
        "decision": [layout.Fields((
            (w["status"], _word(lang, f"wf.status.{view['status']}", view["status"])),
            (w["decided_at"], _when(decision["decided_at"], lang)),
            (w["decided_by"], who(view["duties"]["approval"])),
            (w["monthly_amount"], _text(proposal["monthly_amount_yuan"], lang)),
            (w["members_count"], _text(proposal["members_count"], lang)),
            (w["reasons"], _text(decision["reasons"], lang)),
            (w["payment_starts_on"], _text(decision["payment_starts_on"], lang))))],
    }


def _audit_blocks(case_ids: list[str], lang: str, caller: Caller) -> list[layout.Block]:
    w = layout.words(lang)
    events = sorted((e for cid in case_ids for e in audit.events_for("case", cid)),
                    key=lambda e: (e.chain_seq is None, e.chain_seq or 0, e.at))
    names = auth.display_names({e.actor_id for e in events if e.actor_id})
    rows = tuple((str(e.chain_seq) if e.chain_seq is not None else "—", _when(e.at, lang),
                  _word(lang, f"wf.audit.{e.action}", w["other_action"]),
                  names.get(e.actor_id, "—") if e.actor_id else w["system"],
                  (e.prev_hash or "—")[:16], (e.row_hash or "—")[:16]) for e in events)
    return [layout.Para(w["audit_note"]),
            layout.Grid((w["seq"], w["at"], w["action"], w["actor"], w["prev_hash"],
                         w["row_hash"]), rows, small=True) if rows else layout.Para(w["none"])]


def gather(caller: Caller, household_id: str, lang: str, generated_by: str,
           progress: Progress) -> layout.Dossier:
    """The household's file as the caller may read it; ``progress(step, done, total)``."""
    w = layout.words(lang)
    household = households.get_visible(caller, household_id)
    view = households.views_by_id([household.id], caller)[household.id]
    case_rows = sorted(cases.summaries(caller=caller, household_ids=[household.id]),
                       key=lambda c: (c.applied_at, c.id))
    applications = [c for c in case_rows if c.kind != case_rules.PERIODIC_REVIEW]
    reviews = [c for c in case_rows if c.kind == case_rules.PERIODIC_REVIEW]
    main = applications[-1] if applications else (case_rows[-1] if case_rows else None)
    found_visits = [found for found in (
        visits.evidence_of(caller, sid)
        for sid in visits.submission_ids_of_cases([c.id for c in case_rows]))
        if found is not None]
    total = sum(len(found.photos) for found in found_visits) + 6
    done = 0

    def step(name: str, count: int = 1) -> None:
        nonlocal done
        done += count
        progress(name, done, total)

    sections: list[layout.Section] = []
    members = tuple((m.get("name") or "—", _word(lang, f"relation.{m.get('relation')}",
                                                   m.get("relation") or "—"),
                     m.get("id_number") or "—", _text(m.get("age"), lang))
                    for m in view["members"])
    sections.append(layout.Section(w["household"], [
        layout.Fields(((w["head"], view["head_name"] or "—"),
                       (w["village"], view["village_name"] or "—"),
                       (w["address"], view["address"] or "—"),
                       (w["cases"], w["sep"].join(c.case_no or "—" for c in case_rows) or "—"))),
        layout.Grid((w["name"], w["relation"], w["id_number"], w["age"]), members)]))
    workflow: dict[str, list[layout.Block]] = {k: [] for k in (
        "application", "economic_check", "panel", "notices", "decision")}
    for summary in applications:
        case = cases.get_visible(caller, summary.id)
        blocks = _workflow_blocks(case_view.view(caller, case), lang, caller)
        title = layout.Heading(f"{w['case_no']}：{summary.case_no or '—'} · "
                               f"{_word(lang, f'wf.kind.{summary.kind}', summary.kind)}", 2)
        for key, value in blocks.items():
            workflow[key] += [title, *value]
    step("application")
    sections.append(layout.Section(w["application"], workflow["application"]
                                   or [layout.Para(w["none"])]))
    visit_blocks: list[layout.Block] = []
    for number, found in enumerate(found_visits, start=1):
        visit_blocks += _visit_section(caller, found, lang, number, lambda: step("visits"))
    sections.append(layout.Section(w["visits"], visit_blocks or [layout.Para(w["none"])]))
    for key in ("economic_check", "panel", "notices", "decision"):
        sections.append(layout.Section(w[key], workflow[key] or [layout.Para(w["none"])]))
    step("workflow")
    review_rows = tuple((c.case_no or "—", _when(c.applied_at, lang),
                         _word(lang, f"wf.status.{c.status}", c.status)) for c in reviews)
    sections.append(layout.Section(w["periodic_reviews"], [
        layout.Grid((w["case_no"], w["opened_at"], w["status"]), review_rows)
        if review_rows else layout.Para(w["none"])]))
    checkin_rows = tuple((_when(c["captured_at"], lang), _when(c["received_at"], lang),
                          w.get(f"outcome_{c['outcome']}", c["outcome"]),
                          w["yes"] if c["is_proxy"] else w["no"],
                          _text([w.get(f"checkin_flag_{f}", w["flagged"]) for f in c["flags"]],
                                lang))
                         for c in checkins.history_of_household(caller, household.id))
    sections.append(layout.Section(w["checkins"], [
        layout.Grid((w["captured_at"], w["received"], w["outcome"], w["proxy"], w["flags"]),
                    checkin_rows) if checkin_rows else layout.Para(w["none"])]))
    step("checkins")
    complaints = complaints_section(caller, household.id, lang)
    if complaints:
        sections.append(layout.Section(w["complaints"], complaints))
    sections.append(layout.Section(w["audit"], _audit_blocks(
        [c.id for c in case_rows], lang, caller)))
    step("audit")
    return layout.Dossier(
        lang=lang, title=w["title"], case_no=main.case_no if main and main.case_no else "—",
        household_name=view["head_name"] or "—", generated_by=generated_by,
        generated_at=clock.now(), sections=sections)
