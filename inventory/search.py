"""Product search on the database's full-text index.

The index (`product_search`) and the triggers that keep it in step with products, makers, consents,
groups and Sentras are built by the migration fff1e22f32db (see its docstring for what a document
holds and the consent rule). Here: turning what a buyer typed into a query on it.

- Every word must match, in any order ("batik kemeja" finds "Kemeja Batik"), each as the start of
  a word ("kem" finds "kemeja"), so results narrow down as a buyer types. No dictionary knows
  Indonesian: prefixes stand in for suffixes ("anyam" finds "anyaman", "kain" finds "kainnya"), and
  accents are ignored (SQLite unicode61 with remove_diacritics; PostgreSQL `simple` + `unaccent`).
- PostgreSQL also finds misspelt words by trigram similarity (`fuzzy=True`, for when the full-text
  search finds nothing); SQLite has no such index.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from core.extensions import db

#: what counts as a word in a query (letters and digits; everything else separates words)
WORD = re.compile(r"[^\W_]+")
#: at most this many words of a query are used (a query is at most 80 characters anyway)
MAX_TERMS = 8
#: how alike a misspelt word must be to an indexed word (pg_trgm word_similarity, 0–1)
FUZZY_THRESHOLD = 0.5
#: bm25 weights of the SQLite columns: name, category, maker, place, description, staff_name
_SQLITE_WEIGHTS = "10.0, 4.0, 4.0, 2.0, 1.0, 0.0"
#: the SQLite columns of what the shop shows (empty for a product it does not show)
_SQLITE_SHOP = "{name category maker place description}"

#: the tables the migration makes that no model describes (FTS5 adds its shadow tables on SQLite)
SEARCH_TABLES = frozenset({"product_search"} | {f"product_search_{shadow}" for shadow in (
    "data", "idx", "content", "docsize", "config")})

_index = sa.table("product_search", sa.column("rowid"), sa.column("product_id"), sa.column("document"),
                  sa.column("words"), sa.column("in_shop"))


def not_a_search_table(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name`: leave the search index out of the model comparison."""
    return not (type_ == "table" and name in SEARCH_TABLES)


def search_terms(q: str) -> list[str]:
    """The distinct words of a query, lower case, in their order."""
    return list(dict.fromkeys(word[:40] for word in WORD.findall(q.lower())))[:MAX_TERMS]


def dialect() -> str:
    """The database's dialect name (the index differs: "sqlite" FTS5, "postgresql" tsvector)."""
    return db.session.get_bind().dialect.name


def fuzzy_search_available() -> bool:
    return dialect() == "postgresql"


def matching_products(n_terms: int, *, dialect: str, fuzzy: bool = False, staff: bool = False) -> sa.CTE:
    """(product_id, rank) of the products the shop shows (published, active, at an active Sentra)
    that have all of `n_terms` words in what the index holds of them; lower rank = better. With
    `staff`, instead, of every product whose name has those words (staff lists: every product has
    the staff member's Sentra in its document).

    The words are bound parameters, their values from `match_parameters`, so that one statement
    serves every query with as many words. With `fuzzy` (PostgreSQL only; call
    `prepare_fuzzy_search` first in the same transaction) the words may be misspelt.
    """
    if dialect == "postgresql":
        if fuzzy:
            folded = [sa.func.search_fold(sa.bindparam(f"search_word_{n}", type_=sa.String)) for n in range(n_terms)]
            stmt = (sa.select(_index.c.product_id.label("product_id"),
                              (-sum((sa.func.word_similarity(f, _index.c.words) for f in folded),
                                    sa.literal(0.0))).label("rank"))
                    .where(*(f.op("<%")(_index.c.words) for f in folded)))
        else:
            query = sa.func.to_tsquery(sa.literal_column("'search_simple'::regconfig"),
                                       sa.bindparam("search_words", type_=sa.String))
            stmt = (sa.select(_index.c.product_id.label("product_id"),
                              (-sa.func.ts_rank(_index.c.document, query)).label("rank"))
                    .where(_index.c.document.op("@@")(query)))
        return (stmt if staff else stmt.where(_index.c.in_shop.is_(True))).cte("search_match")
    if fuzzy:
        raise NotImplementedError("SQLite has no trigram index")
    # What the shop does not show has empty text columns (the migration): matching them is enough.
    return (sa.select(_index.c.rowid.label("product_id"),
                      sa.literal_column(f"bm25(product_search, {_SQLITE_WEIGHTS})").label("rank"))
            .where(sa.literal_column("product_search").op("MATCH")(sa.bindparam("search_words", type_=sa.String)))
            .cte("search_match"))


def match_parameters(terms: list[str], *, dialect: str, fuzzy: bool = False, staff: bool = False) -> dict[str, str]:
    """The values of `matching_products`' parameters for these words (`search_terms`)."""
    if fuzzy:
        return {f"search_word_{n}": term for n, term in enumerate(terms)}
    if dialect == "postgresql":
        weight = "A" if staff else ""  # the name has weight A (the migration's setweight)
        return {"search_words": " & ".join(f"{term}:*{weight}" for term in terms)}
    words = " ".join(f'"{term}"*' for term in terms)  # quoted: a word is never FTS5 syntax
    return {"search_words": f"{'staff_name' if staff else _SQLITE_SHOP} : ({words})"}


def prepare_fuzzy_search() -> None:
    """Set the trigram threshold for the rest of this transaction (PostgreSQL)."""
    db.session.execute(sa.select(sa.func.set_config("pg_trgm.word_similarity_threshold",
                                                    str(FUZZY_THRESHOLD), True)))


def staff_matching_product_ids(q: str) -> sa.Select:
    """The ids of the products (any state) whose name has all the words of `q`, in any order, each
    as the start of a word (none when `q` has no words)."""
    terms = search_terms(q)
    if not terms:
        return sa.select(sa.literal(None).cast(sa.Integer)).where(sa.false())
    name = dialect()
    match = matching_products(len(terms), dialect=name, staff=True)
    return sa.select(match.c.product_id).params(match_parameters(terms, dialect=name, staff=True))
