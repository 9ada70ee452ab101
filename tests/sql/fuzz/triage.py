"""Bugs found so far, recognised by shape: a bug's shape is the set of constructs (tree tags)
its shrunk statement still uses. A new failure whose statements use all of a known bug's
constructs is counted as that bug again instead of being shrunk; once a bug repeated
`block_after` times, statements of its shape are no longer generated."""

import json
import os
import threading

import report
from shrink import PROCESS_KINDS, closure

NOISE_TAGS = {"ref", "null", "agg:call", "from:table", "body:plain"}
NOISE_PREFIXES = ("lit:", "shape:")


def shape(tags):
    return frozenset(t for t in tags if t not in NOISE_TAGS and not t.startswith(NOISE_PREFIXES))


def failure_class(failure):
    return "process" if failure.kind in PROCESS_KINDS else failure.kind


class Bug:
    def __init__(self, number, title, cls, shapes, path):
        self.number = number
        self.title = title
        self.cls = cls
        self.shapes = [s for s in shapes if s]  # alternative tag sets; none: never recognised
        self.path = path
        self.hits = 1

    def matches(self, tags):
        return any(s <= tags for s in self.shapes)


class Registry:
    def __init__(self, out_dir, block_after=3):
        self.out_dir = out_dir
        self.block_after = block_after
        self.bugs = []
        self.known_before = []  # bugs of earlier runs (--known): recognised, never written
        self.lock = threading.Lock()

    def load_known(self, directory):
        """Shapes of the open bugs whose repro JSON files are in `directory` (earlier runs);
        a file with "fixed": true is left out."""
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(directory, name)) as f:
                d = json.load(f)
            if d.get("fixed"):  # a regression of a fixed bug must show up as new
                continue
            failure = d.get("failure") or {}
            statements = [s for s in d["statements"] if s["name"] == failure.get("statement")] \
                or d["statements"]
            # A curated "match_tags" (alternative tag sets) says best what the bug needs.
            shapes = [frozenset(m) for m in d["match_tags"]] if "match_tags" in d else \
                [shape(set().union(*[set(s["tags"]) for s in statements]))]
            cls = "process" if failure.get("kind") in PROCESS_KINDS else failure.get("kind")
            bug = Bug(name[:-5], d.get("title", name), cls, shapes, os.path.join(directory, name))
            bug.hits = 0
            self.known_before.append(bug)

    def known(self, failure, tags):
        """The known bug this failure of statements with `tags` looks like (hits counted)."""
        cls = failure_class(failure)
        with self.lock:
            for bug in self.known_before + self.bugs:
                if bug.cls == cls and bug.matches(tags):
                    bug.hits += 1
                    return bug
        return None

    def blocked(self, statement):
        tags = statement.tags
        with self.lock:
            return any(b.hits >= self.block_after and b.matches(tags)
                       for b in self.known_before + self.bugs)

    def add(self, case, failure, outcome, context, shrunk):
        """Registers a new bug from its (shrunk) case and writes its repro files."""
        st = case.by_name().get(failure.statement)
        statements = case.statements
        if st is not None:  # the failing statement and what it reads
            statements = [s for s in case.statements if s.name in closure(case, {st.name})]
        tags = shape(set().union(*[s.tags for s in statements]) if statements else set())
        with self.lock:
            number = len(self.bugs) + 1
            what = failure.kind + (" of " + st.shape if st is not None else "")
            title = "%s: %s" % (what, ", ".join(sorted(tags))[:70] or "(no distinctive construct)")
            if not shrunk:
                title += " (not shrunk)"
            bug = Bug(number, title, failure_class(failure), [tags], None)
            self.bugs.append(bug)
        bug.path = report.write(self.out_dir, number, title, case, failure, outcome, context)
        return bug
