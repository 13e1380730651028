"""Household files: asked for on the desk, built as a job (never in a web worker), polled
for progress, downloaded by the one who asked. Watermarked photos for print and export.

A file is masked for the roles of the one who asked, so no one else may download it (404,
as for a household outside one's scope). Each request and each download is audited
(全程留痕, 003).
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from backend import clock, jobs
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.dossiers import rules
from backend.dossiers.models import HouseholdDossier
from backend.errors import ProblemError
from backend.evidence import service as photos
from backend.extensions import db
from backend.households import service as households

log = logging.getLogger(__name__)
_DUE = "doorstep.dossiers_due"
BUILDERS = (roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
NOT_FOUND = "No household file with that id for you; ask for a new one."


def watermarked_photo(caller: Caller, sha256: str, lang: str) -> bytes:
    """A visit photo with its verified facts drawn on (404 outside the caller's scope)."""
    # Pillow's drawing and the CJK face load with the first watermark, and ReportLab with the
    # first dossier: not in every web worker at start (bench/bench_memory.py).
    from backend.dossiers import watermarks

    return watermarks.watermarked(watermarks.visible_facts(caller, sha256), lang)


def blob_key(dossier_id: str) -> str:
    return f"dossier-{dossier_id}.pdf"


def request(caller: Caller, household_id: str, lang: str) -> HouseholdDossier:
    """Queue a household's file for the caller (the job builds it, masked for them)."""
    if not caller.has(*BUILDERS):
        raise ProblemError("forbidden", "Your role does not allow you to build household files.")
    household = households.get_visible(caller, household_id)
    dossier = HouseholdDossier(
        id=new_id(), household_id=household.id, jurisdiction_code=household.jurisdiction_code,
        requested_by_id=caller.user_id, lang=lang if lang in rules.LANGS else "zh-CN",
        state="queued", progress=0, requested_at=clock.now())
    db.session.add(dossier)
    audit.record("dossier.requested", "household", household.id,
                 after={"dossier_id": dossier.id, "lang": dossier.lang},
                 jurisdiction_code=household.jurisdiction_code)
    db.session.flush()
    if jobs.is_immediate():
        build(dossier.id)
    else:
        # Queued after the commit: the worker must find the row.
        db.session.info.setdefault(_DUE, []).append(dossier.id)
    return dossier


def get_own(caller: Caller, dossier_id: str) -> HouseholdDossier:
    """The caller's own file of a household still in their scope; 404 otherwise."""
    dossier = db.session.get(HouseholdDossier, dossier_id)
    if dossier is None or dossier.requested_by_id != caller.user_id:
        raise ProblemError("dossier-not-found", NOT_FOUND)
    try:
        households.get_visible(caller, dossier.household_id)
    except ProblemError:
        raise ProblemError("dossier-not-found", NOT_FOUND) from None
    return dossier


def file_of(caller: Caller, dossier_id: str) -> tuple[HouseholdDossier, bytes]:
    dossier = get_own(caller, dossier_id)
    if dossier.state != "done":
        raise ProblemError("dossier-not-ready", "The file is still being built; wait for it.")
    data = photos.read_derived(blob_key(dossier.id))
    if data is None:
        raise ProblemError("dossier-not-found", NOT_FOUND)
    audit.record("dossier.downloaded", "household", dossier.household_id,
                 after={"dossier_id": dossier.id, "sha256": dossier.sha256},
                 jurisdiction_code=dossier.jurisdiction_code)
    return dossier, data


def _save_progress(dossier: HouseholdDossier) -> None:
    """Progress is seen by the desk while the job runs: committed at once in the worker
    (in immediate mode the caller's transaction holds it)."""
    db.session.flush()
    if not jobs.is_immediate():
        db.session.commit()


def build(dossier_id: str) -> str | None:
    """Build one file: gather (masked for the one who asked), draw, store."""
    dossier = db.session.get(HouseholdDossier, dossier_id)
    if dossier is None or dossier.state in ("done", "failed"):
        return None
    user = auth.get_user(dossier.requested_by_id)
    if user is None:
        dossier.state, dossier.error = "failed", "requester-gone"
        return None
    caller = auth.caller_for(user)
    dossier.state, dossier.step = "building", "start"
    _save_progress(dossier)

    def progress(step: str, done: int, total: int) -> None:
        dossier.step, dossier.progress = step, rules.progress_percent(done, total)
        _save_progress(dossier)

    try:
        from backend.dossiers import contents, pdf  # the job worker's libraries (see above)

        content = contents.gather(caller, dossier.household_id, dossier.lang,
                                  user.display_name, progress)
        dossier.step = "drawing"
        _save_progress(dossier)
        data, pages = pdf.render(content)
    except ProblemError as problem:  # the household left the reader's scope meanwhile
        dossier.state, dossier.error = "failed", problem.slug
        dossier.finished_at = clock.now()
        return None
    except Exception:  # noqa: BLE001 - the desk must see "failed", not "building" forever
        log.exception("household file %s could not be built", dossier.id)
        dossier.state, dossier.error = "failed", "internal-error"
        dossier.finished_at = clock.now()
        return None
    photos.store_derived(blob_key(dossier.id), data, "application/pdf")
    dossier.state, dossier.step, dossier.progress = "done", None, 100
    dossier.page_count, dossier.byte_size = pages, len(data)
    dossier.sha256 = hashlib.sha256(data).hexdigest()
    dossier.finished_at = clock.now()
    audit.record("dossier.built", "household", dossier.household_id,
                 after={"dossier_id": dossier.id, "pages": pages, "bytes": len(data),
                        "sha256": dossier.sha256},
                 jurisdiction_code=dossier.jurisdiction_code, actor_id=dossier.requested_by_id)
    return dossier.id


@jobs.task(name="dossier_build")
def build_task(dossier_id: str) -> str | None:
    return build(dossier_id)


@sa_event.listens_for(Session, "after_commit")
def _queue_builds(session: Session) -> None:
    """Files asked for in a committed transaction go to the worker (it must find the row)."""
    for dossier_id in session.info.pop(_DUE, []):
        try:
            build_task(dossier_id)
        except Exception:  # noqa: BLE001 - the row stays queued; asking again queues it
            log.exception("could not queue household file %s", dossier_id)


@sa_event.listens_for(Session, "after_rollback")
def _forget_builds(session: Session) -> None:
    session.info.pop(_DUE, None)
