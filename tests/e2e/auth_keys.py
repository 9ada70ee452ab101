"""Key material for the authorization tests: an HS256 secret, an RSA and an EC P-256 key made
with openssl, and a JWKS of their public halves (kids rsa-1 and ec-1) made by
tests/auth/sign.py — what tests/auth/bad_tokens.py expects."""

import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
AUTH = os.path.join(HERE, "..", "auth")
PY = "/usr/bin/python3"  # Debian's python3-jwt and python3-cryptography live here


class Keys:
    def __init__(self, workdir):
        keys = os.path.join(workdir, "keys")
        os.makedirs(keys, exist_ok=True)
        self.secret = "s3cret-" + "x" * 40
        self.secret_file = os.path.join(keys, "secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret)
        self.rsa = os.path.join(keys, "rsa.pem")
        self.ec = os.path.join(keys, "ec.pem")
        self.rsa_public = os.path.join(keys, "rsa.pub")
        run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", self.rsa])
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", self.ec])
        for private, public in ((self.rsa, self.rsa_public), (self.ec, os.path.join(keys, "ec.pub"))):
            run(["openssl", "pkey", "-in", private, "-pubout", "-out", public])
        self.jwks_file = os.path.join(keys, "jwks.json")
        with open(self.jwks_file, "w") as f:
            f.write(run([PY, os.path.join(AUTH, "sign.py"), "jwks",
                         "--rsa", self.rsa_public + ":rsa-1",
                         "--ec", os.path.join(keys, "ec.pub") + ":ec-1"]))

    def bad_tokens(self, out):
        """The corpus of tokens Sluice must refuse, as dicts {"name", "token", "reason"}."""
        run([PY, os.path.join(AUTH, "bad_tokens.py"), "--secret-file", self.secret_file,
             "--rsa-key", self.rsa, "--rsa-kid", "rsa-1", "--ec-key", self.ec, "--ec-kid", "ec-1",
             "--audience", "sluice", "--issuer", "https://idp.example", "--out", out])
        import json
        with open(out) as f:
            return [json.loads(line) for line in f]


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
