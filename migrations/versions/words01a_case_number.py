"""case number people read (文屏〔2026〕低保第 0012 号): a column on the case, a counter per
township, year and kind, and numbers for the cases that already exist

Revision ID: words01a
Revises: webh01a7c3d2
Create Date: 2026-12-06 13:00:00

"""
from datetime import timedelta, timezone

from alembic import op
import sqlalchemy as sa


revision = 'words01a'
down_revision = 'webh01a7c3d2'
branch_labels = None
depends_on = None

# Frozen here as they were when this migration was written (the app's copy may change).
_PATTERN = "{township}〔{year}〕{kind}第 {seq:04d} 号"
_KIND_SHORT = {"dibao": "低保", "low_income_margin": "低边", "extreme_poverty": "特困",
               "temporary": "临救", "special_case": "特事", "periodic_review": "复核"}
_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
_CHINA = timezone(timedelta(hours=8))


def _short(name):
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def upgrade():
    op.create_table('case_number_counter',
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('township_code', 'year', 'kind', name=op.f('pk_case_number_counter'))
    )
    with op.batch_alter_table('assistance_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_no', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_assistance_case_case_no'), ['case_no'])
    _backfill()


def _backfill():
    """Number the existing cases in order of intake, per township, year and kind."""
    bind = op.get_bind()
    names = dict(bind.execute(sa.text("SELECT code, name FROM jurisdiction")).all())
    rows = bind.execute(sa.text(
        "SELECT id, jurisdiction_code, kind, applied_at FROM assistance_case "
        "ORDER BY applied_at, id")).all()
    counters = {}
    for case_id, code, kind, applied_at in rows:
        if isinstance(applied_at, str):  # SQLite hands the stored text back
            from datetime import datetime
            applied_at = datetime.fromisoformat(applied_at)
        if applied_at.tzinfo is None:
            applied_at = applied_at.replace(tzinfo=timezone.utc)
        township = code[:9]
        year = applied_at.astimezone(_CHINA).year
        key = (township, year, kind)
        counters[key] = counters.get(key, 0) + 1
        number = _PATTERN.format(township=_short(names.get(township, township)), year=year,
                                 kind=_KIND_SHORT.get(kind, kind), seq=counters[key])
        bind.execute(sa.text("UPDATE assistance_case SET case_no = :no WHERE id = :id"),
                     {"no": number, "id": case_id})
    for (township, year, kind), last in counters.items():
        bind.execute(sa.text(
            "INSERT INTO case_number_counter (township_code, year, kind, last_seq) "
            "VALUES (:township, :year, :kind, :last)"),
            {"township": township, "year": year, "kind": kind, "last": last})


def downgrade():
    with op.batch_alter_table('assistance_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_assistance_case_case_no'), type_='unique')
        batch_op.drop_column('case_no')
    op.drop_table('case_number_counter')
