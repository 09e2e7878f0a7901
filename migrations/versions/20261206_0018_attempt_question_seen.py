"""attempt question by attempt and question (issue 22): the quiz start's "seen before" read

A quiz start asks which of the candidate questions the enrolment has seen in its earlier attempts
(lms.quizzes.draw._seen_questions). With an index on attempt_id (the unique one, with position) and one on
question_id, PostgreSQL ANDed two bitmaps per attempt, the second holding every attempt's entries for those
questions: it grows with the whole quiz's history (75 ms a start on data set L once the bench's quiz run
had added attempts, the statistics not yet updated). By attempt and question together it is a few index
entries per attempt, on both databases.

Revision ID: 20261206_0018
Revises: 20261205_0017
Create Date: 2026-12-06 07:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "20261206_0018"
down_revision = "20261205_0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_attempt_question_attempt_question", "attempt_question", ["attempt_id", "question_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_attempt_question_attempt_question", table_name="attempt_question")
