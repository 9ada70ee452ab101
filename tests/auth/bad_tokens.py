#!/usr/bin/python3
"""Writes a corpus of JWTs that Sluice must refuse, as JSON lines {"name", "token", "reason"}
(reason: the public refusal of src/server/auth/jwt.h), and with --good also the tokens it
must accept ({"name", "token", "reason": null, "sub", "exp", "access"}, access being the
claim's exact JSON text).

Tokens are made with PyJWT and Python's own crypto (independent of Sluice). The reasons hold
for a verifier configured like this (what the unit and end-to-end tests set up):

  secret      the bytes of --secret-file               (api.auth.jwt_secret)
  JWKS        --rsa-key's public key as kid --rsa-kid,  (api.auth.jwks_file; make it with
              --ec-key's (P-256) as kid --ec-kid         sign.py jwks)
  audience    --audience, issuer --issuer, leeway 30 s, clock --now

Usage: bad_tokens.py --secret-file S --rsa-key RSA.pem --ec-key EC.pem --out corpus.jsonl
                     [--now SECONDS] [--good]
Keys are private PEMs; keys the verifier must not trust are generated here.
"""
import argparse
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign import (b64url, b64url_decode, build_token, compact_json,  # noqa: E402
                  load_private_key, pyjwt_token, read_bytes)

MISSING = "missing token"
MALFORMED = "malformed token"
ALG = "unsupported algorithm"
KEY = "unknown key"
SIGNATURE = "invalid signature"
EXPIRED = "token expired"
NOT_YET = "token not yet valid"
CLAIMS = "invalid claims"

DROP = object()  # claims(name=DROP) leaves the claim out


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def parts(token):
    return token.split(".")


def with_part(token, index, text):
    p = parts(token)
    p[index] = text
    return ".".join(p)


def flip_bit(segment):
    data = bytearray(b64url_decode(segment))
    data[len(data) // 2] ^= 0x01
    return b64url(bytes(data))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--rsa-key", required=True)
    ap.add_argument("--ec-key", required=True)
    ap.add_argument("--rsa-kid", default="rsa-1")
    ap.add_argument("--ec-kid", default="ec-1")
    ap.add_argument("--audience", default="sluice")
    ap.add_argument("--issuer", default="https://idp.example")
    ap.add_argument("--now", type=int, default=int(time.time()))
    ap.add_argument("--out", required=True)
    ap.add_argument("--good", action="store_true", help="also write the tokens to accept")
    args = ap.parse_args()

    now = args.now
    secret = read_bytes(args.secret_file)
    rsa_key = load_private_key(args.rsa_key)
    ec_key = load_private_key(args.ec_key)
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_ec = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.generate()

    access = {"endpoints": {"orders": {"filter": {"region": "eu", "total": {"$gte": 10.5}},
                                       "fields": ["id", "region", "total"]}}}
    base = {"sub": "alice", "iat": now, "exp": now + 3600, "aud": args.audience,
            "iss": args.issuer, "access": access}

    def claims(**changes):
        c = dict(base)
        for name, value in changes.items():
            if value is DROP:
                c.pop(name, None)
            else:
                c[name] = value
        return c

    def hs(c=None, **kw):
        return pyjwt_token(c if c is not None else base, "HS256", secret, **kw)

    def rs(c=None, key=rsa_key, kid=args.rsa_kid, **kw):
        return pyjwt_token(c if c is not None else base, "RS256", key, kid=kid, **kw)

    def es(c=None, key=ec_key, kid=args.ec_kid, **kw):
        return pyjwt_token(c if c is not None else base, "ES256", key, kid=kid, **kw)

    hs_good, rs_good, es_good = hs(), rs(), es()
    hs_header = {"alg": "HS256", "typ": "JWT"}
    rs_header = {"alg": "RS256", "typ": "JWT", "kid": args.rsa_kid}
    bad = []

    def add(name, token, reason):
        bad.append({"name": name, "token": token, "reason": reason})

    # --- the token's shape
    add("empty", "", MISSING)
    add("single space", " ", MALFORMED)
    add("whitespace only", " \t\r\n", MALFORMED)
    add("lowercase bearer prefix with junk", "bearer abc.def.ghi", MALFORMED)
    add("bearer prefix left on a good token", "Bearer " + hs_good, MALFORMED)
    add("word bearer alone", "bearer", MALFORMED)
    add("junk without dots", "notatoken", MALFORMED)
    add("two segments", ".".join(parts(hs_good)[:2]), MALFORMED)
    add("only dots", "..", MALFORMED)
    add("extra segment", hs_good + "." + parts(hs_good)[2], MALFORMED)
    add("trailing dot", hs_good + ".", MALFORMED)
    add("truncated in the payload", hs_good[:len(parts(hs_good)[0]) + 10], MALFORMED)
    add("leading whitespace", " " + hs_good, MALFORMED)
    add("trailing newline", hs_good + "\n", MALFORMED)
    add("non-base64 header", with_part(hs_good, 0, "!!!" + parts(hs_good)[0]), MALFORMED)
    add("padded header", with_part(hs_good, 0, parts(hs_good)[0] + "=="), MALFORMED)
    add("standard base64 alphabet in signature",
        with_part(hs_good, 2, "+/" + parts(hs_good)[2][2:]), MALFORMED)
    sig = parts(hs_good)[2]  # 43 characters: the last one carries 2 unused bits
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    add("non-canonical signature encoding (unused bits set)",
        with_part(hs_good, 2, sig[:-1] + last[last.index(sig[-1]) ^ 1]), MALFORMED)
    add("NUL byte inside", hs_good[:20] + "\x00" + hs_good[20:], MALFORMED)
    add("non-ASCII character inside", hs_good[:20] + "\u00e9" + hs_good[21:], MALFORMED)
    add("non-JSON header", build_token("not json", base, "HS256", secret), MALFORMED)
    add("non-JSON payload", build_token(hs_header, "hello", "HS256", secret), MALFORMED)
    add("empty payload", build_token(hs_header, "", "HS256", secret), MALFORMED)
    add("header is an array", build_token(["HS256"], base, "HS256", secret), MALFORMED)
    add("payload is a string", build_token(hs_header, '"all"', "HS256", secret), MALFORMED)
    add("payload is invalid UTF-8", build_token(hs_header, b'{"sub":"\xff"}', "HS256", secret),
        MALFORMED)
    add("duplicate alg in header (RS256 first, HS256 signed with the RSA public key)",
        build_token('{"alg":"RS256","typ":"JWT","kid":"%s","alg":"HS256"}' % args.rsa_kid,
                    base, "HS256", public_pem(rsa_key)), MALFORMED)
    add("duplicate claim in payload",
        build_token(hs_header, compact_json(base)[:-1] + ',"access":"all"}', "HS256", secret),
        MALFORMED)
    add("typ other than JWT", hs(headers={"typ": "at+jwt"}), MALFORMED)
    add("crit header", hs(headers={"crit": ["exp"]}), MALFORMED)
    add("kid is a number", build_token({"alg": "RS256", "typ": "JWT", "kid": 7}, base, "RS256",
                                       rsa_key), MALFORMED)
    add("huge token (> 64 KiB)", hs(claims(access={"endpoints": {
        "e%05d" % i: {"fields": ["a", "b"]} for i in range(3000)}})), MALFORMED)

    # --- algorithms
    for spelling in ("none", "None", "NONE", "nOnE"):
        add("alg %s" % spelling, build_token({"alg": spelling, "typ": "JWT"}, base), ALG)
    add("alg none by PyJWT", pyjwt_token(base, "none", None), ALG)
    add("alg none keeping a valid signature",
        with_part(build_token({"alg": "none"}, base), 2, parts(hs_good)[2]), ALG)
    add("missing alg", build_token({"typ": "JWT"}, base, "HS256", secret), ALG)
    add("alg empty", build_token({"alg": "", "typ": "JWT"}, base, "HS256", secret), ALG)
    add("alg null", build_token({"alg": None, "typ": "JWT"}, base, "HS256", secret), ALG)
    add("alg is a number", build_token({"alg": 256, "typ": "JWT"}, base, "HS256", secret), ALG)
    add("alg lowercase hs256 (libjwt alone would accept it)",
        build_token({"alg": "hs256", "typ": "JWT"}, base, "HS256", secret), ALG)
    add("alg Rs256 mixed case",
        build_token({"alg": "Rs256", "typ": "JWT", "kid": args.rsa_kid}, base, "RS256", rsa_key),
        ALG)
    add("alg HS384", pyjwt_token(base, "HS384", secret), ALG)
    add("alg HS512", pyjwt_token(base, "HS512", secret), ALG)
    add("alg RS512", pyjwt_token(base, "RS512", rsa_key, kid=args.rsa_kid), ALG)
    add("alg PS256", pyjwt_token(base, "PS256", rsa_key, kid=args.rsa_kid), ALG)
    add("alg ES384 with a P-384 key", pyjwt_token(base, "ES384", p384, kid=args.ec_kid), ALG)
    add("alg EdDSA", pyjwt_token(base, "EdDSA", ed), ALG)

    # --- algorithm confusion: HMAC keyed with public key text; checked against the secret only
    add("HS256 signed with the RSA public key PEM (algorithm confusion)",
        build_token(hs_header, base, "HS256", public_pem(rsa_key)), SIGNATURE)
    add("HS256 signed with the RSA public key PEM and its kid",
        build_token({"alg": "HS256", "typ": "JWT", "kid": args.rsa_kid}, base, "HS256",
                    public_pem(rsa_key)), SIGNATURE)
    add("HS256 signed with the EC public key PEM",
        build_token(hs_header, base, "HS256", public_pem(ec_key)), SIGNATURE)

    # --- keys
    add("RS256 signed by another RSA key", rs(key=other_rsa), SIGNATURE)
    add("RS256 signed by another RSA key, no kid", rs(key=other_rsa, kid=None), SIGNATURE)
    add("ES256 signed by another P-256 key", es(key=other_ec), SIGNATURE)
    add("ES256 signed with a P-384 key (wrong curve)", es(key=p384), SIGNATURE)
    add("HS256 with a wrong secret", pyjwt_token(base, "HS256", secret + b"x"), SIGNATURE)
    add("unknown kid", rs(kid="no-such-key"), KEY)
    add("RS256 naming the EC key's kid", rs(kid=args.ec_kid), KEY)
    add("ES256 naming the RSA key's kid", es(kid=args.rsa_kid), KEY)
    add("embedded jwk header with the attacker's key",
        rs(key=other_rsa, kid=None, headers={"jwk": json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(other_rsa.public_key()))}),
        SIGNATURE)
    add("jku header pointing elsewhere", rs(key=other_rsa, headers={
        "jku": "https://attacker.example/jwks.json"}), SIGNATURE)

    # --- tampering (each part, each algorithm)
    admin = b64url(compact_json(claims(access="all")))
    for alg, good in (("HS256", hs_good), ("RS256", rs_good), ("ES256", es_good)):
        add("%s tampered payload" % alg, with_part(good, 1, admin), SIGNATURE)
        add("%s tampered signature" % alg, with_part(good, 2, flip_bit(parts(good)[2])),
            SIGNATURE)
    add("HS256 tampered header", with_part(hs_good, 0, b64url(compact_json(
        {"alg": "HS256", "typ": "JWT", "kid": "x"}))), SIGNATURE)
    add("RS256 tampered header", with_part(rs_good, 0, b64url(compact_json(
        dict(rs_header, x=1)))), SIGNATURE)
    add("truncated signature", with_part(hs_good, 2, b64url(b64url_decode(
        parts(hs_good)[2])[:-4])), SIGNATURE)
    add("empty signature", with_part(hs_good, 2, ""), SIGNATURE)
    add("signature of another token", with_part(hs_good, 2, parts(hs(claims(sub="bob")))[2]),
        SIGNATURE)
    add("RS256 signature moved onto an ES256 token", with_part(es_good, 2, parts(rs_good)[2]),
        SIGNATURE)

    # --- claims (validly signed)
    add("expired", hs(claims(exp=now - 3600, iat=now - 7200)), EXPIRED)
    add("expired just beyond the leeway", hs(claims(exp=now - 31)), EXPIRED)
    add("expired RS256", rs(claims(exp=now - 3600)), EXPIRED)
    add("nbf in the future", hs(claims(nbf=now + 3600)), NOT_YET)
    add("iat in the future", hs(claims(iat=now + 3600)), CLAIMS)
    add("missing exp", hs(claims(exp=DROP)), CLAIMS)
    add("exp as string", hs(claims(exp=str(now + 3600))), CLAIMS)
    add("exp null", hs(claims(exp=None)), CLAIMS)
    add("exp boolean", hs(claims(exp=True)), CLAIMS)
    add("nbf as string", hs(claims(nbf="0")), CLAIMS)
    add("missing access", hs(claims(access=DROP)), CLAIMS)
    add("access ALL uppercase", hs(claims(access="ALL")), CLAIMS)
    add("access array", hs(claims(access=["orders"])), CLAIMS)
    add("access null", hs(claims(access=None)), CLAIMS)
    add("wrong aud", hs(claims(aud="other")), CLAIMS)
    add("aud array without ours", hs(claims(aud=["other", "more"])), CLAIMS)
    add("missing aud", hs(claims(aud=DROP)), CLAIMS)
    add("wrong iss", hs(claims(iss="https://evil.example")), CLAIMS)
    add("missing iss", hs(claims(iss=DROP)), CLAIMS)
    add("sub is a number", hs(claims(sub=42)), CLAIMS)

    good = []

    def add_good(name, token, c):
        good.append({"name": name, "token": token, "reason": None, "sub": c.get("sub", ""),
                     "exp": int(c["exp"]), "access": compact_json(c["access"])})

    if args.good:
        add_good("HS256", hs_good, base)
        add_good("RS256 by kid", rs_good, base)
        add_good("ES256 by kid", es_good, base)
        add_good("RS256 without kid (the only RSA key)", rs(kid=None), base)
        add_good("ES256 without kid (the only EC key)", es(kid=None), base)
        for name, c in (("access all", claims(access="all")),
                        ("aud array holding ours", claims(aud=["other", args.audience])),
                        ("exp within the leeway", claims(exp=now - 10)),
                        ("nbf within the leeway", claims(nbf=now + 10)),
                        ("fractional exp", claims(exp=now + 100.75)),
                        ("no sub", claims(sub=DROP))):
            add_good(name, hs(c), c)

    with open(args.out, "w") as out:
        for entry in bad + good:
            out.write(json.dumps(entry) + "\n")
    print("%d bad and %d good tokens written to %s" % (len(bad), len(good), args.out),
          file=sys.stderr)


if __name__ == "__main__":
    main()
