"""products created_at index

The shop lists the newest products first; its home page reads only the first few. A plain
CREATE INDEX (not batch mode, which on SQLite would rebuild `products` and drop the search
triggers of fff1e22f32db).

Revision ID: b4a46f6cdbf7
Revises: fff1e22f32db
Create Date: 2026-12-04 20:46:03.658889

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b4a46f6cdbf7'
down_revision = 'fff1e22f32db'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_products_created_at'), 'products', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_products_created_at'), table_name='products')
