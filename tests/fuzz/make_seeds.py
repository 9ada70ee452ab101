#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (docs/fuzzing.md): realistic inputs
taken from the docs and the unit tests, in each target's input format. Rerun after changing a
format; files are overwritten, other files in the corpus directories are left alone.

  tests/fuzz/make_seeds.py [--rsa-key PEM --ec-key PEM]

HS256 tokens are signed with the fuzz shop's secret (fuzz_shop.h) by PyJWT (python3-jwt). The
RS256/ES256 seed tokens need the private halves of the keys in fuzz_keys.h, which were not
kept: without --rsa-key/--ec-key those seeds are left as they are.
"""
import argparse
import json
import os
import struct
import zlib

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "sluice-fuzz-secret-0123456789abcdef"
FAR = 4102444800  # 2100-01-01
NOW = 1750000000  # jwt_fuzz's clock


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def hs256(claims, headers=None):
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=headers)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63) if n >= 0 else ((-n) << 1) - 1


def lp(b):
    if isinstance(b, str):
        b = b.encode()
    return varint(len(b)) + b


# ---- query_json: mode byte + body
def query_json():
    seeds = {
        "query_simple": 'q{"$filter": {"title": "item 5"}}',
        "query_docs": 'q{"$filter": {"price": {"$gte": 10, "$lt": 100}, "$or": [{"title": {"$in": ["blue", "zz"]}}, {"active": true}], "body": {"$contains": "blue shoes"}}, "$order_by": {"created": "desc", "id": "asc"}, "$limit": 5, "$skip": 1}',
        "count_null": 'c{"$filter": {"big": null}}',
        "explain_prefix": 'e{"$filter": {"title": {"$prefix": "item"}, "score": {"$ne": null}}}',
        "filter_types": 'f{"$not": {"body": {"$matches_any": "red fox"}}, "created": {"$gte": "2023-11-15T00:00:00Z"}, "day": {"$lt": "1970-02-01"}, "wait": {"$gt": "PT1S"}}',
        "order_text": "ocreated:desc,id",
        "order_json": 'o{"price": "asc", "title": "desc"}',
        "query_odd_types": 'q{"$filter": {"place": {"x": 1, "y": -0.5}, "meta": {"a": 1}, "blob": "AP8Q", "count": {"$in": [1, 18446744073709551615]}}, "$after": "abc"}',
        "query_nested": 'q{"$filter": {"$and": [{"id": {"$nin": [1, 2, 3]}}, {"$or": [{"price": "20.00"}, {"score": "NaN"}]}]}}',
        "count_paged": 'c{"$filter": {"active": false}, "$limit": 3, "$skip": 2}',
        "empty": "q",
    }
    for name, text in seeds.items():
        write("query_json", name, text)


def tokens():
    return {
        "all": hs256({"exp": FAR, "sub": "admin", "access": "all"}),
        "rows": hs256({"exp": FAR, "sub": "shop", "access": {"endpoints": {
            "products": {"filter": {"active": True}, "fields": ["id", "title", "price", "active"]},
            "log": {"filter": {"price": {"$gte": 10.1}}}}}}),
        "expired": hs256({"exp": 1000, "access": "all"}),
    }


# ---- rest_api: METHOD \n TARGET \n AUTHORIZATION \n BODY
def rest_api():
    t = tokens()
    seeds = {
        "index": "GET\n/\n\n",
        "list_ordered": "GET\n/products?limit=3&order_by=price:desc\n\n",
        "get_by_id": "GET\n/products/7\n\n",
        "head_negative_id": "HEAD\n/products/%2D5\n\n",
        "query": 'POST\n/products/query\n\n{"$filter": {"price": {"$gte": 1}}, "$order_by": {"price": "desc"}, "$limit": 3}',
        "query_text": 'POST\n/products/query\n\n{"$filter": {"body": {"$contains": "blue shoes"}}, "$limit": 2}',
        "count_log": 'POST\n/ops/log/count\n\n{"$filter": {"title": "blue"}}',
        "explain": 'POST\n/products/explain\n\n{"$filter": {"active": true, "created": {"$gt": "2023-11-14T22:00:00Z"}}}',
        "live": "GET\n/products/live?filter=%7B%22price%22%3A%7B%22%24gt%22%3A10%7D%7D&snapshot=false\n\n",
        "delete_not_allowed": "DELETE\n/products\n\n",
        "featured": "GET\n/products/featured?limit=2\n\n",
        "openapi": "GET\n/openapi.json\n\n",
        "docs": "GET\n/docs/\n\n",
        "health": "GET\n/health\n\n",
        "auth_all": "GET\n/products?limit=2\nBearer " + t["all"] + "\n",
        "auth_rows": "POST\n/products/query\nBearer " + t["rows"] + '\n{"$order_by": {"price": "desc"}}',
        "auth_rows_index": "GET\n/\nBearer " + t["rows"] + "\n",
        "auth_mint": "POST\n/auth/token\nBearer " + t["all"] + '\n{"access": {"endpoints": {"products": {"filter": {"active": true}, "fields": ["id", "title"]}}}, "ttl": "15m"}',
        "auth_missing": "GET\n/products\n-\n",
        "auth_expired": "GET\n/products/1\nBearer " + t["expired"] + "\n",
        "auth_garbage": "GET\n/products/1\nBearer abc.def.ghi\n",
    }
    for name, text in seeds.items():
        write("rest_api", name, text)


def query_string():
    seeds = {
        "filter": "filter=%7B%22title%22%3A%22blue%22%7D&limit=2",
        "order_text": "order_by=price:desc,id&limit=5&skip=2",
        "order_json": "order_by=%7B%22created%22%3A%22desc%22%7D&limit=3",
        "raw_json": 'filter={"body":{"$contains":"shoes"}}&snapshot=true',
        "bad_limit": "limit=abc",
        "cursor": "after=xyz&limit=1",
        "score": "filter=%7B%22score%22%3A%7B%22%24gte%22%3A0%7D%7D&order_by=score:desc&limit=4",
        "plus_space": "filter=%7B%22title%22%3A%22red+hat%22%7D",
        "bad_percent": "filter=%7",
    }
    for name, text in seeds.items():
        write("query_string", name, text)


def http_request():
    t = tokens()
    body = '{"$filter":{"title":"blue"}}'
    seeds = {
        "get": "GET /products?limit=2 HTTP/1.1\r\nHost: x\r\n\r\n",
        "post": "POST /products/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        "pipelined": "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /products/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "live": "GET /products/live?snapshot=false HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        "chunked": "POST /ops/log/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
        "http10": "GET /health HTTP/1.0\r\n\r\n",
        "auth": "GET /products?limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % t["rows"],
        "head": "HEAD /products/featured HTTP/1.1\r\nHost: x\r\n\r\n",
        "malformed": "GET /products HTTP/9.9\r\n\r\n",
    }
    for name, text in seeds.items():
        write("http_request", name, text)


def live_filter():
    seeds = {
        "all": b"\x00{}",
        "range": b'\x09{"price": {"$gte": 10}}',
        "prefix": b'\x12{"title": {"$prefix": "item"}}',
        "full_text": b'\x1b{"body": {"$contains": "blue"}}',
        "or_null": b'\x2c{"$or": [{"active": true}, {"big": null}]}',
        "float": b'\x45{"score": {"$gt": 0}}',
        "time": b'\x8e{"created": {"$lt": "2023-11-15T10:00:00Z"}, "active": false}',
        "in": b'\xf7{"id": {"$in": [1, 5, 30]}}',
        "not_in_null": b'\x21{"$not": {"title": {"$in": ["zz", null]}}}',
        "decimal_forms": b'\x63{"price": {"$in": ["20", 20.0, "-37.50"]}}',
    }
    for name, data in seeds.items():
        write("live_filter", name, data)


def jwt_seeds(rsa_key, ec_key):
    t = tokens()
    none = jwt.encode({"exp": FAR, "access": "all"}, None, algorithm="none") if hasattr(jwt, "encode") else ""
    seeds = {
        "hs256_all": "r" + t["all"],
        "hs256_rows": "r" + t["rows"],
        "expired": "r" + t["expired"],
        "alg_none": "r" + none,
        "signed_all": 's{"alg":"HS256","typ":"JWT"}\n{"exp":4102444800,"access":"all","sub":"me"}',
        "signed_claims": 's{"alg":"HS256","kid":"k1"}\n{"exp":1750000100,"nbf":1749999000,"iat":1749999000,"aud":["fuzz-aud"],"iss":"fuzz-iss","access":{"endpoints":{"products":{"filter":{"price":{"$gte":10.1}}}}}}',
        "signed_duplicate": 's{"alg":"HS256"}\n{"exp":4102444800,"access":"all","access":{"endpoints":{}}}',
        "issue_all": 'i"all"',
        "issue_rows": 'i{"endpoints":{"products":{"filter":{"price":{"$gte":10.10}},"fields":["id","price"]}}}',
        "bearer": "bBearer abc.def.ghi",
        "bearer_case": "bbearer   " + t["all"],
    }
    with open(os.path.join(HERE, "fuzz_keys.h")) as f:
        keys = f.read()
    jwks = keys.split('kFuzzJwks[] = R"json(')[1].split(')json"')[0]
    ec_pem = keys.split('kFuzzEcPublicPem[] = R"pem(')[1].split(')pem"')[0]
    seeds["jwks"] = "k" + jwks
    seeds["pem"] = "k" + ec_pem
    if rsa_key and ec_key:
        rsa = open(rsa_key).read()
        ec = open(ec_key).read()
        claims = {"exp": FAR, "sub": "rs", "access": "all"}
        seeds["rs256"] = "r" + jwt.encode(claims, rsa, algorithm="RS256", headers={"kid": "rsa1"})
        seeds["es256"] = "r" + jwt.encode(claims, ec, algorithm="ES256", headers={"kid": "ec1"})
        seeds["es256_pem_claims"] = "r" + jwt.encode(
            {"exp": FAR, "aud": "fuzz-aud", "iss": "fuzz-iss", "access": {"endpoints": {"log": {}}}},
            ec, algorithm="ES256")
    for name, text in seeds.items():
        write("jwt", name, text)


def access_claim():
    seeds = {
        "all": '"all"',
        "listed": '{"endpoints":{"products":{}}}',
        "rows_fields": '{"endpoints":{"products":{"filter":{"active":true}},"log":{"fields":["id","title"]}}}',
        "decimal": '{"endpoints":{"products":{"filter":{"price":{"$gte":10.1}},"fields":["id","price","title"]},"featured":{"filter":{"body":{"$contains":"blue"}}}}}',
        "unknown": '{"endpoints":{"products":{"fields":["title"]},"unknown":{}}}',
        "bad_filter": '{"endpoints":{"products":{"filter":{"nope":1}}}}',
        "hidden_id": '{"endpoints":{"products":{"fields":["price"],"filter":{"id":{"$lt":10}}}}}',
    }
    for name, text in seeds.items():
        write("access_claim", name, text)


def config():
    valid = open(os.path.join(HERE, "..", "..", "examples", "quickstart", "sluice.yaml")).read()
    seeds = {
        "quickstart": "p" + valid,
        "files": """papp_name: shop
home_dir: /tmp/x
connections:
  - name: gen
    kind: generator
    events: 100
    rate: 0
    seed: 7
  - name: local
    kind: files
    path: ./data
    format: jsonl
    on_error: skip
sources:
  - name: bid
    connection: gen
  - name: products
    connection: local
    table: products
    schema:
      - {name: id, type: int, nullable: false}
      - {name: title, type: string}
    primary_key: [id]
endpoints:
  - name: products
    path: /products
    table: products
    primary_key: [id]
    indexes: [{fields: [title]}, {full_text: title}]
api:
  host: 127.0.0.1
  rest: {port: 9999}
  threads: 4
""",
        "postgres": """papp_name: pg
connections:
  - {name: pg, kind: postgres, url: "postgres://me:secret@127.0.0.1:5432/shop", slot: shop_slot, snapshot: never}
sources:
  - {name: orders, connection: pg, table: public.orders, columns: [id, total]}
endpoints:
  - {name: orders, path: /orders, table: orders, default_indexes: true}
api:
  grpc: {port: 50051}
  auth: {jwt_secret: "${JWT_SECRET:-0123456789abcdef0123456789abcdef}", audience: shop, issuer: me}
log:
  kind: local
  fsync: 50ms
  segment_bytes: 1048576
  max_age_seconds: 3600
""",
        "sql": """pconnections:
  - {name: gen, kind: generator}
sources:
  - {name: bid, connection: gen}
sql: |
  SELECT auction, count(*) AS bids, max(price) AS top INTO auction_stats FROM bid GROUP BY auction;
endpoints:
  - {name: stats, path: /stats, table: auction_stats}
log: {kind: jetstream, servers: "nats://127.0.0.1:4222", stream: sluice_x, replicas: 3}
""",
        "load_file": "lconnections: [{name: g, kind: generator}]\nsources: [{name: bid, connection: g}]\nendpoints: [{name: bids, path: /bids, table: bid}]\n",
        "env": "ehome_dir: ${HOME:-/tmp}\napp_name: ${A}\nempty: ${EMPTY:-fallback}\nliteral: $${NOT_A_VAR}\n",
        "typo": "pconections: []\n",
        "bad_yaml": "p[unclosed: {\n",
    }
    for name, text in seeds.items():
        write("config", name, text)


HEADER = "id,name,price,ts,ok,data,f,d,dur,j,u,pt,txt\n"


def csv_seeds():
    seeds = {
        "all_types": "ab" + HEADER + '1,alpha,1.50,2024-01-02T03:04:05Z,true,\\x00ff,1.5,2024-01-02,PT1H,"{""a"":1}",7,"(1,2)",hello\n2,,,,,,,,,,,,\n',
        "quoted": "zq" + 'id,name,txt\r\n3,"multi\nline","say ""hi"""\r\n4,"",plain\r\n',
        "bom_reordered": "\x01\x02" + "\ufeffname,extra,id\nbeta,x,5\n,y,6\n",
        "bad_rows": "\x07\x04" + "id,name\n1,a,b\n,b\nx,c\n9,\"d\"e\n10,ok\n",
        "incomplete": "\x10\x00" + "id,f\n1,NaN\n2,-Infinity\n3,1e308\n4,\"unterminated\n",
        "blank_lines": "\x20\x13" + "\n\nid,u\n\n1,18446744073709551615\n\n2,0\n",
        "duplicate_header": "\x03\x03" + "id,id\n1,2\n",
    }
    for name, text in seeds.items():
        write("csv", name, text.encode("utf-8"))


def jsonl_seeds():
    full = {"id": 1, "name": "a", "price": "1.50", "ts": "2024-01-02T03:04:05Z", "ok": True,
            "data": "AP8=", "f": 1.5, "d": "2024-01-02", "dur": "PT1H", "j": {"a": [1, 2]},
            "u": 18446744073709551615, "pt": {"x": 1, "y": 2}, "txt": "hi"}
    seeds = {
        "all_types": "ab" + json.dumps(full) + "\n" + '{"id": 2}\n',
        "blank_crlf": "\x05\x01" + '\r\n  \n{"id": 3, "name": "crlf"}\r\n{"id":4}\n',
        "bad_lines": "\x11\x06" + '{"id": 1\n[1,2]\n{"name": "no id"}\n{"id": "x"}\n{"id": 5, "price": 1e400}\n{"id": 6}\n',
        "bom_partial": "\x09\x08" + "\ufeff" + '{"id": 7, "f": -0.0, "ts": "2024-01-02T03:04:05.123456+05:30"}\n{"id": 8',
        "types_as_strings": "\x30\x02" + '{"id": "9007199254740993", "u": "42", "f": "NaN", "ok": "yes", "pt": [1, 2], "dur": "1h30m"}\n',
    }
    for name, text in seeds.items():
        write("jsonl", name, text.encode("utf-8"))


def pgoutput():
    u8 = lambda v: struct.pack(">B", v)
    u16 = lambda v: struct.pack(">H", v)
    u32 = lambda v: struct.pack(">I", v)
    u64 = lambda v: struct.pack(">Q", v)
    cstr = lambda s: s.encode() + b"\0"

    def tuple_(cols):
        out = u16(len(cols))
        for c in cols:
            if c is None:
                out += b"n"
            elif c == "<unchanged>":
                out += b"u"
            else:
                out += b"t" + u32(len(c.encode())) + c.encode()
        return out

    rel = (b"R" + u32(16384) + cstr("public") + cstr("orders") + b"d" + u16(3) +
           u8(1) + cstr("id") + u32(23) + u32(0xFFFFFFFF) +
           u8(0) + cstr("total") + u32(1700) + u32(0x000a0006) +
           u8(0) + cstr("note") + u32(25) + u32(0xFFFFFFFF))
    insert = b"I" + u32(16384) + b"N" + tuple_(["1", "19.90", "first order"])
    seeds = {
        "begin": b"B" + u64(0x16B374D848) + u64(800000000000000) + u32(731),
        "commit": b"C" + u8(0) + u64(0x16B374D848) + u64(0x16B374D878) + u64(800000000000000),
        "relation": rel,
        "insert": insert,
        "update_key": b"U" + u32(16384) + b"K" + tuple_(["1", None, None]) + b"N" + tuple_(["2", "5.00", "<unchanged>"]),
        "update_full": b"U" + u32(16384) + b"O" + tuple_(["1", "19.90", None]) + b"N" + tuple_(["1", "20.00", "x"]),
        "update_new": b"U" + u32(16384) + b"N" + tuple_(["1", "21.00", None]),
        "delete": b"D" + u32(16384) + b"K" + tuple_(["1", None, None]),
        "truncate": b"T" + u32(2) + u8(3) + u32(16384) + u32(16390),
        "origin": b"O" + u64(0x1000) + cstr("upstream"),
        "type": b"Y" + u32(70000) + cstr("public") + cstr("mood"),
        "message": b"M" + u8(1) + u64(0x2000) + cstr("sluice") + u32(5) + b"hello",
        "xlogdata": b"w" + u64(0x16B374D848) + u64(0x16B374D900) + u64(800000000000000) + insert,
        "keepalive": b"k" + u64(0x16B374D900) + u64(800000000000000) + u8(1),
        "lsn": b"16/B374D848",
        "stream_start": b"S" + u32(1) + u8(1),
    }
    for name, data in seeds.items():
        write("pgoutput", name, data)


PG_OIDS = [16, 17, 18, 20, 21, 23, 25, 26, 114, 700, 701, 1042, 1043, 1082, 1083, 1114, 1184,
           1186, 1266, 1700, 2950, 3802, 1000, 1001, 1005, 1007, 1016, 1009, 1021, 1022, 1182,
           1115, 1185, 1187, 1231, 2951, 199, 3807, 600, "enum", "domain", "enum[]", "domain[]"]


def pg_text():
    def sel(oid):
        return chr(43 + PG_OIDS.index(oid))  # printable, and % 43 is the index
    seeds = {
        "bool": (16, "t"),
        "bytea": (17, "\\x00ff10"),
        "int8_min": (20, "-9223372036854775808"),
        "float_nan": (700, "NaN"),
        "float_big": (701, "1.5e300"),
        "date_leap": (1082, "2024-02-29"),
        "date_bc": (1082, "0044-03-15 BC"),
        "timestamp": (1114, "2024-01-02 03:04:05.123456"),
        "timestamptz": (1184, "2024-01-02 03:04:05+05:30"),
        "timestamptz_lmt": (1184, "1890-01-01 00:00:00+00:19:32"),
        "interval": (1186, "1 year 2 mons -3 days +04:05:06.5"),
        "numeric": (1700, "12345.678900"),
        "numeric_nan": (1700, "NaN"),
        "uuid": (2950, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
        "jsonb": (3802, '{"a": [1, 2]}'),
        "bool_array": (1000, "{t,f,NULL}"),
        "int4_bounds": (1007, "[0:2]={1,2,3}"),
        "text_array": (1009, '{"a b","c\\"d",NULL,"NULL"}'),
        "tstz_array": (1185, '{"2024-01-02 03:04:05+00"}'),
        "interval_array": (1187, '{"1 day","-00:00:01"}'),
        "numeric_2d": (1231, "{{1.5,2},{3,NULL}}"),
        "point": (600, "(1,2)"),
        "enum": ("enum", "happy"),
        "domain": ("domain", "1e10"),
        "enum_array": ("enum[]", "{sad,happy}"),
        "domain_array": ("domain[]", "{1.5,NaN}"),
        "bytea_array": (1001, '{"\\\\x00","\\\\xff"}'),
        "time": (1083, "12:34:56.5"),
    }
    for name, (oid, text) in seeds.items():
        write("pg_text", name, sel(oid) + text)


def frame(seq, payload):
    seq_bytes = struct.pack("<Q", seq)
    crc = zlib.crc32(payload, zlib.crc32(seq_bytes))
    return struct.pack("<II", len(payload), crc) + seq_bytes + payload


def change_log():
    def built(first_byte, payloads, damage=0, where=0, value=0):
        out = bytes([first_byte, len(payloads)])
        for p in payloads:
            out += bytes([len(p)]) + p
        return out + bytes([damage]) + struct.pack("<H", where) + bytes([value])
    seeds = {
        "one_segment": bytes([0b0000]) + built(0, [b"entry 1", b"entry 2", b"", b"entry 4"]),
        "two_segments_torn": bytes([0b0010]) + built(0, [b"a", b"b"]) + built(0, [b"c", b"d", b"e"], 2, 40),
        "flipped_first": bytes([0b0010]) + built(1, [b"x" * 20, b"y"]) + built(0, [b"z"], 1, 7, 0x40),
        "garbage_tail": bytes([0b0000]) + built(2, [b"payload"], 3, 0, 9),
        "gap": bytes([0b0100]) + built(0, [b"1"]) + built(4, [b"2"]) + built(0, [b"3"]),
        "raw": bytes([0b1000, 0]) + struct.pack("<H", 40) + frame(1, b"raw entry") + b"\x00" * 15,
        "stray_file": bytes([0b0001]) + built(0, [b"only"]) + b"abcdefghijklmnopqrst",
    }
    for name, data in seeds.items():
        write("change_log", name, data)


def product_key(i):
    return b"\x01" + struct.pack(">Q", (i + (1 << 63)) & ((1 << 64) - 1))


def product_row(i, title):
    # 14 fields, all NULL but id (zigzag varint) and title (length-prefixed bytes).
    bitmap = bytes([0xFC, 0x3F])
    return bitmap + varint(zigzag(i)) + lp(title.encode())


def table(tid, changes):
    out = varint(tid) + varint(len(changes))
    for kind, key, row in changes:
        out += bytes([kind])
        if kind in (0, 1):
            out += lp(key)
        if kind != 1:
            out += lp(row)
    return out


def log_entry():
    def entry(epoch, served_tables, rest_tables=b"\x00", positions=(), state=(), meta=()):
        served = varint(len(served_tables)) + b"".join(served_tables)
        out = b"\x01" + varint(epoch) + varint(len(served)) + served + rest_tables
        out += varint(len(positions)) + b"".join(lp(k) + lp(v) for k, v in positions)
        out += varint(len(state))
        for statement, stage, rows in state:
            out += varint(statement) + varint(stage) + varint(len(rows))
            for side, weight, row in rows:
                out += bytes([side]) + varint(zigzag(weight)) + lp(row)
        out += varint(len(meta)) + b"".join(lp(k) + lp(v) for k, v in meta)
        return out
    products = table(0, [(0, product_key(1), product_row(1, "one")),
                         (0, product_key(2), product_row(2, "two")),
                         (1, product_key(3), b"")])
    log = table(1, [(2, b"", product_row(5, "copy")), (2, b"", product_row(5, "copy")),
                    (3, b"", product_row(5, "copy"))])
    seeds = {
        "upserts": entry(1, [products]),
        "multiset": entry(2, [log]),
        "both_with_rest": entry(3, [products, log], b"\x01" + table(2, [(0, b"k", b"r")]),
                                positions=[("postgres:pg", "16/B374D848")],
                                state=[(0, 1, [(0, 1, b"\x00\x01"), (1, -2, b"")])],
                                meta=[("log_seq", "3")]),
        "served_prefix": (lambda e: e[:e.index(products) + len(products)])(entry(4, [products])),
        "garbage_row": entry(5, [table(0, [(0, product_key(9), b"\xff\xff\x01\x02")])]),
        "empty": entry(0, []),
        "bad_format": b"\x02\x00\x00",
    }
    for name, data in seeds.items():
        write("log_entry", name, data)


def value_codec():
    types = ["boolean", "int", "uint", "float", "decimal", "string", "text", "binary", "date",
             "timestamp", "duration", "json", "point"]
    t = types.index
    seeds = {
        "text_int_big": (0, t("int"), "9007199254740993"),
        "text_decimal": (0, t("decimal"), "-12.50"),
        "text_decimal_exp": (0, t("decimal"), "1.5e-30"),
        "text_timestamp": (0, t("timestamp"), "2024-01-02T03:04:05.5+01:00"),
        "text_duration": (0, t("duration"), "1h30m"),
        "text_binary": (0, t("binary"), "AP8Q"),
        "text_float_negzero": (0, t("float"), "-0"),
        "text_date_first": (0, t("date"), "0001-01-01"),
        "text_point": (0, t("point"), "(1.5, -2)"),
        "text_json": (0, t("json"), ' {"a" : [1, 2.50]} '),
        "text_bool": (0, t("boolean"), "yes"),
        "text_uint_max": (0, t("uint"), "18446744073709551615"),
        "json_int_string": (1, t("int"), '"9007199254740993"'),
        "json_float_negzero": (1, t("float"), "-0.0"),
        "json_decimal": (1, t("decimal"), "1.10"),
        "json_point": (1, t("point"), '{"x": 1, "y": 2}'),
        "json_timestamp": (1, t("timestamp"), '"2024-01-02T03:04:05Z"'),
        "row_all_null": (2, 0, b"\xff\x1f"),
        "row_int": (2, 0, bytes([0xfd, 0x1f]) + varint(zigzag(-5))),
        "key_int": (3, 0, b"\x01\x01" + struct.pack(">Q", (1 << 63) + 5)),
    }
    for name, (mode, ty, data) in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        write("value_codec", name, bytes([mode << 4 | ty]) + data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rsa-key")
    parser.add_argument("--ec-key")
    args = parser.parse_args()
    query_json()
    rest_api()
    query_string()
    http_request()
    live_filter()
    jwt_seeds(args.rsa_key, args.ec_key)
    access_claim()
    config()
    csv_seeds()
    jsonl_seeds()
    pgoutput()
    pg_text()
    change_log()
    log_entry()
    value_codec()


if __name__ == "__main__":
    main()
