"""Printable documents (backend/documents): what each one shows, read back out of the PDF the
way an auditor's tools read it (pypdf and poppler's pdftotext), and what none may ever show.

Sources: 004 (public notice content; refusal and stop with written reasons), 002 (the right
to re-examination; emergency aid at most 5,000 yuan, signatures within 5 working days),
57号 (missing documents listed all at once), 43号 (minors are never listed in a notice),
DOMAIN.md Identity data (resident IDs and mobile numbers)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdf
import pytest

from backend.documents import rules, service
from backend.errors import ProblemError

# A valid resident ID (GB 11643-1999 worked example) and a mobile number.
RESIDENT_ID = "11010519491231002X"
MOBILE = "13812345678"


def samples() -> dict[str, dict]:
    return {
        "missing_documents_notice": dict(
            case_no="WP-2026-0001", applicant_name="王秀兰", township="文平镇",
            items=["户口簿复印件", "近六个月收入证明", "残疾证"], issued_on=date(2026, 12, 2),
            office="文平镇人民政府"),
        "public_notice": dict(
            village="文平村", township="文平镇", applicant_name="王秀兰",
            members=[{"name": "王秀兰", "relation": "head"},
                     {"name": "李大山", "relation": "spouse"}],
            category="dibao", monthly_amount_yuan=Decimal("1234.50"),
            starts_on="2026-12-02", ends_on="2026-12-09",
            objection_contact="文平镇民政办 0871-6123456"),
        "refusal_letter": dict(
            case_no="WP-2026-0002", applicant_name="张三",
            reasons=["家庭人均收入高于当地低保标准", "名下有机动车一辆"],
            decided_on=date(2026, 12, 2),
            reexamination_office="鲁甸县民政局",
            office="文平镇人民政府"),
        "stop_notice": dict(
            case_no="WP-2026-0003", applicant_name="张三", reasons=["家庭成员已稳定就业"],
            decided_on="2026-12-02", reexamination_office="鲁甸县民政局",
            office="文平镇人民政府"),
        "approval_notice": dict(
            case_no="WP-2026-0004", applicant_name="王秀兰", category="dibao",
            monthly_amount_yuan=Decimal("1234.50"), members_count=2,
            payment_starts_on=date(2027, 1, 1), office="文平镇人民政府",
            decided_on=date(2026, 12, 2)),
        "emergency_record": dict(
            case_no="WP-2026-0005", recipient_name="赵四", reason="火灾致房屋损毁",
            amount_yuan=3000, decided_at=datetime(2026, 12, 2, 3, 30, tzinfo=UTC),
            signatures_due_on=date(2026, 12, 9), office="文平镇人民政府"),
        # 004: 审批公示 (the decision) and 长期公示 (current recipients, each month)
        "approval_public_notice": dict(
            village="文平村", township="文平镇", applicant_name="王秀兰",
            members=[{"name": "王秀兰", "relation": "head"}],
            category="extreme_poverty", monthly_amount_yuan=Decimal("980"),
            starts_on="2026-12-02", ends_on="2026-12-08",
            objection_contact="文平镇人民政府，电话 0871-6123456，地址 文平镇民政办"),
        "standing_notice": dict(
            village="文平村", township="文平镇", month="2026-12-01", issued_on="2026-12-01",
            recipients=[{"applicant_name": "王秀兰", "members": ["李大山"],
                         "category": "dibao", "monthly_amount_yuan": Decimal("1234.50")},
                        {"applicant_name": "赵四", "members": [], "category": "low_income_margin",
                         "monthly_amount_yuan": "300"}],
            objection_contact="文平镇人民政府，电话 0871-6123456，地址 文平镇民政办"),
    }


def pdf_text(body: bytes) -> str:
    """All pages' text as pypdf extracts it, with line breaks and spaces removed (the layout
    wraps long Chinese lines anywhere)."""
    reader = pypdf.PdfReader(io.BytesIO(body))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def pdftotext(body: bytes) -> str:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=body,
                            capture_output=True, check=True)
    return re.sub(r"\s+", "", result.stdout.decode("utf-8"))


def problem(kind: str, content: dict) -> ProblemError:
    with pytest.raises(ProblemError) as raised:
        service.render(kind, content, "pdf")
    return raised.value


# ----------------------------------------------------------------- what each shows

@pytest.mark.parametrize("kind", rules.KINDS)
def test_every_kind_renders_a_pdf_whose_text_extracts_as_the_document_says(kind):
    body, mimetype = service.render(kind, samples()[kind], "pdf")
    assert mimetype == "application/pdf" and body.startswith(b"%PDF-")
    text = pdf_text(body)
    document = service.compose(kind, samples()[kind])
    for line in document.text_lines():
        assert re.sub(r"\s+", "", line) in text, line


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_reads_the_chinese_text_too():
    body, _ = service.render("refusal_letter", samples()["refusal_letter"], "pdf")
    text = pdftotext(body)
    assert "社会救助申请不予批准告知书" in text
    assert "名下有机动车一辆" in text
    assert "向鲁甸县民政局申请复查" in text


def fonts_of(body: bytes) -> list[tuple[str, list[str]]]:
    """``(base_font, [FontFile keys])`` for every font every page of the PDF names,
    composite fonts through their descendants."""
    found = []
    for page in pypdf.PdfReader(io.BytesIO(body)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for face in [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]:
                descriptor = face.get("/FontDescriptor")
                files = [key for key in (descriptor.get_object() if descriptor else {})
                         if key.startswith("/FontFile")]
                found.append((str(face["/BaseFont"]), files))
    return found


@pytest.mark.parametrize("lang", rules.LANGS)
@pytest.mark.parametrize("kind", rules.KINDS)
def test_every_font_of_every_document_is_embedded(kind, lang):
    """The letter looks the same in a reader without Chinese fonts: each font it names is
    inside the file (a FontFile* stream), a subset of Noto Serif CJK SC (ADR 0015)."""
    body, _ = service.render(kind, samples()[kind], "pdf", lang=lang)
    found = fonts_of(body)
    assert found
    for base_font, files in found:
        assert files, f"{base_font} is not embedded"
        assert "NotoSerifCJKsc" in base_font
    assert len(body) < 60_000  # a subset, not the 20 MB collection


# Content a Chinese document prints as given: names, codes, offices, contacts.
AS_GIVEN = ("case_no", "applicant_name", "recipient_name", "office", "objection_contact",
            "reexamination_office", "township", "village")


@pytest.mark.parametrize("kind", rules.KINDS)
def test_a_chinese_document_has_no_latin_letters_but_in_names_and_codes(kind):
    """One language per document: the words the document adds to its content are all
    Chinese; a Latin letter may come only from a case number or a name the caller gave."""
    content = samples()[kind] | {key: "WP-2026-0009"
                                 for key in ("case_no",) if key in samples()[kind]}
    text = pdf_text(service.render(kind, content, "pdf")[0])
    for key in AS_GIVEN:
        if isinstance(content.get(key), str):
            text = text.replace(re.sub(r"\s+", "", content[key]), "")
    assert re.findall(r"[A-Za-z]+", text) == []


@pytest.mark.parametrize("kind", ["refusal_letter", "stop_notice"])
def test_the_route_to_reexamination_is_said_once_with_one_term(kind):  # 002
    text = pdf_text(service.render(kind, samples()[kind], "pdf")[0])
    assert text.count("如对本决定有异议") == 1
    assert text.count("申请复查") == 1 and "申请复核" not in text
    assert "可自收到本告知书之日起向鲁甸县民政局申请复查。" in text


def test_the_standing_notice_lists_each_recipient_with_adults_and_amount_004():
    text = pdf_text(service.render("standing_notice", samples()["standing_notice"], "pdf")[0])
    assert "文平村社会救助对象长期公示（2026年12月）" in text
    assert "王秀兰" in text and "李大山" in text and "1,234.50元/月" in text
    assert "赵四" in text and "低保边缘家庭" in text and "300.00元/月" in text
    assert "0871-6123456" in text and "文平镇民政办" in text
    empty = samples()["standing_notice"] | {"recipients": []}
    assert "本月本村（社区）无享受社会救助的家庭" in pdf_text(
        service.render("standing_notice", empty, "pdf")[0])


def test_the_standing_notice_takes_no_more_than_name_members_and_amount_004():
    recipient = samples()["standing_notice"]["recipients"][0] | {"id_number": RESIDENT_ID}
    content = samples()["standing_notice"] | {"recipients": [recipient]}
    assert problem("standing_notice", content).slug == "document-content-invalid"
    mobile = samples()["standing_notice"] | {"objection_contact": f"请拨打 {MOBILE}"}
    assert problem("standing_notice", mobile).slug == "document-discloses-identity"


def test_public_notice_shows_name_members_and_amount_and_the_seven_day_period():  # 004, 001
    text = pdf_text(service.render("public_notice", samples()["public_notice"], "pdf")[0])
    for expected in ("最低生活保障拟批准对象公示", "申请人王秀兰", "李大山配偶",
                     "1,234.50元/月", "公示期：2026年12月2日至2026年12月9日",
                     "文平镇民政办0871-6123456"):
        assert expected in text


def test_missing_documents_are_listed_all_at_once():  # 57号 一次性告知
    text = pdf_text(service.render("missing_documents_notice",
                                   samples()["missing_documents_notice"], "pdf")[0])
    assert "一次性告知" in text
    assert "1.户口簿复印件" in text and "2.近六个月收入证明" in text and "3.残疾证" in text


@pytest.mark.parametrize("kind", ["refusal_letter", "stop_notice"])
def test_refusal_and_stop_give_written_reasons_and_the_route_to_reexamination(kind):  # 004, 002
    content = samples()[kind]
    text = pdf_text(service.render(kind, content, "pdf")[0])
    for reason in content["reasons"]:
        assert reason in text
    assert f"向{content['reexamination_office']}申请复查" in text
    assert "2026年12月2日" in text


def test_approval_notice_shows_the_amount_in_figures_and_in_capitals():
    text = pdf_text(service.render("approval_notice", samples()["approval_notice"], "pdf")[0])
    assert "1,234.50元/月" in text and "壹仟贰佰叁拾肆元伍角整" in text
    assert "保障人数2人" in text and "2027年1月1日" in text


def test_emergency_record_shows_recipient_reason_amount_beijing_time_and_signature_lines():
    text = pdf_text(service.render("emergency_record", samples()["emergency_record"], "pdf")[0])
    assert "救助对象赵四" in text and "火灾致房屋损毁" in text
    assert "3,000.00元" in text and "叁仟元整" in text
    assert "2026年12月2日11:30" in text  # 03:30 UTC is 11:30 in Beijing
    assert "经办人（签字）" in text and "救助对象（签字）" in text


def test_english_labels_on_request():
    text = pdf_text(service.render("refusal_letter", samples()["refusal_letter"], "pdf",
                                   lang="en")[0])
    assert "Noticeofrefusal" in text and "mayask鲁甸县民政局tore-examineit" in text
    assert "申请" not in text


# ----------------------------------------------------------------- the page for the screen

@pytest.mark.parametrize("kind", rules.KINDS)
def test_the_html_page_says_what_the_pdf_says(kind):
    body, mimetype = service.render(kind, samples()[kind], "html")
    assert mimetype == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    assert page.startswith("<!doctype html>") and '<html lang="zh-CN">' in page
    visible = re.sub(r"\s+", "", re.sub(r"<style>.*?</style>|<[^>]+>", "", page, flags=re.S))
    for line in service.compose(kind, samples()[kind]).text_lines():
        assert re.sub(r"\s+", "", line) in visible, line


def test_the_html_page_fetches_nothing_and_its_style_is_allowed_by_hash():
    import base64
    import hashlib

    page = service.render("public_notice", samples()["public_notice"], "html")[0].decode()
    assert "<script" not in page and "<link" not in page and "http" not in page
    assert "@media print" in page and "@page" in page
    css = re.search(r"<style>(.*?)</style>", page, flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in service.HTML_CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in service.HTML_CONTENT_SECURITY_POLICY


def test_html_escapes_what_the_caller_typed():
    content = samples()["refusal_letter"] | {"reasons": ["<script>alert(1)</script> & 更多"]}
    page = service.render("refusal_letter", content, "html")[0].decode()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; 更多" in page


# ----------------------------------------------------------------- what none may show

@pytest.mark.parametrize("kind", rules.KINDS)
def test_an_extra_field_such_as_an_id_number_is_refused(kind):
    error = problem(kind, samples()[kind] | {"id_number": RESIDENT_ID})
    assert error.slug == "document-content-invalid" and "id_number" in error.errors


def test_a_member_with_an_id_number_is_refused_from_the_public_notice():
    content = samples()["public_notice"]
    content["members"].append({"name": "王小明", "relation": "child", "id_number": RESIDENT_ID})
    error = problem("public_notice", content)
    assert error.slug == "document-content-invalid"
    assert "members.2.id_number" in error.errors


def test_a_minor_is_never_listed_in_a_public_notice():  # 43号
    content = samples()["public_notice"]
    content["members"].append({"name": "王小明", "relation": "child", "is_minor": True})
    error = problem("public_notice", content)
    assert error.slug == "document-content-invalid"
    assert "members.2.is_minor" in error.errors
    adult = samples()["public_notice"]
    adult["members"].append({"name": "王大明", "relation": "child", "is_minor": False})
    text = pdf_text(service.render("public_notice", adult, "pdf")[0])
    assert "王大明" in text and "王小明" not in text


def test_a_member_with_a_birth_date_or_age_is_refused():
    for extra in ({"birth_date": "2015-03-01"}, {"age": 11}):
        content = samples()["public_notice"]
        content["members"].append({"name": "王小明", "relation": "child", **extra})
        assert problem("public_notice", content).slug == "document-content-invalid"


@pytest.mark.parametrize("written", [
    RESIDENT_ID, RESIDENT_ID.lower(), "110105 19491231 002X", "身份证110105194912310021号",
])
def test_a_resident_id_typed_into_a_reason_is_refused(written):
    content = samples()["refusal_letter"] | {"reasons": ["收入超标", f"申请人{written}"]}
    error = problem("refusal_letter", content)
    assert error.slug == "document-discloses-identity"
    assert error.errors == {"reasons.1": ["looks like a resident id"]}


@pytest.mark.parametrize("written", [MOBILE, "138-1234-5678", "+8613812345678", "138 1234 5678"])
def test_a_mobile_number_in_the_objection_contact_is_refused(written):
    content = samples()["public_notice"] | {"objection_contact": f"联系人 {written}"}
    error = problem("public_notice", content)
    assert error.slug == "document-discloses-identity"
    assert error.errors == {"objection_contact": ["looks like a mobile"]}


@pytest.mark.parametrize("kind,field", [
    ("public_notice", "applicant_name"), ("missing_documents_notice", "township"),
    ("approval_notice", "case_no"), ("emergency_record", "reason"), ("stop_notice", "office"),
])
def test_no_field_of_any_document_may_carry_an_identity_number(kind, field):
    content = samples()[kind] | {field: f"某 {RESIDENT_ID}"}
    assert problem(kind, content).slug == "document-discloses-identity"


def test_office_telephones_amounts_dates_and_case_uuids_are_not_identity_numbers():
    assert rules.identity_numbers_in({
        "a": "0871-6123456", "b": "12345", "c": "1,234.50", "d": "2026-12-02",
        "e": "3f2a9c1e-5b7d-4e2f-9a1b-0c2d3e4f5a6b", "f": "1101**********1234",
        "g": "WP-2026-0001", "h": "a" + RESIDENT_ID, "i": "1381234567", "j": 5000}) == {}
    assert rules.identity_numbers_in({"x": [{"y": int(MOBILE)}]}) == {"x.0.y": "mobile"}


def test_the_extracted_text_of_every_sample_holds_no_identity_number():
    for kind, content in samples().items():
        text = pdf_text(service.render(kind, content, "pdf")[0])
        assert rules.identity_numbers_in(text) == {}, kind


# ----------------------------------------------------------------- bad content

def test_emergency_aid_is_at_most_5000_yuan():  # 002
    content = samples()["emergency_record"]
    assert service.render("emergency_record", content | {"amount_yuan": 5000}, "pdf")
    error = problem("emergency_record", content | {"amount_yuan": Decimal("5000.01")})
    assert error.slug == "document-content-invalid" and "amount_yuan" in error.errors


def test_amounts_have_at_most_two_decimals_and_are_never_negative():
    content = samples()["approval_notice"]
    for bad in ("12.345", -1, "NaN", "lots"):
        assert problem("approval_notice", content | {"monthly_amount_yuan": bad}) \
            .errors.keys() == {"monthly_amount_yuan"}


def test_required_fields_naive_times_and_empty_lists_are_refused():
    assert "reasons" in problem("refusal_letter",
                                samples()["refusal_letter"] | {"reasons": []}).errors
    content = dict(samples()["refusal_letter"])
    del content["reexamination_office"]
    assert "reexamination_office" in problem("refusal_letter", content).errors
    naive = samples()["emergency_record"] | {"decided_at": "2026-12-02T03:30:00"}
    assert "decided_at" in problem("emergency_record", naive).errors
    early = samples()["emergency_record"] | {"signatures_due_on": "2026-12-01"}
    assert "signatures_due_on" in problem("emergency_record", early).errors
    backwards = samples()["public_notice"] | {"ends_on": "2026-12-01"}
    assert "ends_on" in problem("public_notice", backwards).errors
    hidden = samples()["refusal_letter"] | {"reasons": ["收入\u200b超标"]}
    assert "reasons.0" in problem("refusal_letter", hidden).errors


def test_unknown_kind_format_or_language_is_a_programming_error():
    with pytest.raises(ValueError):
        service.render("poster", {}, "pdf")
    with pytest.raises(ValueError):
        service.render("refusal_letter", samples()["refusal_letter"], "docx")
    with pytest.raises(ValueError):
        service.render("refusal_letter", samples()["refusal_letter"], "pdf", lang="fr")


def test_filename_is_ascii():
    assert service.filename("refusal_letter", "文平-2026/01", "pdf") == \
        "refusal_letter-__-2026_01.pdf"


# ----------------------------------------------------------------- money in capitals

@pytest.mark.parametrize("amount,capitals", [
    ("0", "零元整"), ("0.05", "伍分"), ("0.50", "伍角整"), ("1", "壹元整"),
    ("10", "壹拾元整"), ("105", "壹佰零伍元整"), ("1005.07", "壹仟零伍元零柒分"),
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"), ("5000", "伍仟元整"),
    ("10010", "壹万零壹拾元整"), ("100000", "壹拾万元整"), ("1000500", "壹佰万零伍佰元整"),
    ("20000000.10", "贰仟万元壹角整"),
])
def test_yuan_in_capitals(amount, capitals):
    assert rules.yuan_in_capitals(Decimal(amount)) == capitals


# ----------------------------------------------------------------- as the workflow sends it

CASE_UUID = "3f2a9c1e-5b7d-4e2f-9a1b-0c2d3e4f5a6b"


def test_content_as_json_strings_from_the_workflow_renders():
    """The case workflow sends amounts as strings, dates as ISO strings and the case's UUID
    as its number; an emergency record may carry only the decision's date."""
    emergency = dict(case_no=CASE_UUID, recipient_name="赵四", reason="火灾致房屋损毁",
                     amount_yuan="4999.99", decided_on="2026-12-02",
                     signatures_due_on="2026-12-09", office="文平镇人民政府")
    text = pdf_text(service.render("emergency_record", emergency, "pdf")[0])
    assert CASE_UUID in text and "4,999.99元" in text and "决定时间2026年12月2日" in text
    notice = samples()["public_notice"] | {"members": [], "monthly_amount_yuan": "980",
                                           "category": "special_case"}
    text = pdf_text(service.render("public_notice", notice, "pdf")[0])
    assert "980.00元/月" in text and "一事一议" in text


def test_an_emergency_record_needs_a_decision_time_or_date():
    content = samples()["emergency_record"]
    del content["decided_at"]
    assert "decided_at" in problem("emergency_record", content).errors


def test_temporary_aid_approval_is_a_one_off_amount():
    content = samples()["approval_notice"] | {"category": "temporary",
                                              "monthly_amount_yuan": "800"}
    text = pdf_text(service.render("approval_notice", content, "pdf")[0])
    assert "救助金额800.00元（大写：人民币捌佰元整）" in text and "元/月" not in text
    assert "一次性发放" in text


def test_a_long_letter_runs_over_pages_and_every_reason_still_extracts():
    reasons = [f"第{n}条理由：" + "家庭成员名下登记有尚未如实申报的财产" * 12 for n in range(1, 21)]
    body, _ = service.render("refusal_letter", samples()["refusal_letter"] | {"reasons": reasons},
                             "pdf")
    assert len(pypdf.PdfReader(io.BytesIO(body)).pages) >= 3
    text = pdf_text(body)
    for reason in reasons:
        assert reason in text
    assert text.index("第20条理由") < text.index("申请复查")
