#!/usr/bin/env python3
"""Randomized differential testing of Sluice's SQL against PostgreSQL 15 (SQLancer-style).

Each mix: fresh tables with random rows in a throwaway PostgreSQL, 3-8 random statements that
PostgreSQL runs and `sluice check` accepts (refusals counted by reason: the SQL roadmap), one
`sluice run` over PostgreSQL CDC serving every statement, rounds of random inserts, updates
and deletes, and after the snapshot and each round every endpoint compared with PostgreSQL's
answer. A mismatch or crash is shrunk and written as a reproduction under --out.

    python3 tests/sql/fuzz/fuzz_sql.py --sluice build/sluice --seed 1 --count 500
    python3 tests/sql/fuzz/fuzz_sql.py --sluice build/sluice --replay OUT/01-....json

--count is the number of statements generated; --minutes stops starting new mixes after that
long. Exit status: 0 when everything compared equal, 1 on any mismatch or crash."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_env  # noqa: E402

python_env.ensure_psycopg2(__file__)

import argparse  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import generator  # noqa: E402
import mixer  # noqa: E402
import pg_client  # noqa: E402
import pipeline  # noqa: E402
import sluice_process  # noqa: E402
import triage  # noqa: E402
from case import Case  # noqa: E402
from shrink import Shrinker, closure  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", required=True, help="the sluice binary (copied once at start)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=200, help="statements to generate")
    p.add_argument("--minutes", type=float, default=None, help="stop starting mixes after this")
    p.add_argument("--out", default=None, help="where repro files go (default: a temp dir)")
    p.add_argument("--jobs", type=int, default=1, help="mixes run in parallel")
    p.add_argument("--mix", default="3-8", help="statements per mix, MIN-MAX")
    p.add_argument("--max-internal", type=int, default=1,
                   help="statements with subqueries/CTEs/set operations/windows per mix (0: any)")
    p.add_argument("--shapes", default=",".join(generator.SHAPES),
                   help="statement shapes to generate, comma-separated (default: all)")
    p.add_argument("--probes", type=float, default=0.03,
                   help="share of constructs docs/sql.md does not list (for the roadmap)")
    p.add_argument("--shrink-seconds", type=float, default=240)
    p.add_argument("--shrink-trials", type=int, default=100)
    p.add_argument("--no-shrink", action="store_true")
    p.add_argument("--block-after", type=int, default=3,
                   help="stop generating a bug's shape after it repeated this often")
    p.add_argument("--known", action="append", default=[],
                   help="a directory of repro JSON files of open bugs (default: found/ beside "
                        "this script): failures of their shape are counted, not shrunk")
    p.add_argument("--no-known", action="store_true", help="treat every failure as new")
    p.add_argument("--skip-tags", default="",
                   help="comma-separated constructs (generator tags, e.g. agg:of-grouped-column) "
                        "whose statements are not generated: known root causes")
    p.add_argument("--only-mix", type=int, default=None,
                   help="run just this mix number of --seed (to reproduce one mix)")
    p.add_argument("--replay", default=None, help="run one case JSON written by a repro")
    p.add_argument("--shrink", action="store_true", help="with --replay: shrink it further")
    p.add_argument("--timeout", type=float, default=30, help="seconds to wait for Sluice")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--examples", action="store_true",
                   help="print the shortest statement for each refusal reason and type note")
    return p.parse_args(argv)


class Fuzzer:
    def __init__(self, args, server, binary, root):
        self.args = args
        self.server = server
        self.binary = binary
        self.root = root
        self.stats = mixer.Stats()
        self.out_dir = args.out or os.path.join(tempfile.gettempdir(), "sluice-fuzz-%d" % args.seed)
        self.registry = triage.Registry(self.out_dir, args.block_after)
        default_known = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "found")]
        for directory in [] if args.no_known else args.known or default_known:
            if os.path.isdir(directory):
                self.registry.load_known(directory)
        lo, hi = (int(x) for x in args.mix.split("-"))
        self.options = mixer.Options(mix_min=lo, mix_max=hi, max_internal=args.max_internal,
                                     generator=generator.Options(
                                         probes=args.probes, shapes=args.shapes.split(",")))
        self.skip_tags = {t for t in args.skip_tags.split(",") if t}
        self.started = time.time()
        self.next_mix = 0
        self.lock = threading.Lock()
        self.print_lock = threading.Lock()
        self.failed = False
        self.version = version(binary)

    def say(self, text, always=False):
        if always or not self.args.quiet:
            with self.print_lock:
                print(text, flush=True)

    def skip(self, statement):
        return bool(self.skip_tags & statement.tags) or self.registry.blocked(statement)

    def remaining(self):
        return self.args.count - self.stats.counts["generated"]

    def time_left(self):
        return self.args.minutes is None or time.time() - self.started < self.args.minutes * 60

    def take_mix_number(self):
        with self.lock:
            if self.args.only_mix is not None:
                if self.next_mix == self.args.only_mix:
                    return None
                self.next_mix = self.args.only_mix
                return self.next_mix
            if self.remaining() <= 0 or not self.time_left():
                return None
            self.next_mix += 1
            return self.next_mix

    def work(self, index):
        worker = pipeline.Worker(self.server, self.binary, self.root, index)
        while True:
            n = self.take_mix_number()
            if n is None:
                return
            self.run_mix(worker, n)

    def run_mix(self, worker, n):
        rng = random.Random("%d:%d" % (self.args.seed, n))  # each mix reproducible alone
        case, db, check_crashes = mixer.build_mix(rng, worker, self.stats, self.options,
                                                  skip_statement=self.skip,
                                                  budget=self.remaining)
        for statements, message in check_crashes:
            self.report_check_crash(n, statements, message)
        if case is None:
            return
        self.stats.add("mixes")
        self.stats.add("statements run", len(case.statements))
        outcome = pipeline.run_case(worker, case, self.args.timeout, db=db)
        if outcome.invalid:
            if outcome.invalid.startswith("refused"):  # check accepted it: a bug
                outcome.failures.append(pipeline.Failure("run-refused", None, 0, outcome.invalid))
            else:
                self.stats.add("mixes not comparable (%s)" % outcome.invalid.split(":")[0])
        failed = outcome.failed_statements()
        equal = [s.name for s in case.statements
                 if s.name not in failed and s.name not in outcome.pg_errors
                 and outcome.compared.get(s.name)]
        self.stats.add("compared equal", len(equal))
        self.stats.add("postgres failed at run time", len(outcome.pg_errors))
        for name, notes in outcome.type_notes.items():
            for note, column in notes:
                with self.stats.lock:
                    self.stats.type_notes[note] += 1
                    if name in case.by_name():
                        self.stats.keep_example(note, "column %s of %s" % (
                            column, case.by_name()[name].sluice_sql()))
        self.say("mix %d: %d statements, %d equal%s" % (
            n, len(case.statements), len(equal),
            "".join(", %s %s r%s" % (f.kind, f.statement or "", f.round)
                    for f in outcome.failures)))
        self.triage(worker, n, case, outcome)

    def triage(self, worker, n, case, outcome):
        """Each distinct failure: counted, then recognised as a known bug or shrunk and
        written as a new one."""
        seen = set()
        for failure in outcome.failures:
            key = (triage.failure_class(failure), failure.statement)
            if key in seen:
                continue
            seen.add(key)
            self.failed = True
            is_process = triage.failure_class(failure) == "process"
            self.stats.add("crashes" if is_process else "mismatches")
            bug = self.registry.known(failure, tags_of(case, failure))
            if bug is not None:
                self.say("  %s of %s: like bug %s (%d hits)" % (failure.kind, failure.statement,
                                                                bug.number, bug.hits))
                continue
            small, failure, outcome_small, shrunk = case, failure, outcome, False
            if not self.args.no_shrink:
                small, failure, outcome_small, shrunk = self.shrink(worker, case, failure,
                                                                    outcome)
                bug = self.registry.known(failure, tags_of(small, failure))
                if bug is not None:  # shrinking showed it is a known bug after all
                    self.say("  it is bug %s (%d hits)" % (bug.number, bug.hits))
                    continue
            context = "seed %d, mix %d, %s" % (self.args.seed, n, self.version)
            bug = self.registry.add(small, failure, outcome_small, context, shrunk)
            self.say("  NEW BUG %02d: %s\n    -> %s" % (bug.number, bug.title, bug.path),
                     always=True)

    def shrink(self, worker, case, failure, outcome):
        """(smaller case, its failure, its outcome, whether it shrank at all)."""
        self.say("  shrinking %s of %s ..." % (failure.kind, failure.statement))
        shrinker = Shrinker(worker, failure, self.args.shrink_seconds, self.args.shrink_trials,
                            timeout=min(self.args.timeout, 20), avoid_tags=self.skip_tags)
        small = shrinker.shrink(case)
        self.say("  shrunk to %s (statements, rows, changes) in %d trials"
                 % (small.size(), shrinker.trials))
        if shrinker.last_outcome is None:
            return case, failure, outcome, False
        same = [f for f in shrinker.last_outcome.failures
                if (f.statement, triage.failure_class(f)) ==
                (failure.statement, triage.failure_class(failure))]
        return small, (same or [failure])[0], shrinker.last_outcome, True

    def report_check_crash(self, n, statements, message):
        self.failed = True
        case = Case(statements, {}, [])
        failure = pipeline.Failure("check-crash", statements[-1].name, None, message)
        outcome = pipeline.Outcome()
        bug = self.registry.add(case, failure, outcome, "seed %d, mix %d, %s"
                                % (self.args.seed, n, self.version), False)
        self.say("  NEW BUG %02d (sluice check crashed): %s" % (bug.number, bug.path), always=True)

    def summary(self):
        c = self.stats.counts
        lines = ["", "== fuzz_sql summary: seed %d, %d mixes, %.0f s, %s ==" % (
            self.args.seed, c["mixes"], time.time() - self.started, self.version)]
        order = ["generated", "skipped (known bug shape)", "postgres-invalid",
                 "too large (> %d rows)" % mixer.MAX_RESULT_ROWS, "postgres-valid",
                 "refused by check", "dropped with a refused input", "check crashed",
                 "accepted by check", "statements run", "compared equal",
                 "postgres failed at run time", "mismatches", "crashes"]
        for key in order + sorted(k for k in c if k not in order and k != "mixes"):
            lines.append("  %-40s %6d" % (key, c[key]))
        lines.append("refusals by reason (sluice check):")
        for reason, count in self.stats.refused.most_common():
            lines.append("  %5d  %s" % (count, reason))
            if self.args.examples:
                lines.append("           e.g. %s" % self.stats.examples[reason])
        if self.stats.pg_invalid:
            lines.append("invalid in PostgreSQL (generator misses, discarded):")
            for reason, count in self.stats.pg_invalid.most_common(10):
                lines.append("  %5d  %s" % (count, reason))
        if self.stats.type_notes:
            lines.append("type differences in equal results (PostgreSQL -> Sluice, not failed):")
            for note, count in self.stats.type_notes.most_common(10):
                lines.append("  %5d  %s" % (count, note))
                if self.args.examples and note in self.stats.examples:
                    lines.append("           e.g. %s" % self.stats.examples[note])
        lines.append("new bugs (%d):" % len(self.registry.bugs))
        for b in self.registry.bugs:
            lines.append("  %02d  %dx  %s\n       %s" % (b.number, b.hits, b.title, b.path))
        hit = [b for b in self.registry.known_before if b.hits]
        if hit:
            lines.append("known bugs hit again (--known):")
            for b in hit:
                lines.append("  %dx  %s" % (b.hits, b.path))
        return "\n".join(lines)


def tags_of(case, failure):
    """The tags of the failing statement and what it reads (every statement's for a
    process-level failure)."""
    names = closure(case, {failure.statement}) or {s.name for s in case.statements}
    return set().union(*[s.tags for s in case.statements if s.name in names])


def version(binary):
    try:
        return subprocess.run([binary, "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or "sluice (unknown version)"
    except (OSError, subprocess.TimeoutExpired):
        return "sluice (unknown version)"


def replay(args, server, binary, root):
    """Runs a repro's case again; with --shrink, shrinks it further (its first failure) and
    writes the result under --out."""
    with open(args.replay) as f:
        case = Case.from_json(f.read())
    worker = pipeline.Worker(server, binary, root, 0)
    outcome = pipeline.run_case(worker, case, args.timeout)
    print("invalid: %s" % outcome.invalid if outcome.invalid else
          "compared equal: %s" % outcome.compared)
    for f in outcome.failures:
        print("%s of %s, round %s:\n%s" % (f.kind, f.statement, f.round, f.detail))
    if args.shrink and outcome.failures:
        failure = outcome.failures[0]
        shrinker = Shrinker(worker, failure, args.shrink_seconds, args.shrink_trials,
                            timeout=min(args.timeout, 20))
        small = shrinker.shrink(case)
        final = shrinker.last_outcome or outcome
        failure = next((f for f in final.failures if f.statement == failure.statement), failure)
        out_dir = args.out or os.path.dirname(os.path.abspath(args.replay))
        registry = triage.Registry(out_dir)
        bug = registry.add(small, failure, final, "replay of %s, %s" % (
            os.path.basename(args.replay), version(binary)), shrinker.last_outcome is not None)
        print("shrunk to %s in %d trials: %s" % (small.size(), shrinker.trials, bug.path))
    return 1 if outcome.failures or outcome.invalid else 0


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # so `finally` and atexit clean up PostgreSQL and sluice


def main(argv=None):
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop_on_sigterm)
    root = tempfile.mkdtemp(prefix="sluice_fuzz_")
    server = None
    try:
        binary = sluice_process.stable_copy(os.path.abspath(args.sluice), root)
        server = pg_client.Server()
        if args.replay:
            return replay(args, server, binary, root)
        fuzzer = Fuzzer(args, server, binary, root)
        threads = [threading.Thread(target=fuzzer.work, args=(i,), daemon=True)
                   for i in range(args.jobs)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(1)
        except KeyboardInterrupt:
            print("interrupted: finishing the summary", flush=True)
        print(fuzzer.summary(), flush=True)
        return 1 if fuzzer.failed else 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
