"""Makes sure psycopg2 can be imported: Debian's python3-psycopg2 lives in /usr/bin/python3's
packages, not in every python3 (ctest may run a pyenv python). Call `ensure_psycopg2(__file__)`
at the top of an entry script, before importing the fuzzer's other modules."""

import importlib.util
import os
import sys

SYSTEM_PYTHON = "/usr/bin/python3"


def ensure_psycopg2(script):
    if importlib.util.find_spec("psycopg2") is not None:
        return
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and \
            os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(script), *sys.argv[1:]])
    raise SystemExit("psycopg2 is missing: apt-get install python3-psycopg2")
