"""Compares PostgreSQL's answer to a statement with what Sluice serves for it: output column
names, then the rows as multisets of comparable values (values.py)."""

import collections

import values


class Result:
    """PostgreSQL's answer: column names, type OIDs, rows of text."""

    def __init__(self, names, oids, rows):
        self.names = names
        self.oids = oids
        self.rows = rows


class Served:
    """Sluice's answer: the endpoint's fields [(name, type)] and its records (dicts)."""

    def __init__(self, fields, records):
        self.fields = fields
        self.records = records


def _show(row):
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in row) + ")"


def difference(expected, served, limit=8):
    """None when equal, else (description, symptom) of the difference (expected = PostgreSQL).
    The symptom (columns, missing, unexpected, both) keeps a shrinker from sliding from one
    bug into another."""
    sluice_names = [n for n, _ in served.fields]
    if sluice_names != expected.names:
        return "output columns differ:\n  postgres: %s\n  sluice:   %s" % (
            expected.names, ["%s %s" % f for f in served.fields]), "columns"
    kinds = [values.column_kind(oid, t) for oid, (_, t) in zip(expected.oids, served.fields)]
    want = collections.Counter(
        tuple(values.from_postgres(k, v) for k, v in zip(kinds, row)) for row in expected.rows)
    got = collections.Counter(
        tuple(values.from_sluice(k, r.get(n)) for k, n in zip(kinds, sluice_names))
        for r in served.records)
    if want == got:
        return None
    missing = sorted((want - got).elements(), key=repr)
    extra = sorted((got - want).elements(), key=repr)
    lines = ["%d rows in postgres, %d in sluice; %d missing from sluice, %d unexpected:"
             % (sum(want.values()), sum(got.values()), len(missing), len(extra)),
             "  columns: %s" % ", ".join("%s (%s/%s)" % (n, values.PG_TYPE_NAMES.get(o, o), t)
                                         for n, o, (_, t) in zip(expected.names, expected.oids,
                                                                 served.fields))]
    lines += ["  missing    %s" % _show(r) for r in missing[:limit]]
    if len(missing) > limit:
        lines.append("  ... %d more missing" % (len(missing) - limit))
    lines += ["  unexpected %s" % _show(r) for r in extra[:limit]]
    if len(extra) > limit:
        lines.append("  ... %d more unexpected" % (len(extra) - limit))
    symptom = "both" if missing and extra else "missing" if missing else "unexpected"
    return "\n".join(lines), symptom


def type_notes(expected, served):
    """[(note, column)] for columns whose PostgreSQL type and Sluice field type are of
    different kinds (reported, not failed: equal values of different types compare equal)."""
    notes = []
    for name, oid, (_, t) in zip(expected.names, expected.oids, served.fields):
        pg = values.pg_kind(oid)
        sl = values.SLUICE_KINDS.get(t, t)
        if pg != sl:
            notes.append(("%s -> %s" % (values.PG_TYPE_NAMES.get(oid, oid), t), name))
    return notes
