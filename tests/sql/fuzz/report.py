"""Writes a reproduction: a Markdown file with the config, the statements (Sluice's SQL and
the PostgreSQL SELECT compared with), the tables, the initial rows, the changes round by round
and expected vs got, plus the case as JSON for `fuzz_sql.py --replay`."""

import os
import re

from schema import MARKER_TABLE, schema_ddl
from sluice_process import config_text

URL_PLACEHOLDER = "postgres://sluice:secret@127.0.0.1:5432/shop"


def slug(text, limit=40):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-") or "case"


def round_name(r):
    return "after the initial snapshot" if r == 0 else "after round %d of changes" % r


def log_excerpt(log, lines=25):
    keep = [l for l in log.splitlines() if any(w in l for w in (" error ", " warn ", "terminate",
                                                                   "failed", "---- start"))]
    return "\n".join((keep or log.splitlines())[-lines:])


def markdown(title, case, failure, outcome, context):
    st = case.by_name().get(failure.statement)
    endpoints = [MARKER_TABLE] + [s.name for s in case.statements]
    out = ["# %s" % title, "",
           "Found by `tests/sql/fuzz/fuzz_sql.py` (%s)." % context, "",
           "**Failure:** %s%s, %s." % (failure.kind, " of `%s`" % failure.statement
                                       if failure.statement else "",
                                       round_name(failure.round) if failure.round is not None
                                       else "at the end"), ""]
    out += ["## Statements", "", "Sluice (`sql:` in the config):", "", "```sql"]
    out += ["%s;" % s.sluice_sql() for s in case.statements]
    out += ["```", "", "PostgreSQL (compared as a multiset with each endpoint):", "", "```sql"]
    out += ["-- %s\n%s;" % (s.name, case.postgres_sql(s)) for s in case.statements]
    out += ["```", "", "## Config", "", "```yaml",
            config_text(URL_PLACEHOLDER, [s.sluice_sql() for s in case.statements], endpoints
                        + ([t for t in ("t1", "t2", "t3")] if case.serve_raw else [])).rstrip(),
            "```", "", "## Tables and initial rows", "", "```sql", schema_ddl()]
    out += ["%s;" % sql for sql in case.insert_statements()]
    out += ["INSERT INTO %s VALUES (1, 0);" % MARKER_TABLE, "```", "",
            "## Changes (each line a transaction; the marker update ends each round)", ""]
    if not case.rounds:
        out += ["None: the initial snapshot alone shows it.", ""]
    for r, rnd in enumerate(case.rounds, 1):
        out += ["Round %d:" % r, "", "```sql"]
        out += ["BEGIN; %s; COMMIT;" % "; ".join(tx) for tx in rnd]
        out += ["```", ""]
        if case.restart_after == r:
            out += ["Then Sluice is stopped with %s and started again."
                    % ("SIGKILL" if case.restart_kill else "SIGTERM"), ""]
    out += ["## Expected (PostgreSQL) vs got (Sluice)", "", "```", failure.detail.rstrip(), "```",
            ""]
    if st is None or failure.kind != "mismatch":
        out += ["## Sluice log (errors and warnings)", "", "```", log_excerpt(outcome.log), "```",
                ""]
    return "\n".join(out)


def write(directory, number, title, case, failure, outcome, context):
    """Writes NN-slug.md and NN-slug.json under `directory`; returns the .md path."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, "%02d-%s" % (number, slug(title)))
    with open(base + ".json", "w") as f:
        f.write(case.to_json(title=title, failure={"kind": failure.kind,
                                                   "statement": failure.statement}))
    text = markdown(title, case, failure, outcome, context)
    path = os.path.relpath(base + ".json")
    if path.startswith(".."):
        path = os.path.abspath(path)
    text += "\n## Replay\n\n```sh\npython3 tests/sql/fuzz/fuzz_sql.py --sluice build/sluice " \
            "--replay %s\n```\n" % path
    with open(base + ".md", "w") as f:
        f.write(text)
    return base + ".md"
