"""indicator speed (issue 22): what the uncached indicator report reads (L and XL)

indicator_cell: the whole academy's indicator figures, already summed per cell (the total, each country,
sex, age band, authority and completion month), kept true by lms.reports.cells by difference. Filled here
from indicator_fact with SQL frozen at this revision (the same sums as lms.reports.cells.rebuild);
`flask lms reports check-facts` compares the cells with the facts.

indicator_version: a counter per derived figure set without row-by-row upkeep ("trainings": the whole
academy's training indicators, cached under it; lms.reports.versions moves it with every write that can
change them). Starts empty: the first such write inserts the row.

Revision ID: 20261205_0013
Revises: 20261205_0011
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0013'
down_revision = '20261205_0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('indicator_cell',
    sa.Column('dimension', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('enrolments', sa.Integer(), nullable=False),
    sa.Column('completions', sa.Integer(), nullable=False),
    sa.Column('completed_persons', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('completed_hours', sa.Integer(), nullable=False),
    sa.Column('paired', sa.Integer(), nullable=False),
    sa.Column('pre_sum', sa.Float(), nullable=False),
    sa.Column('post_sum', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('dimension', 'key', name=op.f('pk_indicator_cell'))
    )
    for statement in fill_statements():
        op.execute(statement)
    op.create_table('indicator_version',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_indicator_version'))
    )


FIGURES = "participants, enrolments, completions, completed_persons, certificates, completed_hours, paired, pre_sum, post_sum"
SUMS = ("COUNT(*), SUM(n), SUM(done), SUM(CASE WHEN done > 0 THEN 1 ELSE 0 END), SUM(certificates), "
        "SUM(hours), SUM(paired), COALESCE(SUM(pre), 0), COALESCE(SUM(post), 0)")
PER = ("COUNT(*) AS n, COUNT(completed_month) AS done, SUM(certificate) AS certificates, SUM(hours) AS hours, "
       "SUM(paired) AS paired, SUM(pre_percent) AS pre, SUM(post_percent) AS post")


def fill_statements() -> list[str]:
    """The first fill: per person (and per authority and person) sums of the facts, then per cell."""
    person = (f"(SELECT user_id, MIN(country_code) AS country, MIN(sex) AS sex, MIN(age_band) AS age_band, {PER} "
              "FROM indicator_fact GROUP BY user_id) AS p")
    authority = (f"(SELECT authority_id, user_id, {PER} FROM indicator_fact "
                 "GROUP BY authority_id, user_id) AS a")
    insert = f"INSERT INTO indicator_cell (dimension, key, {FIGURES}) "
    statements = [insert + f"SELECT 'total', '', {SUMS} FROM {person} HAVING COUNT(*) > 0"]
    for name in ("country", "sex", "age_band"):
        statements.append(insert + f"SELECT '{name}', COALESCE({name}, ''), {SUMS} FROM {person} "
                          f"GROUP BY COALESCE({name}, '')")
    statements.append(insert + f"SELECT 'authority', COALESCE(CAST(authority_id AS VARCHAR(20)), ''), {SUMS} "
                      f"FROM {authority} GROUP BY COALESCE(CAST(authority_id AS VARCHAR(20)), '')")
    statements.append(insert + "SELECT 'month', completed_month, 0, COUNT(*), COUNT(*), 0, 0, 0, 0, 0, 0 "
                      "FROM indicator_fact WHERE completed_month IS NOT NULL GROUP BY completed_month")
    return statements


def downgrade():
    op.drop_table('indicator_version')
    op.drop_table('indicator_cell')
