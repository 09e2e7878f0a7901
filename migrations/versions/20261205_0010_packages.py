"""packages (issue 25): SCORM packages, versions and their items

A package belongs to a course and a module; each uploaded zip is a version (files stored once per zip
SHA-256 under the instance folder); items are the manifest's SCOs in order. A lesson may show a package
item: ``lesson.package_id`` and ``lesson.package_item_identifier`` (both nullable, so existing lessons
upgrade in place). ``package.current_version_id`` and ``package_version.package_id`` point at each other:
the first is added after both tables exist.

Revision ID: 20261205_0010
Revises: 20261205_0009
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0010'
down_revision = '20261205_0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_package_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_package_module_id_module'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package')),
    sa.UniqueConstraint('course_id', 'slug', name=op.f('uq_package_course_id_slug'))
    )
    with op.batch_alter_table('package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_module_id'), ['module_id'], unique=False)

    op.create_table('package_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('scorm_version', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['package.id'], name=op.f('fk_package_version_package_id_package'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_package_version_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_version')),
    sa.UniqueConstraint('package_id', 'number', name=op.f('uq_package_version_package_id_number'))
    )
    with op.batch_alter_table('package_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_version_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_version_sha256'), ['sha256'], unique=False)

    op.create_table('package_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('href', sa.String(length=1000), nullable=False),
    sa.Column('parameters', sa.String(length=1000), nullable=False),
    sa.Column('mastery_score', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('scaled_passing_score', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('completion_threshold', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('data_from_lms', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_item_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_item')),
    sa.UniqueConstraint('version_id', 'identifier', name=op.f('uq_package_item_version_id_identifier'))
    )
    with op.batch_alter_table('package_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_item_version_id'), ['version_id'], unique=False)

    with op.batch_alter_table('package', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_package_current_version_id_package_version'), 'package_version', ['current_version_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('package_item_identifier', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_lesson_package_id'), ['package_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lesson_package_id_package'), 'package', ['package_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lesson_package_id_package'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_lesson_package_id'))
        batch_op.drop_column('package_item_identifier')
        batch_op.drop_column('package_id')

    with op.batch_alter_table('package', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_package_current_version_id_package_version'), type_='foreignkey')

    with op.batch_alter_table('package_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_item_version_id'))
    op.drop_table('package_item')

    with op.batch_alter_table('package_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_version_sha256'))
        batch_op.drop_index(batch_op.f('ix_package_version_package_id'))
    op.drop_table('package_version')

    with op.batch_alter_table('package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_module_id'))
        batch_op.drop_index(batch_op.f('ix_package_course_id'))
    op.drop_table('package')
