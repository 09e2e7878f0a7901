"""course_run.sessions_end_at: when the last of a run's sessions not cancelled ends (issue 22)

The trainee dashboard asked for the next session of the person's runs on every view, although most runs
have no session at all (self-paced courses) or only sessions that are over. lms.sessions.services keeps
this column with course_run.session_minutes, so the dashboard asks only about runs with a session still
to end, and a person without one sends no statement. Existing runs take the latest end of their sessions
not cancelled (NULL without one).

Revision ID: 20261205_0015
Revises: 20261205_0014
Create Date: 2026-12-05 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0015'
down_revision = '20261205_0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_end_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE course_run SET sessions_end_at = ('
        'SELECT max(training_session.ends_at) FROM training_session '
        'WHERE training_session.run_id = course_run.id AND training_session.cancelled_at IS NULL)'
    )


def downgrade():
    with op.batch_alter_table('course_run', schema=None) as batch_op:
        batch_op.drop_column('sessions_end_at')
