"""Random typed expressions over a scope: every operator and function docs/sql.md lists, per
result category, plus aggregates (with DISTINCT and FILTER) in grouped contexts.

The generator aims at statements PostgreSQL accepts and can run on any data the pools make:
divisors and function arguments are chosen so no row raises an error (no division by a
column, sqrt of abs, ln of abs + 1, exp of a small number, split_part positions never 0), and
integer products stay far from overflow. A few `probe:` productions use constructs Sluice does
not support yet, so the refusal counts show the roadmap."""

from schema import BOOL, DATE, FLOAT, INT, INTERVAL, JSON, NUM, NUMERIC_TYPES, TEXT, TS
from tree import Node, fmt, text


class Ref:
    """A name an expression can use: a column in scope, or (in a grouped context) a grouped
    expression, rendered exactly as it appears in GROUP BY."""

    def __init__(self, sql, category, tags=()):
        self.sql = sql
        self.category = category
        self.tags = tuple(tags)

    def node(self):
        return text(self.sql, self.category, ("ref",) + self.tags)


class Scope:
    def __init__(self, refs):
        self.refs = list(refs)

    def of(self, category):
        return [r for r in self.refs if r.category == category]

    def categories(self):
        return sorted({r.category for r in self.refs})


LITERALS = {
    INT: ["0", "1", "2", "3", "5", "-1", "10", "100"],
    NUM: ["1.5", "-0.25", "2.00", "0.1", "100.125", "3.0"],
    FLOAT: ["1.5::float8", "CAST(-0.5 AS double precision)", "2.0::double precision",
            "0.25::float8"],
    TEXT: ["'a'", "'b'", "'ab'", "''", "'x'", "'A'", "'abc'"],
    BOOL: ["true", "false"],
    TS: ["TIMESTAMP '2026-01-01 12:00:00'", "'2026-01-02 00:00:00'::timestamp",
         "TIMESTAMP '2026-01-01 00:59:30.5'"],
    DATE: ["DATE '2026-01-02'", "'2025-12-31'::date"],
    JSON: ["'{\"a\": 1}'::jsonb", "'[1, 2]'::jsonb"],
    INTERVAL: ["INTERVAL '1 hour'", "INTERVAL '10 seconds'", "INTERVAL '1 day 02:00:00'",
               "INTERVAL '90 minutes'", "INTERVAL '0.5 seconds'"],
}
# Untyped quoted literals that take the type of what they are compared with.
QUOTED = {
    TS: ["'2026-01-01 06:00:00'", "'2026-01-02'", "'2026-01-01 23:59:59.999'"],
    DATE: ["'2026-01-01'", "'2026-01-05'"],
}
NULL_OF = {INT: "CAST(NULL AS bigint)", NUM: "CAST(NULL AS numeric)", FLOAT: "NULL::float8",
           TEXT: "CAST(NULL AS text)", BOOL: "NULL::boolean", TS: "NULL::timestamp",
           DATE: "NULL::date", JSON: "NULL::jsonb", INTERVAL: "NULL::interval"}
NONZERO = ["2", "3", "5", "7", "-3"]
SMALL = ["2", "3", "-1", "10"]
PATTERNS = ["'a%'", "'%b'", "'_a%'", "'%'", "'A%'", "'%a%'", "'a_'", "''"]
DATE_UNITS = ["minute", "hour", "day", "week", "month", "year"]
EXTRACT_FIELDS = ["year", "month", "day", "hour", "minute", "second", "epoch", "dow", "doy",
                  "week", "quarter", "isodow"]
JSON_KEYS = ["'a'", "'b'", "'c'", "'nested'", "'zz'"]


def literal(rng, category):
    return text(rng.choice(LITERALS[category]), category, ("lit:" + category,))


def simplest_literal(category):
    return text(LITERALS[category][0], category, ("lit:" + category,))


def null_of(category):
    return text(NULL_OF[category], category, ("null",))


class ExprGen:
    """Expressions over `scope`. With `rows` set, the context is grouped: `scope` holds the
    grouped expressions and aggregates over `rows` may appear."""

    def __init__(self, rng, scope, rows=None, probes=0.02):
        self.rng = rng
        self.scope = scope
        self.rows = rows
        self.probes = probes

    # -- entry points --------------------------------------------------------------------------

    def expr(self, category, depth=2):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.3:
            return self.leaf(category)
        if rng.random() < self.probes:
            node = self.probe(category, depth)
            if node is not None:
                return node
        makers = self.productions(category)
        names, weights = zip(*makers)
        maker = rng.choices(names, weights)[0]
        node = maker(depth - 1)
        return node if node is not None else self.leaf(category)

    def expr_with_ref(self, category, depth=1, tries=4):
        """An expression naming a column, when a few tries find one (constants test little)."""
        for _ in range(tries):
            node = self.expr(category, depth)
            if "ref" in node.all_tags():
                break
        return node

    def leaf(self, category):
        rng = self.rng
        refs = self.scope.of(category)
        options = []
        if refs:
            options.append(("ref", 8))
        if self.rows is not None and self.can_aggregate(category):
            options.append(("agg", 6 if refs else 10))
        options += [("lit", 2), ("null", 0.3)]
        names, weights = zip(*options)
        choice = rng.choices(names, weights)[0]
        if choice == "ref":
            return rng.choice(refs).node()
        if choice == "agg":
            return self.aggregate(category)
        if choice == "null":
            return null_of(category)
        return literal(rng, category)

    def condition(self, depth=2):
        return self.expr(BOOL, depth)

    # -- aggregates ----------------------------------------------------------------------------

    def can_aggregate(self, category):
        return category in (INT, NUM, FLOAT, TEXT, BOOL, TS, DATE)

    def aggregate(self, category):
        """An aggregate over the row scope giving `category`."""
        rng = self.rng
        arg_gen = ExprGen(rng, self.rows, None, self.probes)
        row_cats = set(self.rows.categories())
        options = []
        if category == INT:
            options += [("count_star", 5), ("count", 3), ("count_distinct", 2)]
            if INT in row_cats:
                options += [("minmax", 2)]
        elif category == NUM:
            options += [("sum_int", 3), ("avg_int", 3), ("sum_num", 3), ("avg_num", 2),
                        ("minmax", 2)]
        elif category == FLOAT:
            options += [("sum_float", 3), ("avg_float", 3), ("minmax", 2)]
        elif category == TEXT:
            options += [("minmax", 4), ("string_agg", 3)]
        elif category == BOOL:
            options += [("bool_agg", 1)]
        elif category in (TS, DATE):
            options += [("minmax", 1)]
        names, weights = zip(*options)
        kind = rng.choices(names, weights)[0]
        distinct = ""
        if kind == "count_star":
            call, tags = "count(*", ["agg:count(*)"]
        elif kind in ("count", "count_distinct"):
            cat = rng.choice(self.rows.categories())
            arg = arg_gen.expr_with_ref(cat, 1)
            distinct = "DISTINCT " if kind == "count_distinct" else ""
            return self._with_filter(fmt("count(%s$0" % distinct, arg, type=INT,
                                         tags=["agg:" + kind]), arg_gen)
        elif kind in ("sum_int", "avg_int", "sum_num", "avg_num", "sum_float", "avg_float"):
            fn, cat = kind.split("_")
            cat = {"int": INT, "num": NUM, "float": FLOAT}[cat]
            arg = arg_gen.expr_with_ref(cat, 1)
            if rng.random() < self.probes * 3:
                distinct = "DISTINCT "  # probe: sum/avg(DISTINCT) are not in docs/sql.md
            tags = ["agg:%s(%s)" % (fn, cat)] + (["probe:%s-distinct" % fn] if distinct else [])
            return self._with_filter(fmt("%s(%s$0" % (fn, distinct), arg, type=category, tags=tags),
                                     arg_gen)
        elif kind == "minmax":
            fn = rng.choice(["min", "max"])
            arg = arg_gen.expr_with_ref(category, 1)
            return self._with_filter(fmt("%s($0" % fn, arg, type=category,
                                         tags=["agg:%s(%s)" % (fn, category)]), arg_gen)
        elif kind == "string_agg":
            arg = arg_gen.expr_with_ref(TEXT, 1)
            sep = rng.choice(["','", "' | '", "''"])
            # Always ordered by the value: PostgreSQL's order of an unordered string_agg is
            # arbitrary (Sluice sorts by value, docs/sql.md), so it would not compare.
            order = rng.choice([" ORDER BY $0", " ORDER BY $0 DESC"])
            return self._with_filter(fmt("string_agg($0, %s%s" % (sep, order), arg, type=TEXT,
                                         tags=["agg:string_agg"]), arg_gen)
        elif kind == "bool_agg":
            fn = rng.choice(["bool_and", "bool_or"])
            arg = arg_gen.expr_with_ref(BOOL, 1)
            return self._with_filter(fmt("%s($0" % fn, arg, type=BOOL, tags=["agg:" + fn]), arg_gen)
        return self._with_filter(text(call, category, tags), arg_gen)

    def _with_filter(self, open_call, arg_gen):
        """Closes an aggregate call, sometimes with FILTER (WHERE ...)."""
        if self.rng.random() < 0.2:
            node = fmt("$0) FILTER (WHERE $1)", open_call, arg_gen.condition(1),
                       type=open_call.type, tags=["agg:filter", "agg:call"])
        else:
            node = fmt("$0)", open_call, type=open_call.type, tags=["agg:call"])
        return node  # generator.derived_tags tells whether it names a GROUP BY column

    # -- productions per category --------------------------------------------------------------

    def productions(self, c):
        common = [(self.p_case(c), 2), (self.p_coalesce(c), 1.5), (self.p_nullif(c), 0.7),
                  (self.p_greatest(c), 0.7)]
        if c == INT:
            return common + [(self.p_arith(INT), 6), (self.p_mul(INT), 2), (self.p_div(INT), 2),
                             (self.p_mod, 1.5), (self.p_neg(INT), 1), (self.p_fn1("abs", INT), 1),
                             (self.p_length, 2), (self.p_strpos, 1), (self.p_int_casts, 1.5),
                             (self.p_date_diff, 0.7)]
        if c == NUM:
            return common + [(self.p_arith(NUM), 5), (self.p_mul(NUM), 2), (self.p_div(NUM), 2),
                             (self.p_round_num, 3), (self.p_fn1_of(["floor", "ceil", "abs", "sign",
                                                                    "trunc"], NUM, NUM), 2),
                             (self.p_num_casts, 2), (self.p_extract, 2), (self.p_json_num, 1)]
        if c == FLOAT:
            return common + [(self.p_arith(FLOAT), 4), (self.p_mul(FLOAT), 2),
                             (self.p_div(FLOAT), 1), (self.p_float_math, 4),
                             (self.p_fn1_of(["round", "floor", "ceil", "abs", "sign", "trunc"],
                                            FLOAT, FLOAT), 2),
                             (self.p_float_casts, 2), (self.p_date_part, 1)]
        if c == TEXT:
            return common + [(self.p_case_fn, 3), (self.p_substr, 2), (self.p_left_right, 1.5),
                             (self.p_replace, 1), (self.p_trim, 1.5), (self.p_concat, 2),
                             (self.p_pipes, 2), (self.p_pad, 1.5), (self.p_split_part, 1),
                             (self.p_text_casts, 2), (self.p_json_text, 2)]
        if c == BOOL:
            return [(self.p_compare, 8), (self.p_and_or, 4), (self.p_not, 1.5), (self.p_is_null, 2),
                    (self.p_distinct_from, 1.5), (self.p_between, 1.5), (self.p_in_list, 2),
                    (self.p_like, 2), (self.p_starts_with, 0.7), (self.p_is_truth, 1),
                    (self.p_case(c), 0.5), (self.p_coalesce(c), 0.5)]
        if c == TS:
            return common + [(self.p_ts_interval, 4), (self.p_date_trunc, 3),
                             (self.p_to_timestamp, 1), (self.p_date_to_ts, 0.5)]
        if c == DATE:
            return common + [(self.p_date_plus, 3), (self.p_make_date, 1), (self.p_ts_to_date, 1)]
        if c == JSON:
            return [(self.p_json_arrow, 5), (self.p_json_path, 1.5), (self.p_coalesce(c), 0.5)]
        if c == INTERVAL:
            return [(self.p_ts_minus_ts, 4), (self.p_since_midnight, 1),
                    (self.p_interval_arith, 1)]
        raise ValueError(c)

    def any_numeric(self):
        cats = [c for c in NUMERIC_TYPES if self.scope.of(c) or self.rows is not None]
        return self.rng.choice(cats or [INT])

    def p_arith(self, c):
        def make(d):
            op = self.rng.choice(["+", "-"])
            other = c if self.rng.random() < 0.6 else INT
            left, right = self.expr(c, d), self.expr(other, d)
            if self.rng.random() < 0.5:
                left, right = right, left
            return fmt("($0 %s $1)" % op, left, right, type=c, tags=["op:" + op])
        return make

    def p_mul(self, c):
        def make(d):
            return fmt("($0 * %s)" % self.rng.choice(SMALL), self.expr(c, d), type=c, tags=["op:*"])
        return make

    def p_div(self, c):
        def make(d):
            divisor = self.rng.choice(NONZERO)
            if c == NUM and self.rng.random() < 0.5:
                divisor = self.rng.choice(["1.5", "0.3", "4.00"])
            if self.rng.random() < 0.2:  # a divisor that may be NULL, never zero
                return fmt("($0 / NULLIF($1, 0))", self.expr(c, d), self.expr(INT, 0), type=c,
                           tags=["op:/", "fn:nullif"])
            return fmt("($0 / %s)" % divisor, self.expr(c, d), type=c, tags=["op:/" + c])
        return make

    def p_mod(self, d):
        form = self.rng.choice(["($0 %% %s)", "mod($0, %s)"])
        return fmt(form % self.rng.choice(NONZERO), self.expr(INT, d), type=INT, tags=["op:%"])

    def p_neg(self, c):
        return lambda d: fmt("(- $0)", self.expr(c, d), type=c, tags=["op:neg"])

    def p_fn1(self, name, c):
        return lambda d: fmt("%s($0)" % name, self.expr(c, d), type=c, tags=["fn:" + name])

    def p_fn1_of(self, names, arg, result):
        def make(d):
            name = self.rng.choice(names)
            return fmt("%s($0)" % name, self.expr(arg, d), type=result,
                       tags=["fn:%s(%s)" % (name, arg)])
        return make

    def p_length(self, d):
        return fmt("length($0)", self.expr(TEXT, d), type=INT, tags=["fn:length"])

    def p_strpos(self, d):
        if self.rng.random() < 0.5:
            return fmt("strpos($0, %s)" % self.rng.choice(["'a'", "'b'", "''"]), self.expr(TEXT, d),
                       type=INT, tags=["fn:strpos"])
        return fmt("position(%s IN $0)" % self.rng.choice(["'a'", "'x'"]), self.expr(TEXT, d),
                   type=INT, tags=["fn:position"])

    def p_int_casts(self, d):
        r = self.rng.random()
        if r < 0.35 and (self.scope.of(NUM) or self.rows is not None):
            return fmt("CAST($0 AS bigint)", self.expr(NUM, d), type=INT, tags=["cast:num->int"])
        if r < 0.6 and self.scope.of(FLOAT):
            inner = self.rng.choice(self.scope.of(FLOAT)).node()  # a column: no overflow
            return fmt("($0)::bigint", inner, type=INT, tags=["cast:float->int"])
        if r < 0.8:
            return fmt("CAST($0 AS integer)", self.expr(BOOL, d), type=INT, tags=["cast:bool->int"])
        return fmt("($0)::int", self.expr(INT, d), type=INT, tags=["cast:int->int4"])

    def p_date_diff(self, d):
        return fmt("($0 - $1)", self.expr(DATE, d), self.expr(DATE, 0), type=INT,
                   tags=["op:date-date"])

    def p_round_num(self, d):
        if self.rng.random() < 0.4:
            return fmt("round($0)", self.expr(NUM, d), type=NUM, tags=["fn:round"])
        fn = self.rng.choice(["round", "trunc"])
        digits = self.rng.choice(["0", "1", "2", "-1"])
        return fmt("%s($0, %s)" % (fn, digits), self.expr(NUM, d), type=NUM,
                   tags=["fn:%s-%s-digits" % (fn, "negative" if digits.startswith("-") else "n")])

    def p_num_casts(self, d):
        src = self.rng.choice([INT, FLOAT, INT])
        form = self.rng.choice(["CAST($0 AS numeric)", "($0)::numeric",
                                "CAST($0 AS numeric(14,2))"])
        tags = ["cast:%s->num" % src] + (["cast:numeric-typmod"] if "(14,2)" in form else [])
        return fmt(form, self.expr(src, d), type=NUM, tags=tags)

    def p_extract(self, d):
        field = self.rng.choice(EXTRACT_FIELDS)
        src = TS if self.rng.random() < 0.8 else DATE
        if src == DATE and field in ("hour", "minute", "second", "epoch"):
            field = "day"
        return fmt("extract(%s FROM $0)" % field, self.expr(src, d), type=NUM,
                   tags=["fn:extract(%s)" % field])

    def p_json_num(self, d):
        return fmt("($0 ->> 'a')::numeric", self.expr(JSON, 0), type=NUM, tags=["json:->>num"])

    def p_float_math(self, d):
        x = self.expr(self.rng.choice([FLOAT, FLOAT, INT, NUM]), d)
        form, tag = self.rng.choice([("sqrt(abs($0))", "sqrt"), ("power($0, 2)", "power"),
                                     ("ln(abs($0) + 1)", "ln"), ("power($0, 3)", "power")])
        if x.type == INT and self.rng.random() < 0.3:
            form, tag = "exp(mod($0, 5))", "exp"
        return fmt(form, x, type=FLOAT if x.type != NUM else NUM, tags=["fn:" + tag])

    def p_float_casts(self, d):
        src = self.rng.choice([INT, NUM])
        form = self.rng.choice(["CAST($0 AS double precision)", "($0)::float8"])
        return fmt(form, self.expr(src, d), type=FLOAT, tags=["cast:%s->float" % src])

    def p_date_part(self, d):
        field = self.rng.choice(["hour", "epoch", "day", "dow", "minute"])
        return fmt("date_part('%s', $0)" % field, self.expr(TS, d), type=FLOAT,
                   tags=["fn:date_part"])

    def p_case(self, c):
        return lambda d: self._case(c, d)

    def _case(self, c, d):
        if self.rng.random() < 0.6:
            n = self.rng.choice([1, 1, 2])
            kids, parts = [], ["CASE"]
            for _ in range(n):
                parts += [" WHEN ", len(kids), " THEN ", len(kids) + 1]
                kids += [self.condition(d), self.expr(c, d)]
            if self.rng.random() < 0.7:
                parts += [" ELSE ", len(kids)]
                kids.append(self.expr(c, d))
            parts.append(" END")
            return Node(parts, kids, type=c, tags=["case:searched"])
        subject_cat = self.rng.choice([INT, TEXT])
        subject = self.expr(subject_cat, d)
        lits = self.rng.sample(LITERALS[subject_cat], 2)
        return fmt("CASE $0 WHEN %s THEN $1 WHEN %s THEN $2 END" % tuple(lits), subject,
                   self.expr(c, d), self.expr(c, d), type=c, tags=["case:simple"])

    def p_coalesce(self, c):
        return lambda d: self._coalesce(c, d)

    def _coalesce(self, c, d):
        if self.rng.random() < 0.5:
            return fmt("COALESCE($0, $1)", self.expr(c, d), self.expr(c, 0), type=c,
                       tags=["fn:coalesce"])
        return fmt("COALESCE($0, $1, $2)", self.expr(c, d), self.expr(c, d), literal(self.rng, c),
                   type=c, tags=["fn:coalesce"])

    def p_nullif(self, c):
        return lambda d: fmt("NULLIF($0, $1)", self.expr(c, d), self.leaf(c), type=c,
                             tags=["fn:nullif"])

    def p_greatest(self, c):
        def make(d):
            if c in (JSON, BOOL, INTERVAL):
                return None
            fn = self.rng.choice(["GREATEST", "LEAST"])
            return fmt("%s($0, $1)" % fn, self.expr(c, d), self.expr(c, d), type=c,
                       tags=["fn:" + fn])
        return make

    def p_case_fn(self, d):
        fn = self.rng.choice(["lower", "upper"])
        return fmt("%s($0)" % fn, self.expr(TEXT, d), type=TEXT, tags=["fn:" + fn])

    def p_substr(self, d):
        start = self.rng.choice(["1", "2", "0", "-1", "3"])
        if self.rng.random() < 0.5:
            return fmt("substr($0, %s)" % start, self.expr(TEXT, d), type=TEXT, tags=["fn:substr"])
        length = self.rng.choice(["1", "2", "0", "3"])
        form = self.rng.choice(["substr($0, %s, %s)", "substring($0, %s, %s)",
                                "substring($0 FROM %s FOR %s)"])
        return fmt(form % (start, length), self.expr(TEXT, d), type=TEXT, tags=["fn:substr3"])

    def p_left_right(self, d):
        fn = self.rng.choice(["left", "right"])
        return fmt("%s($0, %s)" % (fn, self.rng.choice(["1", "2", "-1", "0"])), self.expr(TEXT, d),
                   type=TEXT, tags=["fn:" + fn])

    def p_replace(self, d):
        a, b = self.rng.choice([("'a'", "'A'"), ("'b'", "''"), ("' '", "'_'"), ("''", "'x'")])
        return fmt("replace($0, %s, %s)" % (a, b), self.expr(TEXT, d), type=TEXT,
                   tags=["fn:replace"])

    def p_trim(self, d):
        form = self.rng.choice(["trim($0)", "btrim($0)", "ltrim($0)", "rtrim($0)", "ltrim($0, 'a')",
                                "rtrim($0, 'b ')", "btrim($0, 'ax')", "trim(both 'a' from $0)"])
        return fmt(form, self.expr(TEXT, d), type=TEXT, tags=["fn:" + form.split("(")[0]])

    def p_concat(self, d):
        other = self.rng.choice([TEXT, INT, NUM, BOOL, DATE])
        return fmt("concat($0, $1)", self.expr(TEXT, d), self.expr(other, d), type=TEXT,
                   tags=["fn:concat", "concat:" + other])

    def p_pipes(self, d):
        other = self.rng.choice([TEXT, TEXT, INT, NUM])
        return fmt("($0 || $1)", self.expr(TEXT, d), self.expr(other, d), type=TEXT,
                   tags=["op:||", "||:" + other])

    def p_pad(self, d):
        fn = self.rng.choice(["lpad", "rpad"])
        n = self.rng.choice(["0", "1", "3", "5"])
        fill = self.rng.choice(["", ", 'xy'", ", '*'"])
        return fmt("%s($0, %s%s)" % (fn, n, fill), self.expr(TEXT, d), type=TEXT, tags=["fn:" + fn])

    def p_split_part(self, d):
        return fmt("split_part($0, %s, %s)" % (self.rng.choice(["'a'", "' '", "'b'"]),
                                                self.rng.choice(["1", "2", "-1"])),
                   self.expr(TEXT, d), type=TEXT, tags=["fn:split_part"])

    def p_text_casts(self, d):
        src = self.rng.choice([INT, INT, NUM, BOOL, DATE, TS, FLOAT])
        form = self.rng.choice(["CAST($0 AS text)", "($0)::text"])
        return fmt(form, self.expr(src, d), type=TEXT, tags=["cast:%s->text" % src])

    def p_json_text(self, d):
        j = self.expr(JSON, 0)
        r = self.rng.random()
        if r < 0.6:
            return fmt("($0 ->> %s)" % self.rng.choice(JSON_KEYS + ["0", "1", "-1"]), j, type=TEXT,
                       tags=["json:->>"])
        if r < 0.8:
            return fmt("jsonb_extract_path_text($0, %s)" % self.rng.choice(["'a'", "'nested', 'k'",
                                                                             "'c', '2', 'd'"]),
                       j, type=TEXT, tags=["json:extract_path_text"])
        return fmt("json_extract_path_text(($0)::json, 'nested', 'n', '0')", j, type=TEXT,
                   tags=["json:json_extract_path_text"])

    def p_json_arrow(self, d):
        key = self.rng.choice(JSON_KEYS + ["0", "1", "-1"])
        j = self.expr(JSON, d)
        return fmt("($0 -> %s)" % key, j, type=JSON, tags=["json:->"])

    def p_json_path(self, d):
        return fmt("jsonb_extract_path($0, %s)" % self.rng.choice(["'c'", "'nested', 'n'", "'a'"]),
                   self.expr(JSON, 0), type=JSON, tags=["json:extract_path"])

    def p_compare(self, d):
        cat = self.rng.choice([c for c in (INT, INT, NUM, FLOAT, TEXT, TS, DATE, BOOL, INTERVAL)
                               if c in (INT, NUM, TEXT) or self.scope.of(c)])
        other = cat
        if cat in NUMERIC_TYPES and self.rng.random() < 0.3:
            other = self.rng.choice(NUMERIC_TYPES)
        if cat == DATE and self.rng.random() < 0.2:
            other = TS
        op = self.rng.choice(["=", "<>", "<", "<=", ">", ">=", "!="])
        if cat == BOOL:
            op = self.rng.choice(["=", "<>"])
        left, right = self.expr(cat, d), self.expr(other, d)
        if self.rng.random() < 0.5:
            right = self.leaf(other)
        if other in QUOTED and other == cat and self.rng.random() < 0.3:
            # An untyped literal takes the type of the other side.
            right = text(self.rng.choice(QUOTED[other]), other, ("lit:quoted",))
        return fmt("($0 %s $1)" % op, left, right, type=BOOL, tags=["cmp:%s/%s" % (cat, other)])

    def p_and_or(self, d):
        op = self.rng.choice(["AND", "OR"])
        return fmt("($0 %s $1)" % op, self.condition(d), self.condition(d), type=BOOL,
                   tags=["bool:" + op])

    def p_not(self, d):
        return fmt("(NOT $0)", self.condition(d), type=BOOL, tags=["bool:NOT"])

    def p_is_null(self, d):
        cat = self.rng.choice(self.scope.categories() or [INT])
        op = self.rng.choice(["IS NULL", "IS NOT NULL"])
        return fmt("($0 %s)" % op, self.expr(cat, d), type=BOOL, tags=["is_null"])

    def p_distinct_from(self, d):
        cat = self.rng.choice([c for c in self.scope.categories() if c != JSON] or [INT])
        op = self.rng.choice(["IS DISTINCT FROM", "IS NOT DISTINCT FROM"])
        return fmt("($0 %s $1)" % op, self.expr(cat, d), self.leaf(cat), type=BOOL,
                   tags=["distinct_from"])

    def p_between(self, d):
        cat = self.rng.choice([INT, NUM, TS, DATE, TEXT])
        lo, hi = sorted(self.rng.sample(LITERALS[cat], 2))
        op = self.rng.choice(["BETWEEN", "NOT BETWEEN"])
        return fmt("($0 %s %s AND %s)" % (op, lo, hi), self.expr(cat, d), type=BOOL,
                   tags=["between"])

    def p_in_list(self, d):
        cat = self.rng.choice([INT, INT, TEXT, NUM])
        items = self.rng.sample(LITERALS[cat], self.rng.choice([1, 2, 3]))
        if self.rng.random() < 0.15:
            items.append("NULL")
        op = self.rng.choice(["IN", "NOT IN"])
        return fmt("($0 %s (%s))" % (op, ", ".join(items)), self.expr(cat, d), type=BOOL,
                   tags=["in_list", "in_list:null" if "NULL" in items else "in_list:plain"])

    def p_like(self, d):
        op = self.rng.choice(["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"])
        return fmt("($0 %s %s)" % (op, self.rng.choice(PATTERNS)), self.expr(TEXT, d), type=BOOL,
                   tags=["like"])

    def p_starts_with(self, d):
        prefix = self.rng.choice(["'a'", "''", "'b'"])
        return fmt("starts_with($0, %s)" % prefix, self.expr(TEXT, d), type=BOOL,
                   tags=["fn:starts_with"])

    def p_is_truth(self, d):
        op = self.rng.choice(["IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE", "IS UNKNOWN",
                              "IS NOT UNKNOWN"])
        return fmt("($0 %s)" % op, self.condition(d), type=BOOL, tags=["is_truth"])

    def p_ts_interval(self, d):
        op = self.rng.choice(["+", "-"])
        return fmt("($0 %s $1)" % op, self.expr(TS, d), literal(self.rng, INTERVAL), type=TS,
                   tags=["ts" + op + "interval"])

    def p_date_trunc(self, d):
        return fmt("date_trunc('%s', $0)" % self.rng.choice(DATE_UNITS), self.expr(TS, d), type=TS,
                   tags=["fn:date_trunc"])

    def p_to_timestamp(self, d):
        if self.rng.random() < 0.7:
            return fmt("to_timestamp($0 * 3600)", self.expr(INT, 0), type=TS,
                       tags=["fn:to_timestamp"])
        return fmt("to_timestamp($0)", self.expr(FLOAT, 0), type=TS, tags=["fn:to_timestamp(f)"])

    def p_date_to_ts(self, d):
        return fmt("CAST($0 AS timestamp)", self.expr(DATE, d), type=TS, tags=["cast:date->ts"])

    def p_date_plus(self, d):
        op = self.rng.choice(["+", "-"])
        return fmt("($0 %s %s)" % (op, self.rng.choice(["1", "7", "0", "30"])), self.expr(DATE, d),
                   type=DATE, tags=["date" + op + "int"])

    def p_make_date(self, d):
        return fmt("make_date(2026, (abs($0) % 12 + 1)::int, 1)", self.expr(INT, 0), type=DATE,
                   tags=["fn:make_date"])

    def p_ts_to_date(self, d):
        return fmt("CAST($0 AS date)", self.expr(TS, d), type=DATE, tags=["cast:ts->date"])

    def p_ts_minus_ts(self, d):
        return fmt("($0 - $1)", self.expr(TS, d), self.expr(TS, 0), type=INTERVAL, tags=["ts-ts"])

    def p_since_midnight(self, d):
        return fmt("($0 - date_trunc('day', $0))", self.expr(TS, 0), type=INTERVAL,
                   tags=["ts-ts", "fn:date_trunc"])

    def p_interval_arith(self, d):
        return fmt("($0 + $1)", self.expr(INTERVAL, d), literal(self.rng, INTERVAL),
                   type=INTERVAL, tags=["interval+interval"])

    # -- probes: constructs docs/sql.md does not list ------------------------------------------

    def probe(self, category, depth):
        options = {
            TEXT: [("to_char", "to_char($0, 'YYYY')", TS),
                   ("regexp_replace", "regexp_replace($0, 'a', 'b')", TEXT),
                   ("repeat", "repeat($0, 2)", TEXT), ("reverse", "reverse($0)", TEXT),
                   ("initcap", "initcap($0)", TEXT), ("md5", "md5($0)", TEXT),
                   ("translate", "translate($0, 'a', 'b')", TEXT)],
            INT: [("char_length", "char_length($0)", TEXT), ("ascii", "ascii($0)", TEXT),
                  ("octet_length", "octet_length($0)", TEXT)],
            FLOAT: [("cbrt", "cbrt($0)", FLOAT), ("log", "log(abs($0) + 1)", FLOAT),
                    ("sin", "sin($0)", FLOAT)],
            TS: [("date_bin", "date_bin('1 hour', $0, '1970-01-01')", TS),
                 ("at_time_zone", "($0 AT TIME ZONE 'UTC')", TS)],
            BOOL: [("regex_match", "($0 ~ 'a')", TEXT),
                   ("similar_to", "($0 SIMILAR TO 'a%')", TEXT)],
            JSON: [("jsonb_build_object", "jsonb_build_object('k', $0)", INT),
                   ("to_jsonb", "to_jsonb($0)", INT)],
        }
        if category not in options:
            return None
        name, form, arg = self.rng.choice(options[category])
        return fmt(form, self.expr(arg, depth - 1), type=category, tags=["probe:" + name])
