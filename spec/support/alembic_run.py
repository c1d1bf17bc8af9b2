"""Run revision-graph cases through Alembic (Debian's python3-alembic), for
spec/alembic_diff_spec.lua, which runs the same cases through luamig.

Usage: /usr/bin/python3 alembic_run.py CASES.json RESULTS.json WORKDIR

CASES.json: [{"name", "revisions": [{"id", "down": [...], "depends_on": [...],
"labels": [...]}], "commands": [["upgrade"|"downgrade"|"stamp", target] |
["history", "A:B"] | ["heads"]]}].

For each command the result holds "ok" (false when Alembic raised), the
migrations it ran ("trace": ["up <id>", ...], read from a trace table the
migrations write), the stored heads afterwards (sorted), "revisions" for
history, and "warned" when Alembic only warned about an ambiguous request.

Alembic orders revisions it cannot otherwise tell apart by the order in
which it reads the migration files, which is the directory listing's
order; luamig reads them in file-name order. The files are named so that
both orders agree, and the listing is sorted here so that Alembic's order
does not depend on the file system.
"""
import json
import os
import sqlite3
import sys
import warnings

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

_list = Script._list_py_dir.__func__
Script._list_py_dir = classmethod(lambda cls, sd, path: sorted(_list(cls, sd, path)))

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

MIGRATION = """
revision = {id!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}

from alembic import op


def upgrade():
    op.execute("INSERT INTO trace (step) VALUES ('up {id}')")


def downgrade():
    op.execute("INSERT INTO trace (step) VALUES ('down {id}')")
"""


def scalar_or_tuple(items):
    if not items:
        return None
    return items[0] if len(items) == 1 else tuple(items)


def write_project(case, work):
    versions = os.path.join(work, "versions")
    os.makedirs(versions)
    with open(os.path.join(work, "env.py"), "w") as f:
        f.write(ENV_PY)
    for i, r in enumerate(case["revisions"]):
        with open(os.path.join(versions, "%04d_%s.py" % (i + 1, r["id"])), "w") as f:
            f.write(MIGRATION.format(id=r["id"], down=scalar_or_tuple(r["down"]),
                                     labels=tuple(r["labels"]) or None,
                                     deps=scalar_or_tuple(r["depends_on"])))
    db = os.path.join(work, "alembic.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE trace (n INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT)")
    con.commit()
    con.close()
    cfg = Config()
    cfg.set_main_option("script_location", work)
    cfg.set_main_option("sqlalchemy.url", "sqlite:///" + db)
    cfg.print_stdout = lambda *a, **k: None
    return cfg, db


def read_state(db):
    con = sqlite3.connect(db)
    trace = [r[0] for r in con.execute("SELECT step FROM trace ORDER BY n")]
    con.execute("DELETE FROM trace")
    try:
        heads = sorted(r[0] for r in con.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:
        heads = []
    con.commit()
    con.close()
    return trace, heads


def run_command(cfg, db, cmd, ids):
    out = {"ok": True}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if cmd[0] == "upgrade":
                command.upgrade(cfg, cmd[1])
            elif cmd[0] == "downgrade":
                command.downgrade(cfg, cmd[1])
            elif cmd[0] == "stamp":
                command.stamp(cfg, cmd[1])
            elif cmd[0] == "heads":
                out["heads_of_files"] = sorted(ScriptDirectory.from_config(cfg).get_heads())
            elif cmd[0] == "history":
                base, head = cmd[1].split(":")
                script = ScriptDirectory.from_config(cfg)
                out["revisions"] = [s.revision for s in script.walk_revisions(base or "base", head or "heads")]
            else:
                raise ValueError("unknown command %r" % (cmd,))
        except KeyError as e:
            # Alembic's HeadMaintainer deleting a version row that is not
            # there (a merge revision that also depends_on a revision both
            # parents already include) is a crash, not a refusal; a missing
            # revision in the graph is a refusal.
            out["ok"] = False
            out["crashed"] = e.args[0] in ids
            out["error"] = "%s: %s" % (type(e).__name__, e)
        except Exception as e:  # every other failure counts, as for a user
            out["ok"] = False
            out["error"] = "%s: %s" % (type(e).__name__, e)
    out["warned"] = any("ambiguous" in str(w.message) for w in caught)
    out["trace"], out["heads"] = read_state(db)
    return out


def main():
    cases_path, results_path, work_root = sys.argv[1:4]
    with open(cases_path) as f:
        cases = json.load(f)
    results = []
    for n, case in enumerate(cases):
        work = os.path.join(work_root, "alembic_%d" % n)
        try:
            cfg, db = write_project(case, work)
            ids = {r["id"] for r in case["revisions"]}
            results.append({"name": case["name"], "commands": [run_command(cfg, db, c, ids) for c in case["commands"]]})
        except Exception as e:  # the graph itself is refused (cycle, missing parent...)
            results.append({"name": case["name"], "load_error": "%s: %s" % (type(e).__name__, e)})
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
