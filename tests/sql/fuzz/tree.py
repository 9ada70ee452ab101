"""SQL as a tree of nodes, so one statement renders in two dialects (Sluice's, and the plain
PostgreSQL SELECT it is compared with) and can be shrunk node by node.

A node's `parts` are strings, child indexes (ints) and (sluice_text, postgres_text) pairs for
the few places where the dialects differ (INTO, TUMBLE/HOP). `type` is set on expression nodes
(a category from schema.TYPES); `optional` nodes may be dropped whole by the shrinker; list nodes
(`sep` set) may lose items; `tags` name the constructs a node uses (to recognise a bug's
shape)."""

import re

SLUICE = "sluice"
POSTGRES = "postgres"

_PLACEHOLDER = re.compile(r"\$(\d)")


class Node:
    __slots__ = ("parts", "kids", "type", "tags", "optional", "sep")

    def __init__(self, parts, kids=(), type=None, tags=(), optional=False, sep=None):
        self.parts = list(parts)
        self.kids = list(kids)
        self.type = type
        self.tags = frozenset(tags)
        self.optional = optional
        self.sep = sep

    def render(self, dialect=SLUICE):
        out = []
        for p in self.parts:
            if isinstance(p, int):
                out.append(self.kids[p].render(dialect))
            elif isinstance(p, tuple):
                out.append(p[0] if dialect == SLUICE else p[1])
            else:
                out.append(p)
        return "".join(out)

    def all_tags(self):
        tags = set(self.tags)
        for k in self.kids:
            tags |= k.all_tags()
        return tags

    def walk(self, path=()):
        """Yields (path, node) in pre-order; a path is the child indexes from the root."""
        yield path, self
        for i, k in enumerate(self.kids):
            yield from k.walk(path + (i,))

    def size(self):
        return 1 + sum(k.size() for k in self.kids)

    def __repr__(self):
        return "Node(%r)" % self.render()


def fmt(template, *kids, type=None, tags=(), optional=False):
    """A node from a template like "($0 + $1)". Literal text with `$` must use `text()`."""
    parts = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            parts.append(template[pos:m.start()])
        parts.append(int(m.group(1)))
        pos = m.end()
    if pos < len(template):
        parts.append(template[pos:])
    return Node(parts, kids, type=type, tags=tags, optional=optional)


def text(sql, type=None, tags=()):
    """A leaf: literal SQL text."""
    return Node([sql], type=type, tags=tags)


def dialects(sluice_sql, postgres_sql, tags=()):
    """A leaf whose text differs between the dialects."""
    return Node([(sluice_sql, postgres_sql)], tags=tags)


def join(nodes, sep, tags=()):
    """A list node: its children separated by `sep`."""
    parts = []
    for i in range(len(nodes)):
        if i:
            parts.append(sep)
        parts.append(i)
    return Node(parts, nodes, tags=tags, sep=sep)


def without_item(node, index):
    """A list node without its `index`-th item."""
    return join(node.kids[:index] + node.kids[index + 1:], node.sep, node.tags)


EMPTY = Node([])


def replaced(root, path, new):
    """A copy of `root` with the node at `path` replaced by `new` (the rest shared)."""
    if not path:
        return new
    kids = list(root.kids)
    kids[path[0]] = replaced(kids[path[0]], path[1:], new)
    return Node(root.parts, kids, type=root.type, tags=root.tags, optional=root.optional,
                sep=root.sep)


def node_at(root, path):
    for i in path:
        root = root.kids[i]
    return root


def to_dict(node):
    """A JSON-able form of a tree (so a stored repro can be shrunk again)."""
    return {"parts": [list(p) if isinstance(p, tuple) else p for p in node.parts],
            "kids": [to_dict(k) for k in node.kids], "type": node.type,
            "tags": sorted(node.tags), "optional": node.optional, "sep": node.sep}


def from_dict(d):
    parts = [tuple(p) if isinstance(p, list) else p for p in d["parts"]]
    return Node(parts, [from_dict(k) for k in d["kids"]], type=d["type"], tags=d["tags"],
                optional=d["optional"], sep=d["sep"])
