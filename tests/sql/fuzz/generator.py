"""Random `SELECT ... INTO` statements from the grammar docs/sql.md lists: FROM tables, joins
of every kind (with and without equality keys, self-joins, chains of three), subqueries in
FROM, CTEs, earlier INTO tables, TUMBLE/HOP; bodies that project, filter, DISTINCT, GROUP BY
with every aggregate and HAVING, global aggregates, ranking windows and the top-n-per-group
pattern; IN / EXISTS / scalar subqueries in WHERE; set operations; ORDER BY ... LIMIT OFFSET.

Every statement is a tree (tree.py) rendering both Sluice's SQL and the plain PostgreSQL SELECT
it is compared with. Results must not depend on choices PostgreSQL leaves open: ORDER BY ...
LIMIT orders by every output column in the end (rows tied on all columns are equal, so which
one is kept cannot matter), row_number() orders by a unique key last, and scalar subqueries
are aggregates without GROUP BY (exactly one row)."""

from expressions import ExprGen, Ref, Scope
from schema import BOOL, DATE, FLOAT, INT, JSON, NUM, ORDERABLE, TABLES, TEXT, TS
from tree import EMPTY, Node, dialects, fmt, join, text


class Source:
    """Something FROM can name: a base table or an earlier statement's INTO table."""

    def __init__(self, name, columns, key=None, statement=None):
        self.name = name
        self.columns = columns  # [(name, category)]
        self.key = key          # a unique column, or None
        self.statement = statement  # the earlier Statement for INTO tables


BASE_SOURCES = [Source(t.name, [(c.name, c.category) for c in t.columns], "id") for t in TABLES]


class FromItem:
    def __init__(self, node, refs, keys, tags=(), internal=False, deps=(), withs=()):
        self.node = node
        self.refs = refs          # [Ref] in scope, qualified
        self.keys = keys          # [Ref] that together identify a row (may be empty)
        self.tags = set(tags)
        self.internal = internal  # becomes an internal statement in Sluice
        self.deps = list(deps)    # earlier INTO tables read
        self.withs = list(withs)  # WITH clause entries (nodes) this item needs
        self.where_keys = []      # join keys of comma joins, for the WHERE clause
        self.is_join = False
        self.comma = False        # a comma join: later joins must be commas too
        self.base_table = False   # a base table: `id` is its primary key


class Body:
    """A select body: its node and output columns [(name, category)]."""

    def __init__(self, node, columns, unique=False, tags=(), internal=False, deps=(), withs=()):
        self.node = node
        self.columns = columns
        self.unique = unique  # no two output rows are equal
        self.tags = set(tags)
        self.internal = internal
        self.deps = list(deps)
        self.withs = list(withs)


class Statement:
    def __init__(self, name, tree, deps, internal, tags, shape):
        self.name = name
        self.tree = tree
        self.deps = deps          # names of earlier INTO tables read
        self.internal = internal  # uses internal statements (#name.left1, #name.with_x_1, ...)
        # tags: what the tree cannot tell (replays)
        self.tags = set(tags) | tree.all_tags() | derived_tags(tree)
        self.shape = shape
        self.columns = None       # [(name, category)] once PostgreSQL ran it

    def sluice_sql(self):
        return self.tree.render("sluice")

    def postgres_body(self):
        return self.tree.render("postgres")


def postgres_sql(statement, by_name):
    """PostgreSQL's SELECT for `statement`: earlier INTO tables it reads become CTEs."""
    body = statement.postgres_body()
    if not statement.deps:
        return body
    ctes = ", ".join("%s AS (%s)" % (d, postgres_sql(by_name[d], by_name)) for d in statement.deps)
    return "WITH %s SELECT * FROM (%s) AS fuzz_q" % (ctes, body)


SHAPES = {"plain": 12, "grouped": 14, "distinct": 4, "global": 4, "window": 5, "topn": 8,
          "setop": 8, "order_limit": 8, "probe": 3}


class Options:
    def __init__(self, probes=0.03, dependent=0.15, max_items=5, shapes=None):
        self.probes = probes        # share of constructs Sluice is not expected to support
        self.dependent = dependent  # chance to read an earlier INTO table
        self.max_items = max_items
        self.shapes = shapes or list(SHAPES)  # statement shapes to generate


class StatementGen:
    def __init__(self, rng, options=None):
        self.rng = rng
        self.opt = options or Options()
        self.alias_n = 0
        self.cte_n = 0

    # -- helpers -------------------------------------------------------------------------------

    def alias(self, prefix="x"):
        self.alias_n += 1
        return "%s%d" % (prefix, self.alias_n)

    def exprs(self, refs, rows=None):
        return ExprGen(self.rng, Scope(refs), rows, self.opt.probes)

    def pick_source(self, earlier, base_only=False):
        if earlier and not base_only and self.rng.random() < self.opt.dependent:
            return self.rng.choice(earlier)
        return self.rng.choices(BASE_SOURCES, [5, 3, 2])[0]

    def item_list(self, exprs, names=None):
        """Select items with unique output names: mostly aliases c0.., sometimes the default
        name (a column's own name, or an aggregate's function name)."""
        items, columns, used = [], [], set()
        for i, e in enumerate(exprs):
            default = default_name(e)
            if names is not None:
                name = names[i]
            elif default and default not in used and self.rng.random() < 0.3:
                name = default
            else:
                name = "c%d" % i
                while name in used:
                    name += "_"
            used.add(name)
            items.append(e if name == default else fmt("$0 AS %s" % name, e))
            columns.append((name, e.type))
        return join(items, ", "), columns

    # -- FROM ----------------------------------------------------------------------------------

    def table_item(self, source, alias=None):
        alias = alias or self.alias()
        refs = [Ref("%s.%s" % (alias, c), cat) for c, cat in source.columns]
        keys = [Ref("%s.%s" % (alias, source.key), INT)] if source.key else []
        name = source.name if source.name != alias else source.name
        node = text("%s %s" % (name, alias), tags=["from:" + ("table" if source.statement is None
                                                            else "earlier_into")])
        deps = [source.name] if source.statement is not None else []
        item = FromItem(node, refs, keys, deps=deps)
        item.base_table = source.statement is None
        return item

    def from_item(self, earlier, kinds=None):
        kinds = kinds or ["table", "join2", "join3", "self", "subquery", "cte", "window"]
        weights = {"table": 10, "join2": 8, "join3": 2.5, "self": 2, "subquery": 2.5, "cte": 2.5,
                   "window": 2.5}
        kind = self.rng.choices(kinds, [weights[k] for k in kinds])[0]
        if kind == "table":
            return self.table_item(self.pick_source(earlier))
        if kind == "join2":
            return self.join(self.table_item(self.pick_source(earlier)),
                             self.table_item(self.pick_source(earlier)))
        if kind == "join3":
            first = self.join(self.table_item(self.pick_source(earlier, True)),
                              self.table_item(self.pick_source(earlier, True)))
            return self.join(first, self.table_item(self.pick_source(earlier, True)))
        if kind == "self":
            src = self.pick_source(earlier, True)
            return self.join(self.table_item(src), self.table_item(src), tags=["join:self"])
        if kind == "subquery":
            return self.subquery_item(earlier)
        if kind == "cte":
            return self.cte_item(earlier)
        return self.time_window_item()

    def join(self, left, right, tags=()):
        rng = self.rng
        # A comma binds looser than JOIN: a JOIN after a comma could not see the left side in
        # its ON, and a comma after a JOIN is a different tree; keep chains of one kind.
        comma = 0 if left.is_join else 1.5
        kind = rng.choices(["JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN",
                            "LEFT OUTER JOIN", "FULL OUTER JOIN", "CROSS JOIN", ","],
                           [5, 2, 5, 3, 3, 1, 1, 1, comma])[0]
        if left.comma:
            kind = ","
        name = "comma" if kind == "," else kind.replace(" OUTER", "").replace("INNER ", "")
        tags = set(tags) | {"join:" + name}
        refs = left.refs + right.refs
        where_keys = None
        if kind in ("CROSS JOIN", ","):
            # Keys from WHERE become join keys for inner joins; returned for the caller's WHERE.
            node = fmt("$0 %s $1" % kind if kind != "," else "$0, $1", left.node, right.node,
                       tags=tags)
            if rng.random() < 0.7:
                where_keys = self.equalities(left, right, 1)
        else:
            conds = []
            # PostgreSQL runs FULL JOIN only with hash- or merge-joinable keys (so not
            # timestamp = timestamptz): without such keys it becomes a LEFT JOIN.
            full = "FULL" in kind
            if rng.random() < 0.85 or full:
                conds += self.equalities(left, right, rng.choice([1, 1, 1, 2]), same_type=full)
            if full and not conds:
                kind = "LEFT JOIN"
                tags = (tags - {"join:" + name}) | {"join:LEFT JOIN"}
            if not conds:
                tags.add("join:no-equality")
            if not conds or rng.random() < 0.35:
                conds.append(self.exprs(refs).condition(1))
                tags.add("join:on-extra")
            on = conds[0]
            for c in conds[1:]:
                on = fmt("$0 AND $1", on, c)
            node = fmt("$0 %s $1 ON $2" % kind, left.node, right.node, on, tags=tags)
        keys = left.keys + right.keys if left.keys and right.keys else []
        item = FromItem(node, refs, keys, left.tags | right.tags | tags,
                        left.internal or right.internal, left.deps + right.deps,
                        left.withs + right.withs)
        item.where_keys = left.where_keys + (where_keys or [])
        item.is_join = True
        item.comma = kind == ","
        return item

    def equalities(self, left, right, n, same_type=False):
        """n equality conditions between same-category columns of the two sides (`same_type`:
        not between timestamp and timestamptz, whose equality PostgreSQL cannot hash)."""
        out = []
        for _ in range(n):
            cats = (INT, TEXT, DATE, NUM) if same_type else (INT, TEXT, DATE, NUM, TS)
            pairs = [(a, b) for a in left.refs for b in right.refs if a.category == b.category
                     and a.category in cats]
            if not pairs:
                break
            # Prefer the skewed key columns so joins match often but not always.
            good = [p for p in pairs if p[0].sql.split(".")[-1] in ("k", "g", "id")
                    and p[1].sql.split(".")[-1] in ("k", "g", "id")]
            a, b = self.rng.choice(good if good and self.rng.random() < 0.8 else pairs)
            if a.category == INT and self.rng.random() < 0.1:
                out.append(fmt("($0 + 1) = $1", a.node(), b.node(), tags=["join:expr-key"]))
            else:
                out.append(fmt("$0 = $1", a.node(), b.node()))
        return out

    def subquery_item(self, earlier):
        inner = self.body(earlier, allow=("plain", "grouped", "distinct", "global"), depth=1)
        alias = self.alias("sq")
        refs = [Ref("%s.%s" % (alias, n), c) for n, c in inner.columns]
        node = fmt("($0) AS %s" % alias if self.rng.random() < 0.5 else "($0) %s" % alias,
                   inner.node, tags=["from:subquery"])
        keys = refs if inner.unique else []
        return FromItem(node, refs, keys, inner.tags, True, inner.deps, inner.withs)

    def cte_item(self, earlier):
        inner = self.body(earlier, allow=("plain", "grouped", "distinct", "global"), depth=1)
        self.cte_n += 1
        name = "w%d" % self.cte_n
        alias = self.alias()
        refs = [Ref("%s.%s" % (alias, n), c) for n, c in inner.columns]
        cte = fmt("%s AS ($0)" % name, inner.node, tags=["with"])
        keys = refs if inner.unique else []
        node = text("%s %s" % (name, alias))
        return FromItem(node, refs, keys, inner.tags, True, inner.deps, inner.withs + [cte])

    def time_window_item(self):
        """TUMBLE/HOP over a table with a timestamp; PostgreSQL gets date_bin/generate_series."""
        rng = self.rng
        table = rng.choice([t for t in TABLES if any(c.category == TS for c in t.columns)])
        ts = next(c.name for c in table.columns if c.category == TS)
        alias = self.alias("w")
        cols = [(c.name, c.category) for c in table.columns] + [("window_start", TS),
                                                                ("window_end", TS)]
        refs = [Ref("%s.%s" % (alias, n), c) for n, c in cols]
        slides = ["30 minutes", "1 hour", "2 hours", "1 day"]
        units = {"30 minutes": 30, "1 hour": 60, "2 hours": 120, "1 day": 1440}
        if rng.random() < 0.45:
            size = rng.choice(slides)
            sql = "TUMBLE(%s, %s, INTERVAL '%s') %s" % (table.name, ts, size, alias)
            binned = "date_bin(INTERVAL '%s', %s.%s, '1970-01-01')" % (size, table.name, ts)
            pg = ("(SELECT %s.*, %s AS window_start, %s + INTERVAL '%s' AS window_end FROM %s "
                  "WHERE %s.%s IS NOT NULL) %s" % (table.name, binned, binned, size, table.name,
                                                   table.name, ts, alias))
            tags = ["window:tumble"]
        else:
            slide = rng.choice(slides[:3])
            factor = rng.choice([2, 2, 3, 4])
            minutes = units[slide] * factor
            tags = ["window:hop"]
            if rng.random() < self.opt.probes * 3:
                minutes += units[slide] // 2  # not a multiple of the slide (docs: refused)
                tags.append("hop:size-not-multiple")
            size = "%d minutes" % minutes
            sql = "HOP(%s, %s, INTERVAL '%s', INTERVAL '%s') %s" % (table.name, ts, slide, size,
                                                                     alias)
            binned = "date_bin(INTERVAL '%s', %s.%s, '1970-01-01')" % (slide, table.name, ts)
            # Windows start at multiples of the slide in (ts - size, ts]: from the first
            # multiple after ts - size up to the slide's bin of ts.
            first = "date_bin(INTERVAL '%s', %s.%s - INTERVAL '%s', '1970-01-01') + INTERVAL '%s'" \
                % (slide, table.name, ts, size, slide)
            pg = ("(SELECT %s.*, ws AS window_start, ws + INTERVAL '%s' AS window_end FROM %s, "
                  "generate_series(%s, %s, INTERVAL '%s') AS ws) %s"
                  % (table.name, size, table.name, first, binned, slide, alias))
        node = dialects(sql, pg, tags=tags)
        keys = [Ref("%s.id" % alias, INT), Ref("%s.window_start" % alias, TS)]
        return FromItem(node, refs, keys, tags, True)

    # -- WHERE ---------------------------------------------------------------------------------

    def where(self, item, earlier, chance=0.6):
        """A WHERE node (optional) with plain conditions and subquery predicates."""
        rng = self.rng
        conds = list(item.where_keys)
        tags, internal, deps = set(), False, []
        if rng.random() < chance:
            conds.append(self.exprs(item.refs).condition(rng.choice([1, 2, 2, 3])))
        if rng.random() < 0.22:
            sub = self.subquery_predicate(item, earlier)
            if sub is not None:
                node, sub_tags, sub_deps = sub
                conds.append(node)
                tags |= sub_tags
                internal = True
                deps += sub_deps
        if not conds:
            return EMPTY, tags, internal, deps
        node = conds[0]
        for c in conds[1:]:
            op = "AND" if rng.random() < 0.85 else "OR"
            node = fmt("$0 %s $1" % op, node, c, tags=["bool:" + op])
        return fmt(" WHERE $0", node, optional=not item.where_keys), tags, \
            internal, deps

    def subquery_predicate(self, item, earlier):
        rng = self.rng
        kind = rng.choices(["in", "exists", "scalar"], [4, 4, 3])[0]
        src = self.pick_source(earlier)
        inner = self.table_item(src, self.alias("e"))
        inner_gen = self.exprs(inner.refs)
        deps = inner.deps
        inner_where = EMPTY
        if rng.random() < 0.5:
            inner_where = fmt(" WHERE $0", inner_gen.condition(1), optional=True)
        if kind == "in":
            cats = [c for c in (INT, TEXT, NUM, DATE) if any(r.category == c for r in item.refs)
                    and any(r.category == c for r in inner.refs)]
            if not cats:
                return None
            cat = rng.choice(cats)
            outer = self.exprs(item.refs).expr(cat, rng.choice([0, 0, 1]))
            inner_expr = inner_gen.expr(cat, rng.choice([0, 0, 1]))
            op = rng.choice(["IN", "IN", "NOT IN"])
            tags = {"subquery:" + op.replace(" ", "_")}
            node = fmt("$0 %s (SELECT $1 FROM $2$3)" % op, outer, inner_expr, inner.node,
                       inner_where, tags=tags)
            return node, tags, deps
        if kind == "exists":
            pairs = [(a, b) for a in item.refs for b in inner.refs if a.category == b.category
                     and a.category in (INT, TEXT)
                     and b.sql.split(".")[-1] in ("k", "g", "id", "a")]
            if not pairs:
                return None
            corr = []
            for _ in range(rng.choice([1, 1, 2])):
                a, b = rng.choice(pairs)
                corr.append(fmt("$0 = $1", b.node(), a.node()))
            tags = set()
            if rng.random() < self.opt.probes * 3:
                a, b = rng.choice(pairs)
                corr = [fmt("$0 < $1", b.node(), a.node())]  # not by equality: refused (docs)
                tags.add("probe:exists-non-equality")
            if rng.random() < 0.5:
                corr.append(inner_gen.condition(1))
            cond = corr[0]
            for c in corr[1:]:
                cond = fmt("$0 AND $1", cond, c)
            op = rng.choice(["EXISTS", "NOT EXISTS"])
            tags.add("subquery:" + op.replace(" ", "_"))
            node = fmt("%s (SELECT 1 FROM $0 WHERE $1)" % op, inner.node, cond, tags=tags)
            return node, tags, deps
        cat = rng.choice([INT, NUM, FLOAT, TEXT, TS])
        agg = self.exprs([], rows=Scope(inner.refs)).aggregate(cat)
        outer = self.exprs(item.refs).expr(cat, rng.choice([0, 1]))
        op = rng.choice(["=", "<", ">", "<=", ">=", "<>"])
        node = fmt("$0 %s (SELECT $1 FROM $2$3)" % op, outer, agg, inner.node, inner_where,
                   tags=["subquery:scalar-where"])
        return node, {"subquery:scalar-where"}, deps

    # -- bodies --------------------------------------------------------------------------------

    def body(self, earlier, allow=("plain", "grouped", "distinct", "global", "window"), depth=0,
             into=None, item=None):
        """One SELECT: `into` places the INTO clause (top-level statements)."""
        rng = self.rng
        weights = {"plain": 10, "grouped": 10, "distinct": 3, "global": 3, "window": 3}
        kind = rng.choices(allow, [weights[k] for k in allow])[0]
        if item is None:
            kinds = None if depth == 0 else ["table", "join2", "window"]
            item = self.from_item(earlier, kinds)
        into_node = dialects(" INTO %s" % into, "") if into else EMPTY
        where, w_tags, w_internal, w_deps = self.where(item, earlier)
        tags = set(item.tags) | w_tags | {"body:" + kind}
        internal = item.internal or w_internal
        deps = item.deps + w_deps
        if kind in ("plain", "distinct"):
            gen = self.exprs(item.refs)
            n = rng.randint(1, self.opt.max_items)
            exprs = [self.item_expr(gen, item.refs) for _ in range(n)]
            scalar = False
            if depth == 0 and rng.random() < 0.08:
                exprs.append(self.scalar_subquery(earlier))
                scalar = True
                tags.add("subquery:scalar-select")
            if kind == "plain" and item.keys and rng.random() < 0.3:
                exprs = [k.node() for k in item.keys] + exprs
            items, columns = self.item_list(exprs)
            distinct = "DISTINCT " if kind == "distinct" else ""
            node = fmt("SELECT %s$0$1 FROM $2$3" % distinct, items, into_node, item.node, where,
                       tags=["body:" + kind])
            unique = kind == "distinct" or (bool(item.keys) and all(
                any(e.render() == k.sql for e in exprs) for k in item.keys))
            return Body(node, columns, unique, tags, internal or scalar, deps, item.withs)
        if kind in ("grouped", "global"):
            return self.grouped_body(item, kind, into_node, where, tags, internal, deps)
        return self.window_body(item, into_node, where, tags, internal, deps)

    def item_expr(self, gen, refs, depths=(0, 1, 1, 2)):
        """A select item that names a column: constant items test little."""
        for _ in range(4):
            e = gen.expr(self.rng.choice(self.categories(refs)), self.rng.choice(depths))
            if "ref" in e.all_tags():
                return e
        return e

    def categories(self, refs):
        return sorted({r.category for r in refs}) + [INT, BOOL]  # also derived values

    def scalar_subquery(self, earlier):
        src = self.pick_source(earlier, True)
        inner = self.table_item(src, self.alias("e"))
        cat = self.rng.choice([INT, NUM, TEXT, TS])
        agg = self.exprs([], rows=Scope(inner.refs)).aggregate(cat)
        return fmt("(SELECT $0 FROM $1)", agg, inner.node, type=cat,
                   tags=["subquery:scalar-select"])

    def grouped_body(self, item, kind, into_node, where, tags, internal, deps):
        rng = self.rng
        row_scope = Scope(item.refs)
        group_exprs = []
        if kind == "grouped":
            plain = self.exprs(item.refs)
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                candidates = [r for r in item.refs if r.category != JSON]
                if candidates and rng.random() < 0.7:
                    preferred = [r for r in candidates if r.sql.split(".")[-1] in
                                 ("k", "g", "b", "window_start", "window_end", "s", "d")]
                    ref = rng.choice(preferred if preferred and rng.random() < 0.7 else candidates)
                    e = ref.node()
                else:
                    e = plain.expr(rng.choice([INT, TEXT, TS, DATE, BOOL]), 1)
                    if "ref" not in e.all_tags():
                        continue  # a constant: an integer would even read as an ordinal
                if e.render() not in [g.render() for g in group_exprs]:
                    group_exprs.append(e)
        group_refs = [Ref(g.render(), g.type) for g in group_exprs]
        gen = self.exprs(group_refs, rows=row_scope)
        shown = [g for g in group_exprs if rng.random() < 0.85]
        if not group_exprs:
            kind = "global"
        if kind == "grouped" and rng.random() < self.opt.probes * 2 and item.base_table:
            # Grouped by a primary key, other columns of its table are functionally dependent:
            # PostgreSQL accepts them, Sluice refuses (known).
            key = item.keys[0]
            if key.sql not in [g.render() for g in group_exprs]:
                group_exprs.append(key.node())
            prefix = key.sql.rsplit(".", 1)[0] + "."
            dependent = [r for r in item.refs if r.sql.startswith(prefix) and r.sql != key.sql]
            if dependent:
                shown.append(rng.choice(dependent).node())
                tags.add("probe:functional-dependency")
        aggs = []
        for _ in range(rng.randint(1, 4)):
            cat = rng.choice([INT, INT, NUM, FLOAT, TEXT, TS, DATE, BOOL])
            a = gen.aggregate(cat) if rng.random() < 0.7 else gen.expr(cat, rng.choice([1, 2]))
            aggs.append(a)
        order = shown + aggs
        if rng.random() < 0.3:
            rng.shuffle(order)
        items, columns = self.item_list(order)
        group_node = EMPTY
        if kind == "grouped":
            if order[:len(group_exprs)] == group_exprs and rng.random() < 0.4:
                ordinals = ", ".join(str(i + 1) for i in range(len(group_exprs)))
                group_node = text(" GROUP BY " + ordinals, tags=["group:ordinal"])
            else:
                group_node = fmt(" GROUP BY $0", join(group_exprs, ", "), tags=["group:by"])
        having = EMPTY
        if rng.random() < 0.3:
            having = fmt(" HAVING $0", gen.condition(rng.choice([1, 2])), optional=True,
                         tags=["having"])
        node = fmt("SELECT $0$1 FROM $2$3$4$5", items, into_node, item.node, where, group_node,
                   having, tags=["body:" + kind] + [t for t in tags if t.startswith("probe:")])
        keyed = kind == "global" or all(any(g is s for s in shown) for g in group_exprs)
        return Body(node, columns, keyed, tags, internal, deps, item.withs)

    def window_body(self, item, into_node, where, tags, internal, deps, rank_alias="r"):
        """SELECT ..., rank_fn() OVER (PARTITION BY .. ORDER BY ..) AS r."""
        rng = self.rng
        gen = self.exprs(item.refs)
        fn = rng.choice(["row_number", "rank", "dense_rank"])
        orderable = [r for r in item.refs if r.category in ORDERABLE + (BOOL,)]
        if not orderable:
            return None
        partition = []
        if rng.random() < 0.8:
            preferred = [r for r in item.refs
                         if r.sql.split(".")[-1] in ("k", "g", "b", "window_start")]
            for _ in range(rng.choice([1, 1, 2])):
                p = rng.choice(preferred or orderable).node()
                if p.render() not in [x.render() for x in partition]:
                    partition.append(p)
        order = []
        for _ in range(rng.choice([1, 1, 2])):
            ref = rng.choice(orderable)
            e = ref.node() if rng.random() < 0.8 else gen.expr(ref.category, 1)
            order.append(fmt("$0%s" % direction(rng), e))
        if fn == "row_number" or rng.random() < 0.3:
            if not item.keys:
                return None
            # A unique tie-break: among ties PostgreSQL's choice is free.
            order += [k.node() for k in item.keys]
        over = "OVER (%sORDER BY $1)" % ("PARTITION BY $0 " if partition else "")
        win = fmt("%s() %s" % (fn, over), join(partition, ", "), join(order, ", "), type=INT,
                  tags=["rank:" + fn])
        exprs = [self.item_expr(gen, item.refs, (0, 0, 1)) for _ in range(rng.randint(1, 4))]
        exprs += [p for p in partition if rng.random() < 0.6]
        items, columns = self.item_list(exprs)
        extra = ""
        if rng.random() < self.opt.probes * 2:
            extra = ", %s() OVER (ORDER BY %s) AS r_other" % (fn, orderable[0].sql)
            tags.add("probe:two-over-clauses")
            columns = columns + [("r_other", INT)]
        node = fmt("SELECT $0, $1 AS %s%s$2 FROM $3$4" % (rank_alias, extra), items, win, into_node,
                   item.node, where, tags=["window:rank"] + (["probe:two-over-clauses"] if extra
                                                            else []))
        return Body(node, columns + [(rank_alias, INT)], False, tags | {"window:rank"}, True, deps,
                    item.withs)

    # -- statements ----------------------------------------------------------------------------

    def statement(self, name, earlier):
        """A Statement writing INTO `name`; `earlier` are Sources of earlier INTO tables."""
        rng = self.rng
        weights = dict(SHAPES, probe=100 * self.opt.probes)
        shapes = [s for s in self.opt.shapes if weights[s] > 0]
        shape = rng.choices(shapes, [weights[s] for s in shapes])[0]
        self.alias_n = 0
        self.cte_n = 0
        for _ in range(20):  # a few shapes need what a random FROM may lack (keys, columns)
            built = self.build(shape, name, earlier)
            if built is not None:
                body, root = built
                return Statement(name, root, sorted(set(body.deps)), body.internal,
                                 body.tags | {"shape:" + shape}, shape)
        return None

    def build(self, shape, name, earlier):
        if shape in ("plain", "grouped", "distinct", "global", "window"):
            body = self.body(earlier, allow=(shape,), into=name)
            return None if body is None else (body, self.with_prefix(body))
        if shape == "topn":
            return self.topn(name, earlier)
        if shape == "setop":
            return self.setop(name, earlier)
        if shape == "order_limit":
            return self.order_limit(name, earlier)
        return self.probe_statement(name, earlier)

    def with_prefix(self, body, tail=EMPTY):
        if not body.withs:
            return fmt("$0$1", body.node, tail)
        return fmt("WITH $0 $1$2", join(body.withs, ", "), body.node, tail)

    def topn(self, name, earlier):
        """SELECT .. FROM (SELECT .., row_number() OVER (PARTITION BY k ORDER BY a DESC, id) AS rn
        FROM t) s WHERE rn <= n: the top-n-per-group pattern."""
        rng = self.rng
        item = self.from_item(earlier, ["table", "table", "join2", "window"])
        where, w_tags, w_internal, w_deps = self.where(item, earlier, chance=0.3)
        inner = self.window_body(item, EMPTY, where, set(item.tags) | w_tags, True,
                                 item.deps + w_deps, rank_alias="rn")
        if inner is None:
            return None
        alias = self.alias("s")
        outer_cols = [c for c in inner.columns if rng.random() < 0.8] or inner.columns[:1]
        items = join([text("%s.%s" % (alias, n), c) for n, c in outer_cols], ", ")
        limit = rng.choice(["1", "2", "2", "3"])
        op = rng.choice(["<=", "<=", "<", "="])
        cond = fmt("%s.rn %s %s" % (alias, op, limit))
        if rng.random() < 0.2:
            refs = [Ref("%s.%s" % (alias, n), c) for n, c in inner.columns]
            cond = fmt("$0 AND $1", cond, self.exprs(refs).condition(1))
        node = fmt("SELECT $0$1 FROM ($2) %s WHERE $3" % alias, items,
                   dialects(" INTO %s" % name, ""), inner.node, cond, tags=["topn:per-group"])
        body = Body(node, outer_cols, False, inner.tags | {"topn"}, True, inner.deps, inner.withs)
        return body, self.with_prefix(body)

    def setop(self, name, earlier):
        rng = self.rng
        cats = [rng.choice([INT, INT, TEXT, NUM, DATE, TS, BOOL])
                for _ in range(rng.choice([1, 2, 2, 3]))]
        sides = []
        for i in range(rng.choice([2, 2, 2, 3])):
            sides.append(self.setop_side(cats, earlier, name if i == 0 else None))
        ops = [rng.choice(["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT",
                           "EXCEPT ALL"]) for _ in sides[1:]]
        parts, kids = [0], [sides[0].node]
        for op, side in zip(ops, sides[1:]):
            parts += [" %s " % op, len(kids)]
            kids.append(side.node)
        node = Node(parts, kids, tags=["setop"] + ["setop:" + op.replace(" ", "_") for op in ops])
        unique = all("ALL" not in op for op in ops)
        tags = set().union(*[s.tags for s in sides]) | {"setop"}
        body = Body(node, sides[0].columns, unique, tags, True, sum([s.deps for s in sides], []),
                    sum([s.withs for s in sides], []))
        if rng.random() < 0.2:
            return body, self.with_prefix(body, self.order_limit_tail(body))
        return body, self.with_prefix(body)

    def setop_side(self, cats, earlier, into):
        rng = self.rng
        item = self.from_item(earlier, ["table", "table", "table", "join2"])
        where, w_tags, w_internal, w_deps = self.where(item, earlier, chance=0.5)
        gen = self.exprs(item.refs)
        exprs = []
        for c in cats:
            if c in (INT, NUM) and rng.random() < 0.15:
                c = NUM if c == INT else INT  # sides of different types take the common one
            exprs.append(gen.expr(c, rng.choice([0, 0, 1])))
        items, columns = self.item_list(exprs, names=["c%d" % i for i in range(len(exprs))])
        into_node = dialects(" INTO %s" % into, "") if into else EMPTY
        distinct = "DISTINCT " if rng.random() < 0.1 else ""
        node = fmt("SELECT %s$0$1 FROM $2$3" % distinct, items, into_node, item.node, where)
        return Body(node, columns, False, item.tags | w_tags, True, item.deps + w_deps, item.withs)

    def order_limit(self, name, earlier):
        body = self.body(earlier, allow=("plain", "grouped", "distinct", "global"), into=name)
        if body is None:
            return None
        body.tags.add("order_limit")
        return body, self.with_prefix(body, self.order_limit_tail(body))

    def order_limit_tail(self, body):
        """ORDER BY some output columns (random directions), then every other output column, so
        rows tied on the sort keys are equal rows and the top-n is the same multiset whichever
        tie PostgreSQL keeps."""
        rng = self.rng
        cols = [(n, c) for n, c in body.columns]
        if any(c == JSON for _, c in cols):
            return EMPTY
        first = rng.sample(cols, rng.randint(1, len(cols)))
        rest = [c for c in cols if c not in first]
        keys = []
        for n, _ in first + rest:
            ref = n if rng.random() < 0.8 else str(cols.index((n, _)) + 1)
            keys.append(ref + direction(rng))
        limit = " LIMIT %d" % rng.choice([1, 2, 3, 5, 10])
        offset = " OFFSET %d" % rng.choice([1, 2, 3]) if rng.random() < 0.3 else ""
        tail = text(" ORDER BY %s%s%s" % (", ".join(keys), limit, offset),
                    tags=["order_limit"] + (["offset"] if offset else []))
        tail.optional = True
        return tail

    # -- probes: statements Sluice is expected to refuse (the roadmap) --------------------------

    def probe_statement(self, name, earlier):
        rng = self.rng
        into = dialects(" INTO %s" % name, "")
        kind = rng.choice(["using", "natural", "distinct_on", "lateral", "recursive", "lag",
                           "sum_over", "rollup", "correlated_scalar", "fetch_first",
                           "grouping_sets", "array_agg", "order_no_limit", "limit_all",
                           "filter_where_window"])
        if kind == "using":
            node = fmt("SELECT x.id, y.a$0 FROM t1 x JOIN t2 y USING (k)", into)
        elif kind == "natural":
            node = fmt("SELECT id, k$0 FROM t1 NATURAL JOIN t3", into)
        elif kind == "distinct_on":
            node = fmt("SELECT DISTINCT ON (k) k, id$0 FROM t1 ORDER BY k, id", into)
        elif kind == "lateral":
            node = fmt("SELECT x.id, y.m$0 FROM t1 x, LATERAL (SELECT max(a) AS m FROM t2 WHERE "
                       "t2.k = x.k) y", into)
        elif kind == "recursive":
            node = fmt("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                       "WHERE n < 3) SELECT n$0 FROM r", into)
        elif kind == "lag":
            node = fmt("SELECT id, lag(a) OVER (PARTITION BY k ORDER BY id) AS prev$0 FROM t1",
                       into)
        elif kind == "sum_over":
            node = fmt("SELECT id, sum(a) OVER (PARTITION BY k ORDER BY id) AS running$0 FROM t1",
                       into)
        elif kind == "rollup":
            node = fmt("SELECT k, g, count(*) AS n$0 FROM t1 GROUP BY ROLLUP (k, g)", into)
        elif kind == "grouping_sets":
            node = fmt("SELECT k, b, count(*) AS n$0 FROM t1 GROUP BY GROUPING SETS ((k), (b))",
                       into)
        elif kind == "correlated_scalar":
            node = fmt("SELECT x.id, (SELECT max(a) FROM t2 WHERE t2.k = x.k) AS m$0 FROM t1 x",
                       into)
        elif kind == "fetch_first":
            node = fmt("SELECT id, a$0 FROM t1 ORDER BY a, id FETCH FIRST 3 ROWS ONLY", into)
        elif kind == "array_agg":
            node = fmt("SELECT k, array_agg(a ORDER BY a) AS all_a$0 FROM t1 GROUP BY k", into)
        elif kind == "order_no_limit":
            node = fmt("SELECT id, a$0 FROM t1 ORDER BY a DESC", into)
        elif kind == "limit_all":
            node = fmt("SELECT id, a$0 FROM t1 ORDER BY a, id LIMIT ALL", into)
        else:
            node = fmt("SELECT id, count(*) FILTER (WHERE a > 0) OVER (PARTITION BY k) AS n$0 "
                       "FROM t1", into)
        node.tags = frozenset({"probe:" + kind})
        return Body(node, [], False, {"probe:" + kind}, False), node


def derived_tags(tree):
    """Tags that depend on how parts of a statement relate, recomputed from the tree (so a
    shrunk statement has them right): an aggregate naming a GROUP BY column, and GROUP BY
    columns of the same name from different tables."""
    tags = set()
    for _, node in tree.walk():
        if "body:grouped" not in node.tags or len(node.kids) < 6:
            continue
        items, group, having = node.kids[0], node.kids[4], node.kids[5]
        if "group:by" in group.tags:
            grouped = group.kids[0].kids
        elif "group:ordinal" in group.tags:
            count = group.render().count(",") + 1
            grouped = [unaliased(i) for i in items.kids[:count]]
        else:
            continue
        sqls = {g.render() for g in grouped}
        names = [g.render().rsplit(".", 1)[-1] for g in grouped if "ref" in g.tags]
        if len(set(names)) < len(names):  # x1.d and x2.d
            tags.add("group:same-name-columns")
        for part in (items, having):
            for _, n in part.walk():
                if "agg:call" in n.tags and any("ref" in r.tags and r.render() in sqls
                                                for _, r in n.walk()):
                    tags.add("agg:of-grouped-column")
            if ungrouped_ref(part, sqls):  # PostgreSQL accepts it: depends on a grouped key
                tags.add("group:functional-dependency")
    return tags


def ungrouped_ref(node, grouped_sqls):
    """Whether `node` names a column outside both aggregates and grouped expressions."""
    if node.render() in grouped_sqls or "agg:call" in node.tags:
        return False
    if "ref" in node.tags:
        return True
    return any(ungrouped_ref(k, grouped_sqls) for k in node.kids)


def unaliased(item):
    """A select item without its `AS name`."""
    return item.kids[0] if item.parts[-1:] and str(item.parts[-1]).startswith(" AS ") else item


def direction(rng):
    return rng.choice(["", "", " ASC", " DESC", " NULLS FIRST", " DESC NULLS LAST",
                       " ASC NULLS FIRST", " DESC NULLS FIRST"])


def default_name(node):
    """PostgreSQL's output name of a select item, when simple to know: a column's own name or
    an aggregate's function name."""
    sql = node.render()
    if "ref" in node.tags:
        return sql.rsplit(".", 1)[1]
    if "agg:call" in node.tags:
        return sql.split("(", 1)[0]
    return None
