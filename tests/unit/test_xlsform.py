"""The XLSForm importer without the app: translation, refusals with row and column, bounds."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from backend.forms.definition import check_definition, load_definition
from backend.forms.expressions import evaluate
from backend.forms.xlsform import Scope, language_of, to_doorstep
from backend.forms.xlsform import import_xlsx as _import_xlsx
from backend.forms.xlsform_export import export_xlsx, to_xlsform
from backend.forms.xlsform_reader import MAX_ROWS, XlsformRefused
from tests.xlsform_factory import SETTINGS, SURVEY_HEADER, workbook

DATA = Path(__file__).resolve().parents[1] / "data" / "xlsform"


def import_xlsx(data, filename=None, latest=0):
    return _import_xlsx(data, filename, latest_version_of=lambda _form_id: latest)


def refusal(data, filename=None, latest=0) -> XlsformRefused:
    with pytest.raises(XlsformRefused) as caught:
        import_xlsx(data, filename, latest)
    return caught.value


def where(error: XlsformRefused) -> set[tuple]:
    return {(p.sheet, p.row, p.column) for p in error.problems}


def row(kind, name=None, zh=None, en=None, required=None, relevant=None, constraint=None,
        calculation=None):
    return [kind, name, zh, en, required, relevant, constraint, calculation]


# ---------------------------------------------------------------- round trip

def test_household_survey_round_trips_through_xlsform():
    original = load_definition("household_survey", 1)
    data = export_xlsx(original)
    assert import_xlsx(data) == original


def test_exported_workbook_is_plain_xlsform_with_both_languages():
    book = openpyxl.load_workbook(io.BytesIO(export_xlsx(load_definition("household_survey", 1))))
    header = [c.value for c in book["survey"][1]]
    assert header[:4] == ["type", "name", "label::Chinese (zh)", "label::English (en)"]
    types = [r[0] for r in book["survey"].iter_rows(min_row=2, values_only=True)]
    assert types.count("begin repeat") == 2 and types.count("begin group") == 7
    assert "select_multiple appliances" in types
    calculations = [r[header.index("calculation")]
                    for r in book["survey"].iter_rows(min_row=2, values_only=True)]
    # Outside the repeat XLSForm names the repeat's question; Doorstep writes ${group.field}.
    assert "sum(${member_income}) + sum(${monthly_support})" in calculations
    assert any(c and " div " in c for c in calculations)


# ---------------------------------------------------------------- expressions

@pytest.fixture
def scope():
    found = Scope()
    found.top |= {"a", "b", "member", "done"}
    found.repeats["member"] = {"age", "a"}
    return found


@pytest.mark.parametrize(("xlsform", "doorstep"), [
    ("${a} div ${b}", "${a} / ${b}"),
    ("${done} = true()", "${done} = true"),
    ("not(false( ))", "not(false)"),
    ("${a} = ''", "${a} = null"),
    (". >= .5 and . <= 120", ". >= 0.5 and . <= 120"),
    ("sum(${age})", "sum(${member.age})"),
    ("selected(${a}, 'x') or count-selected(${b}) > 1",
     "selected(${a}, 'x') or count-selected(${b}) > 1"),
    ("if(${a} != 'no', round(${b}, 2), coalesce(${b}, 0))",
     "if(${a} != 'no', round(${b}, 2), coalesce(${b}, 0))"),
])
def test_expressions_translate_into_the_shared_language(scope, xlsform, doorstep):
    assert to_doorstep(xlsform, scope, None) == doorstep


def test_inside_a_repeat_a_sibling_is_the_entry_s_own_question(scope):
    assert to_doorstep("${age} > 17 and ${a} = 1", scope, "member") == "${age} > 17 and ${a} = 1"
    assert evaluate(to_doorstep("${age} > 17", scope, "member"),
                    {"values": {}, "entry": {"age": 30}}) is True


@pytest.mark.parametrize(("xlsform", "reason"), [
    ("concat(${a}, 'x')", "concat() is not one both evaluators support"),
    ("today() > ${a}", "today() is not one"),
    ("${a} mod 2 = 0", "'mod' is not supported"),
    ("/data/a > 1", "XPath paths"),
    ("../a > 1", "'..' (the parent)"),
    ("${a}[1] > 1", "predicates"),
    ("${nope} > 1", "refers to no question"),
    ("regex(., '[0-9]+')", "regex() is not one"),
    ("${a} > ", "end of expression"),
    ("position(..) > 1", "position() is not one"),
])
def test_unsupported_expressions_are_refused_with_a_reason(scope, xlsform, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace(".", r"\.")):
        to_doorstep(xlsform, scope, None)


def test_an_ambiguous_repeat_question_is_refused(scope):
    scope.repeats["supporter"] = {"age"}
    with pytest.raises(ValueError, match="ambiguous"):
        to_doorstep("sum(${age})", scope, None)


def test_export_writes_xlsform_syntax():
    owners = {"member_income": ["members"]}
    assert to_xlsform("${x} = null or ${y} = true", owners) == "${x} = '' or ${y} = true()"
    assert to_xlsform("round(${a}/${b}, 2)", owners) == "round(${a} div ${b}, 2)"
    assert to_xlsform("sum(${members.member_income})", owners) == "sum(${member_income})"


# ---------------------------------------------------------------- what is carried

def test_a_small_form_becomes_a_definition_that_passes_the_checker():
    data = workbook(
        [row("begin group", "home", "住房", "Home"),
         row("select_one housing", "housing", "住房类型", "Housing", "yes"),
         row("decimal", "area", "面积", "Area", "${housing} = 'owned'",
             "${housing} = 'owned'", ". > 0"),
         row("image", "sign", "签名", "Signature"),
         row("end group"),
         row("begin repeat", "member", "成员", "Member"),
         row("text", "name", "姓名", "Name", "yes"),
         row("end repeat"),
         row("calculate", "people", None, None, None, None, None, "count(${member})"),
         row("note", "bye", "谢谢", "Thanks")],
        [["housing", "owned", "自有", "Owned"], ["housing", "rented", "租住", "Rented"]])
    definition = import_xlsx(data)
    assert check_definition(definition) == []
    assert definition["version"] == 1 and definition["title"]["zh-CN"] == "困难家庭核查"
    home, member, loose = definition["sections"]
    assert [f["name"] for f in home["fields"]] == ["housing", "area", "sign"]
    assert home["fields"][1]["required"] == "${housing} = 'owned'"
    assert home["fields"][0]["choices"][1] == {"value": "rented",
                                               "label": {"zh-CN": "租住", "en": "Rented"}}
    assert home["fields"][2]["type"] == "photo"
    assert member["name"] == "member" and member["fields"][0]["type"] == "repeat"
    # Questions outside any group form a section labelled with the form's title.
    assert loose["name"] == "part_1" and loose["label"]["en"] == "Hardship check"
    assert loose["fields"][0] == {"name": "people", "type": "calculate",
                                  "label": {"zh-CN": "people", "en": "people"},
                                  "calculation": "count(${member})"}


@pytest.mark.parametrize(("zh_column", "en_column"), [
    ("label::Chinese (zh)", "label::English (en)"), ("label::zh-CN", "label::en"),
    ("Label::中文", "Label::English"), ("label:Chinese (zh)", "label:English (en)")])
def test_label_columns_in_zh_and_en(zh_column, en_column):
    data = workbook([["text", "q", "问题", "Question"]], settings=SETTINGS,
                    survey_header=["type", "name", zh_column, en_column])
    field = import_xlsx(data)["sections"][0]["fields"][0]
    assert field["label"] == {"zh-CN": "问题", "en": "Question"}


def test_a_label_without_language_fills_both_and_form_id_defaults_to_the_file_name():
    data = workbook([["text", "q", "问题"]], survey_header=["type", "name", "label"],
                    settings={"form_title": "核查"})
    definition = import_xlsx(data, filename="C:\\forms\\poverty-check.xlsx")
    assert definition["form_id"] == "poverty_check"
    assert definition["sections"][0]["fields"][0]["label"] == {"zh-CN": "问题", "en": "问题"}


def test_settings_version_must_be_new_and_is_next_when_left_empty():
    settings = {k: v for k, v in SETTINGS.items()}
    data = workbook([row("text", "q", "问", "Q")], settings=settings)
    assert import_xlsx(data, latest=3)["version"] == 4
    stale = refusal(workbook([row("text", "q", "问", "Q")], settings={**settings, "version": 3}),
                    latest=3)
    assert where(stale) == {("settings", 2, "version")}


# ---------------------------------------------------------------- refusals, each with row+column

def test_choice_filter_is_refused_with_its_reason():
    data = workbook([["select_one c", "county", "县", "County", None],
                     ["select_one t", "town", "镇", "Town", "county = ${county}"]],
                    [["c", "a", "甲", "A", None], ["t", "x", "乙", "X", "a"]],
                    survey_header=["type", "name", "label::zh", "label::en", "choice_filter"],
                    choices_header=["list_name", "name", "label::zh", "label::en", "county"])
    error = refusal(data)
    assert ("survey", 3, "choice_filter") in where(error)
    assert ("choices", 3, "county") in where(error)
    reasons = " ".join(p.reason for p in error.problems)
    assert "no cascading selects" in reasons


@pytest.mark.parametrize(("rows", "expected", "reason"), [
    ([row("text", "q", "问", "Q"), row("integer", "q", "数", "N")], ("survey", 3, "name"),
     "already used (row 2)"),
    ([row("text", "q", "问", "Q", None, "concat(${q}, 'x') = 'a'")], ("survey", 2, "relevant"),
     "concat() is not one"),
    ([row("text", "q", "问", "Q", None, None, "regex(., 'a')")], ("survey", 2, "constraint"),
     "regex() is not one"),
    ([row("calculate", "c", None, None, None, None, None, "today()")],
     ("survey", 2, "calculation"), "today()"),
    ([row("text", "q", "问", "Q", "${q} mod 2")], ("survey", 2, "required"), "'mod'"),
    ([row("barcode", "q", "问", "Q")], ("survey", 2, "type"), "not one Doorstep renders"),
    ([row("select_one yn or_other", "q", "问", "Q")], ("survey", 2, "type"), "or_other"),
    ([row("text", "q", "问")], ("survey", 2, "label"), "needs a label in en"),
    ([row("text", "2q", "问", "Q")], ("survey", 2, "name"), "bad name"),
    ([row("begin repeat", "r", "甲", "A"), row("begin repeat", "s", "乙", "B")],
     ("survey", 3, "type"), "repeats inside repeats"),
    ([row("begin group", "g", "甲", "A"), row("begin group", "h", "乙", "B")],
     ("survey", 3, "type"), "groups inside groups"),
    ([row("end group")], ("survey", 2, "type"), "end group with no open group"),
    ([row("select_one missing", "q", "问", "Q")], ("survey", 2, "type"), "no choice list"),
])
def test_what_cannot_be_carried_is_refused_naming_row_and_column(rows, expected, reason):
    error = refusal(workbook(rows))
    assert expected in where(error), error.problems
    assert any(reason in p.reason for p in error.problems if (p.sheet, p.row, p.column)
               == expected), error.problems


def test_unknown_columns_and_other_languages_are_refused_not_dropped():
    data = workbook([["text", "q", "问", "Q", "minimal", "Question", "5"]],
                    survey_header=[*SURVEY_HEADER[:4], "appearance", "label::French (fr)",
                                   "default"])
    assert where(refusal(data)) == {("survey", 2, "appearance"),
                                    ("survey", 2, "label::French (fr)"), ("survey", 2, "default")}


def test_a_formula_cell_is_refused_with_its_row_and_column():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["text", "q", "问"])
    sheet.append(["integer", "n", '=CONCAT("数", "量")'])
    settings = book.create_sheet("settings")
    settings.append(["form_id"])
    settings.append(["f"])
    out = io.BytesIO()
    book.save(out)
    error = refusal(out.getvalue())
    assert where(error) == {("survey", 3, "label")}
    assert "formula" in error.problems[0].reason


def test_a_ten_thousand_row_form_is_refused_at_the_first_row_beyond_the_limit():
    rows = [row("text", f"q{i}", "问", "Q") for i in range(10_000)]
    error = refusal(workbook(rows))
    assert where(error) == {("survey", MAX_ROWS + 2, "type")}
    assert str(MAX_ROWS) in error.problems[0].reason


def test_not_a_workbook_is_unreadable():
    assert refusal(b"PK\x03\x04 not really a zip").kind == "unreadable"
    assert refusal(b"hello").kind == "unreadable"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "a zip, but not a workbook")
    assert refusal(archive.getvalue()).kind == "unreadable"


def test_a_zip_bomb_is_refused_from_the_declared_sizes_before_openpyxl_reads():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    assert len(archive.getvalue()) < 200_000
    error = refusal(archive.getvalue())
    assert error.kind == "too-large"
    assert "inflate" in error.problems[0].reason


def test_no_survey_sheet_is_refused():
    book = openpyxl.Workbook()
    book.active.title = "questions"
    out = io.BytesIO()
    book.save(out)
    assert where(refusal(out.getvalue())) == {("survey", None, None)}


def test_language_names():
    assert language_of("Chinese (zh)") == "zh-CN"
    assert language_of("English (en)") == "en"
    assert language_of("zh-Hans") == "zh-CN"
    assert language_of("French (fr)") is None


# ---------------------------------------------------------------- public XLSForms (pyxform, BSD-2)

@pytest.mark.parametrize(("name", "expected"), [
    # English-only forms: the importer does not invent Chinese words.
    ("pyxform_text_and_integer.xlsx", {("survey", 2, "label"), ("survey", 3, "label")}),
    ("pyxform_yes_or_no_question.xlsx", {("survey", 2, "type"), ("choices", 2, "label"),
                                         ("choices", 3, "label")}),
    ("pyxform_group.xlsx", {("survey", 4, "type")}),
    ("pyxform_choice_filter_test.xlsx", {("settings", 2, "allow_choice_duplicates"),
                                         ("choices", 4, "cf")}),
])
def test_public_xlsforms_are_refused_row_by_row_never_silently(name, expected):
    error = refusal((DATA / name).read_bytes(), filename=name)
    assert expected <= where(error), sorted(where(error), key=str)
    assert all(p.reason for p in error.problems)
