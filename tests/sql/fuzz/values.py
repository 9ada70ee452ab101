"""One comparable form per value, from PostgreSQL's text (by type OID) and from Sluice's JSON
(by field type, docs/rest.md "Values"): exact numbers by value, floats to 10 significant
digits, timestamps and intervals as microseconds, dates as text, JSON as a canonical tree.

A column's form follows PostgreSQL's type, except that a float on either side compares as a
float (Sluice's and PostgreSQL's choice between numeric and float may differ where the value
is the same). A value that cannot be read in the expected form becomes ("bad", ...), which
never equals a good one."""

import calendar
import decimal
import json
import re

BOOL_OIDS = {16}
INT_OIDS = {20, 21, 23, 26}
NUMERIC_OIDS = {1700}
FLOAT_OIDS = {700, 701}
TIMESTAMP_OIDS = {1114, 1184}
DATE_OIDS = {1082}
INTERVAL_OIDS = {1186}
JSON_OIDS = {114, 3802}

PG_TYPE_NAMES = {16: "bool", 20: "int8", 21: "int2", 23: "int4", 26: "oid", 1700: "numeric",
                 700: "float4", 701: "float8", 25: "text", 1043: "varchar", 1042: "bpchar",
                 19: "name", 1114: "timestamp", 1184: "timestamptz", 1082: "date",
                 1186: "interval", 114: "json", 3802: "jsonb"}


def pg_kind(oid):
    if oid in BOOL_OIDS:
        return "bool"
    if oid in INT_OIDS or oid in NUMERIC_OIDS:
        return "exact"
    if oid in FLOAT_OIDS:
        return "float"
    if oid in TIMESTAMP_OIDS:
        return "timestamp"
    if oid in DATE_OIDS:
        return "date"
    if oid in INTERVAL_OIDS:
        return "interval"
    if oid in JSON_OIDS:
        return "json"
    return "text"


SLUICE_KINDS = {"boolean": "bool", "int": "exact", "uint": "exact", "decimal": "exact",
                "float": "float", "string": "text", "text": "text", "timestamp": "timestamp",
                "date": "date", "duration": "interval", "json": "json"}


def column_kind(oid, sluice_type):
    kind = pg_kind(oid)
    if kind == "exact" and SLUICE_KINDS.get(sluice_type) == "float":
        return "float"
    return kind


# -- parsing ---------------------------------------------------------------------------------

PG_TS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
                   r"(?:([+-])(\d\d)(?::?(\d\d))?(?::(\d\d))?|Z)?$")
ISO_DURATION = re.compile(r"^(-)?P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?"
                          r"(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$")
DAY = 86400 * 1000000


def timestamp_micros(text):
    m = PG_TS.match(text)
    if not m:
        raise ValueError("timestamp " + text)
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = int((m.group(7) or "0").ljust(6, "0"))
    micros = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000000 + frac
    if m.group(8):  # an offset: local = UTC + offset
        offset = int(m.group(9)) * 3600 + int(m.group(10) or 0) * 60 + int(m.group(11) or 0)
        micros -= (1 if m.group(8) == "+" else -1) * offset * 1000000
    return micros


def duration_micros(text):
    """ISO 8601 durations as PostgreSQL (intervalstyle iso_8601, per-part signs) and Sluice
    (a leading sign) write them; a month counts 30 days and a year 365.25, as Sluice maps
    PostgreSQL intervals."""
    m = ISO_DURATION.match(text)
    if not m or text in ("P", "-P", "PT", "-PT"):
        raise ValueError("duration " + text)
    sign, years, months, weeks, days, hours, minutes, seconds = m.groups()
    total = decimal.Decimal(0)
    total += decimal.Decimal(years or 0) * decimal.Decimal("365.25") * DAY
    total += int(months or 0) * 30 * DAY + int(weeks or 0) * 7 * DAY + int(days or 0) * DAY
    total += int(hours or 0) * 3600 * 1000000 + int(minutes or 0) * 60 * 1000000
    total += decimal.Decimal(seconds or 0) * 1000000
    return int(-total if sign else total)


def exact(value):
    if isinstance(value, bool):
        raise ValueError("bool for a number")
    d = decimal.Decimal(str(value)) if not isinstance(value, decimal.Decimal) else value
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def float10(value):
    if isinstance(value, bool):
        raise ValueError("bool for a float")
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return value
    f = float(value)
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    return "%.10g" % (f + 0.0)


def json_tree(value):
    """A canonical, hashable form of a parsed JSON value (numbers by value)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return ("num", exact(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, list):
        return ("list", tuple(json_tree(v) for v in value))
    if isinstance(value, dict):
        return ("obj", tuple(sorted((k, json_tree(v)) for k, v in value.items())))
    raise ValueError("json " + repr(value))


# -- the two sides ---------------------------------------------------------------------------

def from_postgres(kind, text):
    if text is None:
        return None
    try:
        if kind == "bool":
            return {"t": True, "f": False}[text]
        if kind == "exact":
            return exact(decimal.Decimal(text))
        if kind == "float":
            return float10(text)
        if kind == "timestamp":
            return timestamp_micros(text)
        if kind == "interval":
            return duration_micros(text)
        if kind == "json":
            value = json.loads(text, parse_float=decimal.Decimal)
            # REST writes a JSON null and SQL NULL alike (`null`), so they compare equal here.
            return None if value is None else json_tree(value)
        return text
    except (ValueError, KeyError, decimal.InvalidOperation) as e:
        return ("bad", "postgres", repr(text), str(e))


def from_sluice(kind, value):
    if value is None:
        return None
    try:
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("not a boolean")
            return value
        if kind == "exact":
            return exact(value)
        if kind == "float":
            return float10(value)
        if kind == "timestamp":
            return timestamp_micros(value)
        if kind == "interval":
            return duration_micros(value)
        if kind == "json":
            return json_tree(value)
        if kind == "date" or kind == "text":
            if not isinstance(value, str):
                raise ValueError("not a string")
            return value
        return value if isinstance(value, str) else json.dumps(value, default=str)
    except (ValueError, TypeError, decimal.InvalidOperation) as e:
        return ("bad", "sluice", repr(value), str(e))
