"""A fixed-seed slice of the SQL fuzzer (fuzz_sql.py) for ctest: ~180 random statements in
mixes over PostgreSQL CDC, every result compared with PostgreSQL after the snapshot and after
each round of changes. Well under 3 minutes on 2 cores (no shrinking; a failure leaves
unshrunk reproductions in a temp dir named in the output).

Constructs of bugs still open in found/ are not generated (KNOWN_OPEN): remove a tag when its
bug is fixed, so the slice covers it again.

    python3 tests/sql/fuzz/test_fuzz_sql_slice.py --sluice build/sluice"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e"))
import python_env  # noqa: E402

python_env.ensure_psycopg2(__file__)

import shutil  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

import fuzz_sql  # noqa: E402
import harness  # noqa: E402

SEED = 20261203
STATEMENTS = 180

# generator tag -> the open bug (tests/sql/fuzz/found/) whose statements it marks
KNOWN_OPEN = {
    "cast:ts->text": "06 (a documented difference)",
    "cast:numeric-typmod": "11",
    "cast:float->num": "13",
}


class FuzzSlice(unittest.TestCase):
    def test_fixed_seed_slice_matches_postgres(self):
        out = tempfile.mkdtemp(prefix="sluice_fuzz_slice_")
        code = fuzz_sql.main(["--sluice", harness.SLUICE, "--seed", str(SEED), "--count",
                              str(STATEMENTS), "--minutes", "1.8", "--no-shrink", "--quiet",
                              "--skip-tags", ",".join(KNOWN_OPEN), "--out", out])
        self.assertEqual(code, 0, "the fuzz slice found mismatches or crashes; reproductions "
                                  "(not shrunk) in %s; shrink one with fuzz_sql.py --replay "
                                  "FILE --shrink" % out)
        shutil.rmtree(out, ignore_errors=True)  # kept only when the slice failed


if __name__ == "__main__":
    harness.main()
