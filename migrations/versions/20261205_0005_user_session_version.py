"""user.session_version: signing out ends the session on the server

A cookie copied before POST /logout still opened every page: the session was only signed, never
checked against anything the server changes. The session fingerprint now includes this counter,
which signing out (and deactivation, a password change) raises.

Revision ID: 20261205_0005
Revises: 20261203_0004
Create Date: 2026-12-05 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0005'
down_revision = '20261203_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
