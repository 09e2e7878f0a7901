"""package attempts (issue 25): learners' SCORM attempts and CMI data

One row per enrolment, package lesson and attempt number, with the version and item played, the checked
CMI data (JSON) and the values the LMS reads from it (lms/packages/runtime/models.py).

Revision ID: 20261205_0011
Revises: 20261205_0010
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0011'
down_revision = '20261205_0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('package_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('cmi', sa.JSON(), nullable=False),
    sa.Column('completion_status', sa.String(length=16), nullable=False),
    sa.Column('success_status', sa.String(length=16), nullable=False),
    sa.Column('score_raw', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('score_scaled', sa.Numeric(precision=6, scale=5), nullable=True),
    sa.Column('location', sa.String(length=1000), nullable=False),
    sa.Column('suspend_data', sa.Text(), nullable=False),
    sa.Column('exit', sa.String(length=16), nullable=False),
    sa.Column('total_seconds', sa.Integer(), nullable=False),
    sa.Column('session_seconds', sa.Integer(), nullable=False),
    sa.Column('session_key', sa.String(length=64), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_package_attempt_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['package_item.id'], name=op.f('fk_package_attempt_item_id_package_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_package_attempt_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_attempt_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_attempt')),
    sa.UniqueConstraint('enrolment_id', 'lesson_id', 'number', name=op.f('uq_package_attempt_enrolment_id_lesson_id_number'))
    )
    with op.batch_alter_table('package_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_attempt_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_attempt_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_attempt_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_attempt_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('package_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_attempt_version_id'))
        batch_op.drop_index(batch_op.f('ix_package_attempt_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_package_attempt_item_id'))
        batch_op.drop_index(batch_op.f('ix_package_attempt_enrolment_id'))
    op.drop_table('package_attempt')
