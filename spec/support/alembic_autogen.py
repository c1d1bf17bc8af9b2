"""Run Alembic's autogenerate comparison (Debian's python3-alembic) on schema
pairs, for spec/inproc/autogen_alembic_spec.lua, which runs the same pairs
through luamig.

Usage: /usr/bin/python3 alembic_autogen.py CASES.json RESULTS.tsv

CASES.json: [{"db": "/path/a.db", "model": B}], where the SQLite file holds
schema A (built by luamig) and B is spec/support/schema_gen.lua's model of
the declared schema, rendered here as SQLAlchemy tables. RESULTS.tsv: one
line per change Alembic's compare_metadata finds (compare_type and
compare_server_default on): case number (from 1), kind, table, name.
"""
import json
import sys
import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def sa_type(t, enums):
    if t in enums:
        return sa.Enum(*enums[t], name=t)
    simple = {
        "integer": sa.Integer(), "bigint": sa.BigInteger(), "smallint": sa.SmallInteger(),
        "numeric(10,2)": sa.Numeric(10, 2), "float": sa.Float(), "text": sa.Text(),
        "date": sa.Date(), "timestamp": sa.DateTime(), "timestamptz": sa.DateTime(timezone=True),
        "boolean": sa.Boolean(), "json": sa.JSON(), "uuid": sa.CHAR(36), "bytes": sa.LargeBinary(),
    }
    if t in simple:
        return simple[t]
    if t.startswith("string("):
        return sa.String(int(t[7:-1]))
    raise ValueError(t)


def default_sql(v):
    if isinstance(v, bool):
        return sa.text("1" if v else "0")
    if isinstance(v, (int, float)):
        return sa.text(str(v))
    return sa.text("'%s'" % v)


def metadata_of(model):
    md = sa.MetaData()
    enums = {e["name"]: e["values"] for e in list(model.get("enums") or [])}
    for t in list(model.get("tables") or []):
        cols = [sa.Column("id", sa.Integer, primary_key=True)]
        for c in list(t.get("columns") or []):
            pk = t.get("pk_extra") == c["name"]  # (a primary key of id and this column)
            cols.append(sa.Column(c["name"], sa_type(c["type"], enums), primary_key=pk,
                                  nullable=c.get("nullable", True) and not pk,
                                  server_default=default_sql(c["default"]) if "default" in c else None))
        extra = []
        for u in list(t.get("uniques") or []):
            extra.append(sa.UniqueConstraint(*u["columns"], name=u["name"]))
        for k in list(t.get("checks") or []):
            extra.append(sa.CheckConstraint(k["condition"], name=k["name"]))
        for f in list(t.get("fks") or []):
            extra.append(sa.ForeignKeyConstraint([f["column"]], [f["parent"] + ".id"], name=f["name"],
                                                 ondelete=f.get("on_delete")))
        table = sa.Table(t["name"], md, *cols, *extra)
        for ix in list(t.get("indexes") or []):
            kw = {"sqlite_where": sa.text(ix["where"])} if ix.get("where") else {}
            sa.Index(ix["name"], *[table.c[n] for n in ix["columns"]], unique=ix.get("unique", False), **kw)
    return md


def include_name(name, type_, parent_names):
    """luamig's own bookkeeping is not part of the schema."""
    return not (type_ == "table" and name.startswith("luamig_"))


def flatten(diff, out):
    if isinstance(diff, list):  # column modifications come grouped
        for d in diff:
            flatten(d, out)
        return
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        out.append([kind, diff[1].name, diff[1].name])
    elif kind in ("add_column", "remove_column"):
        out.append([kind, diff[2], diff[3].name])
    elif kind in ("modify_type", "modify_nullable", "modify_default"):
        out.append([kind, diff[2], diff[3]])
    elif kind in ("add_index", "remove_index"):
        out.append([kind, diff[1].table.name, diff[1].name])
    elif kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        out.append([kind, diff[1].table.name, diff[1].name])
    else:
        out.append([kind, "", str(diff[1:])])


def main():
    cases = json.load(open(sys.argv[1]))
    lines = []
    warnings.simplefilter("ignore")
    for i, case in enumerate(cases, 1):
        engine = sa.create_engine("sqlite:///" + case["db"])
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                         "include_name": include_name})
            out = []
            for d in compare_metadata(ctx, metadata_of(case["model"])):
                flatten(d, out)
        engine.dispose()
        lines += ["%d\t%s\t%s\t%s\n" % (i, k, t, n) for k, t, n in out]
    with open(sys.argv[2], "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
