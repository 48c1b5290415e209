"""stored files: photos, portraits and slip scans in the database

Files used to be written under UPLOAD_DIR on one host's disk: other hosts could not see them and
backups did not include them. From here on they are rows of `stored_files` (bytes, SHA-256,
content type), and product photos, maker portraits and payout lines point at them by hash.

The old file names are kept as `legacy_*` columns; the files themselves are moved by
`flask files import-uploads` (run it once after this upgrade, on the host that has the files —
until then old photos and scans are not shown). It never deletes anything on disk.

Revision ID: e8a5cd125d7d
Revises: 4fe7012d0c6f
Create Date: 2026-12-04 19:03:47.940479

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'e8a5cd125d7d'
down_revision = '4fe7012d0c6f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_stored_files_sha256_length')),
    sa.CheckConstraint('size >= 0', name=op.f('ck_stored_files_size_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_stored_files_sha256'))
    )
    # makers and payout_lines are referenced by other tables: on SQLite, with foreign keys on,
    # a batch "recreate" (copy, DROP TABLE, rename) would fail. Plain ALTER TABLE works on both
    # databases (a new column may carry a REFERENCES clause when it defaults to NULL).
    for table, column in (("makers", "photo_sha256"), ("makers", "photo_thumb_sha256"),
                          ("payout_lines", "slip_sha256")):
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(64) "
                   f"CONSTRAINT fk_{table}_{column}_stored_files REFERENCES stored_files (sha256)")
    op.execute("ALTER TABLE makers RENAME COLUMN photo_path TO legacy_photo_path")
    op.execute("ALTER TABLE payout_lines RENAME COLUMN slip_path TO legacy_slip_path")
    # The stored file carries its content type (the import reads it again from the bytes).
    op.execute("ALTER TABLE payout_lines DROP COLUMN slip_content_type")
    op.create_index(op.f('ix_makers_photo_sha256'), 'makers', ['photo_sha256'], unique=False)
    op.create_index(op.f('ix_makers_photo_thumb_sha256'), 'makers', ['photo_thumb_sha256'], unique=False)

    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('thumb_sha256', sa.String(length=64), nullable=True))
        batch_op.alter_column('path', new_column_name='legacy_path', existing_type=sa.String(length=200),
                              nullable=True)
        batch_op.create_index(batch_op.f('ix_product_photos_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_photos_thumb_sha256'), ['thumb_sha256'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_product_photos_thumb_sha256_stored_files'), 'stored_files', ['thumb_sha256'], ['sha256'])
        batch_op.create_foreign_key(batch_op.f('fk_product_photos_file_sha256_stored_files'), 'stored_files', ['file_sha256'], ['sha256'])
        batch_op.create_check_constraint(op.f('ck_product_photos_file_with_thumb'),
                                         '(file_sha256 IS NULL) = (thumb_sha256 IS NULL)')
        batch_op.create_check_constraint(op.f('ck_product_photos_has_file'),
                                         'file_sha256 IS NOT NULL OR legacy_path IS NOT NULL')

    # A stored file is a fact: never rewritten, never deleted (on SQLite the ORM refuses it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER stored_files_no_change BEFORE UPDATE OR DELETE ON stored_files "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_history_change()")


def downgrade():
    # Going back would put photos and scans on no disk at all: refuse while any file is stored.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM stored_files")).scalar():
        raise RuntimeError("stored_files is not empty: downgrading would lose photos and slip scans")
    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_product_photos_has_file'), type_='check')
        batch_op.drop_constraint(op.f('ck_product_photos_file_with_thumb'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_product_photos_file_sha256_stored_files'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_product_photos_thumb_sha256_stored_files'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_product_photos_thumb_sha256'))
        batch_op.drop_index(batch_op.f('ix_product_photos_file_sha256'))
        batch_op.alter_column('legacy_path', new_column_name='path', existing_type=sa.String(length=200),
                              nullable=False)
        batch_op.drop_column('thumb_sha256')
        batch_op.drop_column('file_sha256')

    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slip_content_type', sa.VARCHAR(length=40), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_payout_lines_slip_sha256_stored_files'), type_='foreignkey')
        batch_op.alter_column('legacy_slip_path', new_column_name='slip_path', existing_type=sa.String(length=200),
                              existing_nullable=True)
        batch_op.drop_column('slip_sha256')
    op.execute("UPDATE payout_lines SET slip_content_type = CASE "
               "WHEN slip_path LIKE '%.pdf' THEN 'application/pdf' WHEN slip_path LIKE '%.jpg' THEN 'image/jpeg' "
               "WHEN slip_path LIKE '%.png' THEN 'image/png' ELSE 'image/webp' END WHERE slip_path IS NOT NULL")

    with op.batch_alter_table('makers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_makers_photo_with_thumb'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_makers_photo_sha256_stored_files'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_makers_photo_thumb_sha256_stored_files'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_makers_photo_thumb_sha256'))
        batch_op.drop_index(batch_op.f('ix_makers_photo_sha256'))
        batch_op.alter_column('legacy_photo_path', new_column_name='photo_path', existing_type=sa.String(length=200),
                              existing_nullable=True)
        batch_op.drop_column('photo_thumb_sha256')
        batch_op.drop_column('photo_sha256')

    op.drop_table('stored_files')
