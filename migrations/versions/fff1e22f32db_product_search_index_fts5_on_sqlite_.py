"""product search index: FTS5 on SQLite, tsvector and trigrams on PostgreSQL

One document per product, whatever its state (staff search sees them all): its name, category, who
made it, where (the Sentra's name and city) and its description, and whether the shop shows it
(published, active, at an active Sentra), so that a shop search counts and ranks its matches in
the index alone. Who made it is the maker's public name **only while the maker is active
and has a valid SHOP_NAME consent** (a guardian's for a minor) — the rule of
`shop.services.consent_clause` / `maker_public`, written here in SQL — or the KUBE group's name,
which the shop always shows. Without consent the maker's name is not in the index at all, so it
cannot find the product.

The database keeps the index in step by triggers, whatever writes the rows (the ORM, bulk inserts,
a migration, raw SQL): on products (insert, change of an indexed column or of published/active,
delete), makers (public name, active, minor), consents (any change of a SHOP_NAME consent), maker
groups (name) and Sentras (name, city, active).

- SQLite: an FTS5 table `product_search` (rowid = product id; tokenizer unicode61 with
  diacritics removed; prefix indexes of 2 and 3 characters for words typed half-way). Its text
  columns are empty while the shop does not show the product, so a shop search finds, counts and
  ranks in the index alone; `staff_name` holds every product's name for staff lists.
- PostgreSQL: a table `product_search` (a `tsvector` with a GIN index, the folded words with a
  `pg_trgm` GIN index for misspellings, and `in_shop`), filled by `product_search_refresh(ids)`.
  There is no Indonesian dictionary: the text search configuration `search_simple` is `simple`
  (no stemming, no stop words) with `unaccent` in front where the extension is available.

Neither is in the models: `inventory.search.not_a_search_table` leaves them out of the
comparison. A later migration that rebuilds `products`, `makers`, `consents`, `maker_groups` or
`sentras` with SQLite's batch mode (copy and rename) drops their triggers: it must create them again
(the search tests, which run on the migrated schema, fail otherwise).

Revision ID: fff1e22f32db
Revises: 9df5899afd81
Create Date: 2026-12-04 19:36:54.498793

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'fff1e22f32db'
down_revision = '9df5899afd81'
branch_labels = None
depends_on = None

#: the maker's public name where the shop may show it (the consent rule), else ''
MAKER_NAME = (
    "CASE WHEN m.is_active AND EXISTS (SELECT 1 FROM consents c WHERE c.maker_id = m.id "
    "AND c.purpose = 'shop_name' AND c.revoked_at IS NULL AND (NOT m.is_minor OR c.given_by = 'guardian')) "
    "THEN m.public_name ELSE '' END"
)
#: the shop shows the product (published, active, at an active Sentra)
IN_SHOP = "p.is_published AND p.is_active AND s.is_active"
DOCUMENTS = (
    "SELECT p.id AS id, p.name AS name, p.category AS category, "
    f"{MAKER_NAME} || ' ' || coalesce(g.name, '') AS maker, "
    "coalesce(s.name, '') || ' ' || coalesce(s.city, '') AS place, coalesce(p.description, '') AS description, "
    f"CASE WHEN {IN_SHOP} THEN 1 ELSE 0 END AS in_shop "
    "FROM products p JOIN sentras s ON s.id = p.sentra_id "
    "LEFT JOIN makers m ON m.id = p.maker_id LEFT JOIN maker_groups g ON g.id = p.group_id "
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_up()
    else:
        _sqlite_up()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_down()
    else:
        _sqlite_down()


# -- SQLite: FTS5 -----------------------------------------------------------------------------------

#: the FTS5 columns: what a buyer may find (empty while the shop does not show the product), and
#: the name for staff
SQLITE_COLUMNS = "rowid, name, category, maker, place, description, staff_name"
SQLITE_VALUES = ("id, " + ", ".join(f"CASE WHEN in_shop THEN {column} ELSE '' END" for column in (
    "name", "category", "maker", "place", "description")) + ", name")


def _sqlite_refresh(where: str) -> str:
    """Statements (for a trigger body) that write the documents of the products matching `where`."""
    return (f"DELETE FROM product_search WHERE rowid IN (SELECT p.id FROM products p WHERE {where}); "
            f"INSERT INTO product_search ({SQLITE_COLUMNS}) "
            f"SELECT {SQLITE_VALUES} FROM ({DOCUMENTS} WHERE {where});")


SQLITE_TRIGGERS = {
    "product_search_products_insert": ("AFTER INSERT ON products", "p.id = NEW.id"),
    "product_search_products_update": (
        "AFTER UPDATE OF name, category, description, maker_id, group_id, sentra_id, is_published, is_active "
        "ON products", "p.id = NEW.id"),
    "product_search_makers_update": ("AFTER UPDATE OF public_name, is_active, is_minor ON makers",
                                     "p.maker_id = NEW.id"),
    "product_search_consents_insert": ("AFTER INSERT ON consents WHEN NEW.purpose = 'shop_name'",
                                       "p.maker_id = NEW.maker_id"),
    "product_search_consents_update": (
        "AFTER UPDATE ON consents WHEN NEW.purpose = 'shop_name' OR OLD.purpose = 'shop_name'",
        "p.maker_id IN (OLD.maker_id, NEW.maker_id)"),
    "product_search_consents_delete": ("AFTER DELETE ON consents WHEN OLD.purpose = 'shop_name'",
                                       "p.maker_id = OLD.maker_id"),
    "product_search_groups_update": ("AFTER UPDATE OF name ON maker_groups", "p.group_id = NEW.id"),
    "product_search_sentras_update": ("AFTER UPDATE OF name, city, is_active ON sentras", "p.sentra_id = NEW.id"),
}


def _sqlite_up():
    op.execute("CREATE VIRTUAL TABLE product_search USING fts5(name, category, maker, place, description, "
               "staff_name, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")
    op.execute(f"INSERT INTO product_search ({SQLITE_COLUMNS}) SELECT {SQLITE_VALUES} FROM ({DOCUMENTS})")
    for name, (when, where) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {_sqlite_refresh(where)} END")
    op.execute("CREATE TRIGGER product_search_products_delete AFTER DELETE ON products "
               "BEGIN DELETE FROM product_search WHERE rowid = OLD.id; END")


def _sqlite_down():
    for name in [*SQLITE_TRIGGERS, "product_search_products_delete"]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS product_search")


# -- PostgreSQL: tsvector + pg_trgm ------------------------------------------------------------------

def _postgresql_up():
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    unaccent = bind.exec_driver_sql(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'").scalar()
    if unaccent:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION search_simple (COPY = simple)")
    if unaccent:
        op.execute("ALTER TEXT SEARCH CONFIGURATION search_simple "
                   "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple")
    # Lower case without accents: the trigram column, and the words a buyer typed to compare with it.
    fold = "lower(unaccent($1))" if unaccent else "lower($1)"
    op.execute(f"CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE "
               f"AS $$ SELECT {fold} $$")
    op.execute("""
        CREATE TABLE product_search (
            product_id integer PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
            document tsvector NOT NULL,
            words text NOT NULL,
            in_shop boolean NOT NULL
        )""")
    op.execute("CREATE INDEX ix_product_search_document ON product_search USING gin (document)")
    op.execute("CREATE INDEX ix_product_search_words ON product_search USING gin (words gin_trgm_ops)")
    op.execute(f"""
        CREATE FUNCTION product_search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO product_search (product_id, document, words, in_shop)
            SELECT d.id,
                   setweight(to_tsvector('search_simple', d.name), 'A')
                   || setweight(to_tsvector('search_simple', d.category), 'B')
                   || setweight(to_tsvector('search_simple', d.maker), 'B')
                   || setweight(to_tsvector('search_simple', d.place), 'C')
                   || setweight(to_tsvector('search_simple', d.description), 'D'),
                   search_fold(concat_ws(' ', d.name, d.category, d.maker, d.place)),
                   d.in_shop = 1
            FROM ({DOCUMENTS} JOIN (SELECT DISTINCT unnest(ids)) AS changed (id) ON changed.id = p.id) d
            ON CONFLICT (product_id) DO UPDATE
                SET document = EXCLUDED.document, words = EXCLUDED.words, in_shop = EXCLUDED.in_shop
        $$""")
    op.execute("""
        CREATE FUNCTION product_search_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM product_search_refresh(ARRAY(SELECT id FROM new_products));
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE FUNCTION product_search_owner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'products' THEN
                PERFORM product_search_refresh(ARRAY[NEW.id]);
            ELSIF TG_TABLE_NAME = 'makers' THEN
                PERFORM product_search_refresh(ARRAY(SELECT id FROM products WHERE maker_id = NEW.id));
            ELSIF TG_TABLE_NAME = 'maker_groups' THEN
                PERFORM product_search_refresh(ARRAY(SELECT id FROM products WHERE group_id = NEW.id));
            ELSIF TG_TABLE_NAME = 'sentras' THEN
                PERFORM product_search_refresh(ARRAY(SELECT id FROM products WHERE sentra_id = NEW.id));
            ELSIF TG_TABLE_NAME = 'consents' THEN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    IF OLD.purpose = 'shop_name' THEN
                        PERFORM product_search_refresh(ARRAY(SELECT id FROM products WHERE maker_id = OLD.maker_id));
                    END IF;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    IF NEW.purpose = 'shop_name' THEN
                        PERFORM product_search_refresh(ARRAY(SELECT id FROM products WHERE maker_id = NEW.maker_id));
                    END IF;
                END IF;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER product_search_products_insert AFTER INSERT ON products "
               "REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT "
               "EXECUTE FUNCTION product_search_products_inserted()")
    op.execute("CREATE TRIGGER product_search_products_update "
               "AFTER UPDATE OF name, category, description, maker_id, group_id, sentra_id, is_published, is_active "
               "ON products FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name "
               "OR OLD.category IS DISTINCT FROM NEW.category OR OLD.description IS DISTINCT FROM NEW.description "
               "OR OLD.maker_id IS DISTINCT FROM NEW.maker_id OR OLD.group_id IS DISTINCT FROM NEW.group_id "
               "OR OLD.sentra_id IS DISTINCT FROM NEW.sentra_id OR OLD.is_published IS DISTINCT FROM NEW.is_published "
               "OR OLD.is_active IS DISTINCT FROM NEW.is_active) "
               "EXECUTE FUNCTION product_search_owner_changed()")
    op.execute("CREATE TRIGGER product_search_makers_update AFTER UPDATE OF public_name, is_active, is_minor "
               "ON makers FOR EACH ROW WHEN (OLD.public_name IS DISTINCT FROM NEW.public_name "
               "OR OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.is_minor IS DISTINCT FROM NEW.is_minor) "
               "EXECUTE FUNCTION product_search_owner_changed()")
    op.execute("CREATE TRIGGER product_search_consents_change AFTER INSERT OR UPDATE OR DELETE ON consents "
               "FOR EACH ROW EXECUTE FUNCTION product_search_owner_changed()")
    op.execute("CREATE TRIGGER product_search_groups_update AFTER UPDATE OF name ON maker_groups "
               "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) "
               "EXECUTE FUNCTION product_search_owner_changed()")
    op.execute("CREATE TRIGGER product_search_sentras_update AFTER UPDATE OF name, city, is_active ON sentras "
               "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.city IS DISTINCT FROM NEW.city "
               "OR OLD.is_active IS DISTINCT FROM NEW.is_active) "
               "EXECUTE FUNCTION product_search_owner_changed()")
    op.execute("SELECT product_search_refresh(ARRAY(SELECT id FROM products))")


def _postgresql_down():
    for trigger, table in (("product_search_products_insert", "products"),
                           ("product_search_products_update", "products"),
                           ("product_search_makers_update", "makers"),
                           ("product_search_consents_change", "consents"),
                           ("product_search_groups_update", "maker_groups"),
                           ("product_search_sentras_update", "sentras")):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS product_search_owner_changed()")
    op.execute("DROP FUNCTION IF EXISTS product_search_products_inserted()")
    op.execute("DROP FUNCTION IF EXISTS product_search_refresh(integer[])")
    op.execute("DROP TABLE IF EXISTS product_search")
    op.execute("DROP FUNCTION IF EXISTS search_fold(text)")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS search_simple")
    # pg_trgm and unaccent stay: other objects may use them, and they hold no data.
