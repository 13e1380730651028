from marshmallow import Schema, fields, validate

from backend.reviews.rules import STATES


class CommentCreateSchema(Schema):
    field = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=100), metadata={
                              "description": "a field of the visit's form, e.g. `housing_area` "
                                             "or `members[0].id_number`; null: the whole visit"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class TransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(
        ["has_issues", "approved", "rejected", "revisit_requested"]), metadata={
        "description": "has_issues sends the visit back to its team (needs a comment); "
                       "revisit_requested asks the team for a new visit of the case"})
    comments = fields.List(fields.Nested(CommentCreateSchema), load_default=list,
                           validate=validate.Length(max=50))


class CommentSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    field = fields.String(allow_none=True)
    text = fields.String(required=True)
    author_id = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ReviewRowSchema(Schema):
    submission_id = fields.String(required=True)
    case_id = fields.String(required=True)
    household_id = fields.String(required=True)
    jurisdiction_code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    revision = fields.Integer(required=True, metadata={"description": "the latest revision"})
    risk = fields.Integer(required=True, metadata={
        "description": "alerts x 10000 + warnings x 100 + infos (visits/flags.py severities)"})
    flag_codes = fields.List(fields.String(), required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "user ids"})
    team_names = fields.List(fields.String(), metadata={
        "description": "display names, in the order of team"})
    village_name = fields.String(allow_none=True, metadata={
        "description": "the name of jurisdiction_code"})
    head_name = fields.String(allow_none=True, metadata={
        "description": "the household head's name, masked as the caller's role sees it"})
    received_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    age_days = fields.Integer(required=True)
    version = fields.Integer(required=True)


class ReviewSchema(ReviewRowSchema):
    allowed = fields.List(fields.String(), required=True, metadata={
        "description": "states the caller may move this review to"})
    comments = fields.List(fields.Nested(CommentSchema), required=True)


class QueueFiltersSchema(Schema):
    """The queue's filters, shared by the queue and the exports."""

    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$"),
                            metadata={"description": "a jurisdiction code (and everything below)"})
    member = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9a-f-]{36}$"),
                           metadata={"description": "a user id on the visit's team"})
    flag = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9-]{1,48}$"),
                         metadata={"description": "an integrity flag code (visits/flags.py)"})
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    min_age_days = fields.Integer(load_default=None, validate=validate.Range(0, 3650), metadata={
        "description": "only visits received at least N days ago (waiting N days or more)"})
    max_age_days = fields.Integer(load_default=None, validate=validate.Range(0, 3650), metadata={
        "description": "only visits received at most N days ago"})


class QueueQuerySchema(QueueFiltersSchema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(ReviewRowSchema), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "visits per state under the same filters"})
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "null on the last page"})


class DiffQuerySchema(Schema):
    from_revision = fields.Integer(data_key="from", load_default=None,
                                   validate=validate.Range(1, 100000))
    to_revision = fields.Integer(data_key="to", load_default=None,
                                 validate=validate.Range(1, 100000))


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(
        ["added", "removed", "changed"]))
    before = fields.Raw(allow_none=True, metadata={"description": "masked for your role"})
    after = fields.Raw(allow_none=True, metadata={"description": "masked for your role"})


class DiffSchema(Schema):
    submission_id = fields.String(required=True)
    from_revision = fields.Integer(required=True)
    to_revision = fields.Integer(required=True)
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)


# --- the pull's `review_tasks` slice (registered in reviews.registration) ---

class ReviewTaskCommentSchema(Schema):
    field = fields.String(allow_none=True, metadata={
        "description": "the commented field, e.g. `members[0].id_number`; null: the whole visit"})
    text = fields.String(required=True)
    created_at = fields.String(required=True)


class ReviewTaskSchema(Schema):
    """A visit a reviewer sent back to its team."""

    submission_id = fields.String(required=True)
    case_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(
        ["has_issues", "revisit_requested"]), metadata={
        "description": "has_issues: fix and send a new revision (base_revision = revision); "
                       "revisit_requested: visit the household again as a new visit"})
    revision = fields.Integer(required=True, metadata={"description": "the reviewed revision"})
    comments = fields.List(fields.Nested(ReviewTaskCommentSchema), required=True)


# --- the evidence viewer ------------------------------------------------------------------

class EvidenceCommentSchema(CommentSchema):
    author_name = fields.String(allow_none=True)


class HomeSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class EvidenceStampSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "start, end or photo"})
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    captured_at = fields.String(allow_none=True, metadata={
        "description": "ISO 8601, the device's clock"})
    user_id = fields.String(allow_none=True, metadata={"description": "whose device"})
    user_name = fields.String(allow_none=True)
    distance_from_home_m = fields.Float(allow_none=True, metadata={
        "description": "metres from the registered home (geodesic); null: home unknown"})


class EvidencePhotoSchema(Schema):
    sha256 = fields.String(required=True)
    field = fields.String(allow_none=True, metadata={"description": "the form field it answers"})
    is_uploaded = fields.Boolean(required=True, metadata={
        "description": "false: the phone has not uploaded the bytes yet (urls answer 404)"})
    url = fields.String(required=True, metadata={"description": "full size, metadata removed"})
    thumbnail_url = fields.String(required=True)
    exif_lat = fields.Float(allow_none=True, metadata={"description": "where the camera says"})
    exif_lon = fields.Float(allow_none=True)
    exif_taken_at_local = fields.String(allow_none=True, metadata={
        "description": "the camera's clock as it wrote it"})
    exif_taken_at = fields.DateTime(allow_none=True, metadata={
        "description": "that instant (its EXIF offset, else Asia/Shanghai)"})
    device_lat = fields.Float(allow_none=True, metadata={"description": "the app's own claim"})
    device_lon = fields.Float(allow_none=True)
    device_captured_at = fields.DateTime(allow_none=True)
    distance_from_home_m = fields.Float(allow_none=True)
    located_by = fields.String(allow_none=True, validate=validate.OneOf(["exif", "device"]),
                               metadata={"description": "which position the distance uses"})
    minutes_outside_visit = fields.Float(allow_none=True, metadata={
        "description": "0 when taken between the visit's start and end stamps"})


class EvidenceAttestationSchema(Schema):
    user_id = fields.String(required=True)
    name = fields.String(allow_none=True, metadata={"description": "the signer's display name"})
    roles = fields.List(fields.String(), required=True)
    key_id = fields.String(allow_none=True, metadata={"description": "the device key that signed"})
    device_id = fields.String(allow_none=True)
    revision = fields.Integer(allow_none=True, metadata={
        "description": "the revision whose digest it signs"})
    is_current_revision = fields.Boolean(required=True)
    is_signature_valid = fields.Boolean(required=True)
    signed_at = fields.DateTime(allow_none=True, metadata={"description": "device clock"})
    received_at = fields.DateTime(required=True)


class EvidenceFlagSchema(Schema):
    code = fields.String(required=True, metadata={
        "description": "slug from the flag catalogue (backend/visits/flags.py)"})
    severity = fields.String(required=True, validate=validate.OneOf(["info", "warning", "alert"]))
    revision = fields.Integer(required=True)
    parameters = fields.Dict(required=True, metadata={
        "description": "the measured values and the threshold compared (e.g. distance_m, "
                       "threshold_m)"})
    thresholds = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the jurisdiction settings this flag compares, with today's values "
                       "(e.g. {\"max_home_distance_m\": 500})"})
    detail_zh = fields.String(required=True, metadata={"description": "one sentence, zh-CN"})
    detail_en = fields.String(required=True, metadata={"description": "one sentence, English"})


class VisitTimelineEntrySchema(Schema):
    at = fields.DateTime(required=True)
    event = fields.String(required=True, validate=validate.OneOf(
        ["started", "ended", "received", "revised", "attested", "review_moved", "commented"]))
    actor_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    revision = fields.Integer(allow_none=True)
    state = fields.String(allow_none=True, metadata={
        "description": "review_moved: the state the review moved to"})
    field = fields.String(allow_none=True, metadata={"description": "commented: the field"})


class EvidenceSchema(ReviewSchema):
    """One visit's evidence, masked for the caller's role (the evidence viewer's one call)."""

    comments = fields.List(fields.Nested(EvidenceCommentSchema), required=True)
    form_id = fields.String(required=True)
    form_version = fields.Integer(required=True)
    answers = fields.Dict(required=True, metadata={
        "description": "the current revision's answers; resident IDs and mobiles masked per "
                       "role"})
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    duration_minutes = fields.Float(allow_none=True)
    home = fields.Nested(HomeSchema, allow_none=True, metadata={
        "description": "the household's registered location; null: unknown"})
    distance_rings_m = fields.List(fields.Float(), required=True, metadata={
        "description": "radii to draw around home: half, once and twice the "
                       "max_home_distance_m setting"})
    stamps = fields.List(fields.Nested(EvidenceStampSchema), required=True)
    photos = fields.List(fields.Nested(EvidencePhotoSchema), required=True)
    attestations = fields.List(fields.Nested(EvidenceAttestationSchema), required=True)
    flags = fields.List(fields.Nested(EvidenceFlagSchema), required=True)
    timeline = fields.List(fields.Nested(VisitTimelineEntrySchema), required=True, metadata={
        "description": "oldest first"})


# --- the supervisors' dashboard -----------------------------------------------------------

class DashboardQuerySchema(Schema):
    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$"),
                            metadata={"description": "a jurisdiction code inside your area "
                                                     "(default: all of your area)"})
    days = fields.Integer(load_default=None, validate=validate.Range(1, 3650), metadata={
        "description": "count only visits received in the last N days (cases: all open)"})


class ChartQuerySchema(DashboardQuerySchema):
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]),
                         metadata={"description": "the chart's words"})


class DashboardMetricsSchema(Schema):
    visits = fields.Integer(required=True, metadata={
        "description": "visits (a visit counts for its village and for each team member)"})
    median_duration_minutes = fields.Float(allow_none=True, required=True, metadata={
        "description": "median of end stamp − start stamp (latest revision); null: none"})
    flags_per_100_visits = fields.Float(allow_none=True, required=True, metadata={
        "description": "kinds of integrity flag on the latest revisions, per 100 visits"})
    has_issues_rate = fields.Float(allow_none=True, required=True, metadata={
        "description": "share (0..1) of visits a reviewer sent back at least once"})
    open_cases = fields.Integer(required=True)
    overdue_cases = fields.Integer(required=True, metadata={
        "description": "open cases past their deadline"})
    untouched_30_days = fields.Integer(required=True, metadata={
        "description": "open cases with no change (case or review) for ≥ 30 days; "
                       "cumulative: includes the 60 and 120 day counts"})
    untouched_60_days = fields.Integer(required=True)
    untouched_120_days = fields.Integer(required=True)


class DashboardVillageSchema(DashboardMetricsSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class DashboardFieldWorkerSchema(DashboardMetricsSchema):
    user_id = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)


class DashboardChartLinkSchema(Schema):
    metric = fields.String(required=True, validate=validate.OneOf(
        ["flags_per_100_visits", "has_issues_rate", "untouched_cases"]))
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    url = fields.String(required=True, metadata={
        "description": "GET it with the bearer token, add ?lang=zh-CN|en and the same "
                       "village/days; show the SVG from a blob: URL"})


class DashboardSchema(Schema):
    scope_code = fields.String(allow_none=True, required=True, metadata={
        "description": "the place covered; null: the village asked is outside your area"})
    scope_name = fields.String(allow_none=True, required=True)
    generated_at = fields.DateTime(required=True)
    received_within_days = fields.Integer(allow_none=True, required=True)
    totals = fields.Nested(DashboardMetricsSchema, required=True)
    villages = fields.List(fields.Nested(DashboardVillageSchema), required=True, metadata={
        "description": "by village code"})
    field_workers = fields.List(fields.Nested(DashboardFieldWorkerSchema), required=True,
                                metadata={"description": "team members, by name"})
    charts = fields.List(fields.Nested(DashboardChartLinkSchema), required=True)


# --- exports ------------------------------------------------------------------------------

class ExportQuerySchema(QueueFiltersSchema):
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]),
                         metadata={"description": "the language of the column headers"})
    authorisation = fields.String(
        load_default=None, validate=validate.Length(max=36),
        metadata={"description": "an approver's export authorisation for you: the export is "
                                 "then full (not masked) and says so inside the file"})


class CsvExportQuerySchema(ExportQuerySchema):
    sheet = fields.String(load_default="visits", validate=validate.OneOf(["visits", "members"]),
                          metadata={"description": "visits: one row per visit; members: one "
                                                   "row per household member of each visit"})
