#!/usr/bin/python3
"""Makes JWTs and JWKS documents with an implementation independent of Sluice (PyJWT, Debian's
python3-jwt + python3-cryptography; run with /usr/bin/python3).

  sign.py token --alg HS256|RS256|ES256|... --key FILE [--kid KID] --claims JSON [--raw]
      prints a token signed with the key in FILE (the secret's bytes for HS*, a private PEM
      otherwise); --raw signs the claims text byte for byte instead of PyJWT's serialization
  sign.py jwks --rsa PUBLIC_PEM[:KID] ... --ec PUBLIC_PEM[:KID] ...
      prints a JWKS document holding those public keys
  sign.py decode --key FILE --token TOKEN [--audience AUD] [--issuer ISS]
      checks an HS256 token (e.g. one `sluice token` issued) and prints its claims as JSON

bad_tokens.py imports the helpers below.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys

import jwt
from jwt.algorithms import get_default_algorithms
from cryptography.hazmat.primitives import serialization


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact_json(value):
    """JSON exactly as PyJWT writes a payload (so a claim's text inside a token is known)."""
    return json.dumps(value, separators=(",", ":"))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def load_private_key(path):
    return serialization.load_pem_private_key(read_bytes(path), password=None)


def sign_jws(signing_input, alg, key):
    """The raw signature of `signing_input` (bytes) by PyJWT's implementation of `alg`.
    `key`: bytes for HS*, a cryptography private key otherwise."""
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        return hmac.new(key, signing_input, digest).digest()
    return get_default_algorithms()[alg].sign(signing_input, key)


def build_token(header, payload, alg=None, key=None, signature=None):
    """A compact JWS from parts. header/payload: a dict (compact JSON), a str (raw JSON text)
    or bytes (raw segment bytes). Signed with alg+key unless `signature` (bytes) is given."""
    def segment(part):
        if isinstance(part, dict) or isinstance(part, list):
            part = compact_json(part)
        return b64url(part)

    signing_input = segment(header) + "." + segment(payload)
    if signature is None:
        signature = sign_jws(signing_input.encode(), alg, key) if alg else b""
    return signing_input + "." + b64url(signature)


def pyjwt_token(claims, alg, key, kid=None, headers=None):
    """A token made by PyJWT's own encoder."""
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(claims, key, algorithm=alg, headers=extra or None)


def public_jwk(public_pem_path, kid):
    key = serialization.load_pem_public_key(read_bytes(public_pem_path))
    name = type(key).__name__
    algorithm = get_default_algorithms()["RS256" if "RSA" in name else "ES256"]
    jwk = json.loads(algorithm.to_jwk(key))
    if kid:
        jwk["kid"] = kid
    jwk["use"] = "sig"
    return jwk


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token")
    token.add_argument("--alg", required=True)
    token.add_argument("--key", required=True)
    token.add_argument("--kid")
    token.add_argument("--claims", required=True)
    token.add_argument("--raw", action="store_true")
    jwks = sub.add_parser("jwks")
    jwks.add_argument("--rsa", action="append", default=[])
    jwks.add_argument("--ec", action="append", default=[])
    decode = sub.add_parser("decode")
    decode.add_argument("--key", required=True)
    decode.add_argument("--token", required=True)
    decode.add_argument("--audience")
    decode.add_argument("--issuer")
    args = parser.parse_args()

    if args.command == "token":
        key = read_bytes(args.key) if args.alg.startswith("HS") else load_private_key(args.key)
        if args.raw:
            header = {"alg": args.alg, "typ": "JWT"}
            if args.kid:
                header["kid"] = args.kid
            print(build_token(header, args.claims, args.alg, key))
        else:
            print(pyjwt_token(json.loads(args.claims), args.alg, key, kid=args.kid))
    elif args.command == "jwks":
        keys = []
        for spec in args.rsa + args.ec:
            path, _, kid = spec.partition(":")
            keys.append(public_jwk(path, kid))
        print(json.dumps({"keys": keys}))
    else:
        claims = jwt.decode(args.token, read_bytes(args.key), algorithms=["HS256"],
                            audience=args.audience, issuer=args.issuer,
                            options={"require": ["exp", "iat"]})
        print(compact_json(claims))


if __name__ == "__main__":
    sys.exit(main())
