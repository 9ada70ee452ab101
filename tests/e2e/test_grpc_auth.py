"""JWT authorization on the gRPC API (docs/auth.md, docs/grpc.md) against a running sluice with
api.auth and api.grpc: every method of sluice.v1.Sluice, the typed services and reflection
needs `authorization: Bearer <token>` metadata and refuses as REST does (UNAUTHENTICATED with
the same reasons, PERMISSION_DENIED with the same messages); health stays open; a narrowed
token sees only its rows and fields through every method, live changes included. The bad
tokens come from tests/auth/bad_tokens.py, the good ones from `sluice token`."""

import os
import sys


def _reexec_with_grpc():
    """Debian's python3-grpcio (and python3-jwt for the token corpus) live in /usr/bin/python3's
    packages, not in every python3. Done before importing test_grpc, which would re-exec
    itself instead."""
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
    except ImportError:
        system_python = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system_python) and \
                os.path.exists(system_python):
            os.execv(system_python, [system_python, os.path.abspath(__file__), *sys.argv[1:]])
        raise


_reexec_with_grpc()

import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402

import grpc  # noqa: E402

import auth_keys  # noqa: E402
import harness  # noqa: E402
from test_grpc import Events, stubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AUTH = auth_keys.AUTH
PY = auth_keys.PY

# app_name e2e: the stubs of test_grpc compile <home>/grpc/e2e.proto.
CONFIG = """
app_name: e2e
home_dir: ./home
connections:
  - {name: local, kind: files, path: ./data, format: csv}
sources:
  - name: products
    connection: local
    schema:
      - {name: id, type: int, nullable: false}
      - {name: owner, type: string}
      - {name: title, type: string}
      - {name: price, type: decimal}
      - {name: qty, type: int, nullable: false}
    primary_key: [id]
  - name: notes
    connection: local
    schema:
      - {name: id, type: int, nullable: false}
      - {name: text, type: string}
    primary_key: [id]
endpoints:
  - {name: products, path: /products, table: products}
  - {name: notes, path: /notes, table: notes}
api:
  host: 127.0.0.1
  rest: {port: 0}
  grpc: {port: 0}
  auth:
    jwt_secret: "%(secret)s"
    jwks_file: ./keys/jwks.json
    audience: sluice
    issuer: https://idp.example
"""

PRODUCTS = "id,owner,title,price,qty\n" + "".join(
    "%d,%s,item %d,%d.50,%d\n" % (i, "alice" if i % 3 == 0 else "bob", i, i, i)
    for i in range(1, 31))

# alice's products, without price and qty.
NARROW = {"endpoints": {"products": {"filter": {"owner": "alice"},
                                     "fields": ["id", "title", "owner"]}}}
VISIBLE = {"id", "owner", "title"}
PRICE_DENIED = "field 'price' of endpoint products is not accessible"


def sendable(token):
    """Whether a token can travel as an ASCII metadata value (printable, no padding)."""
    return all(" " <= c <= "~" for c in token) and token == token.strip()


class GrpcAuth(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        keys = auth_keys.Keys(self.workdir)
        self.keys = keys
        self.secret, self.secret_file = keys.secret, keys.secret_file
        self.rsa, self.ec = keys.rsa, keys.ec
        self.write("data/products/part1.csv", PRODUCTS)
        self.write("data/notes/part1.csv", "id,text\n1,hello\n")
        self.s = self.sluice(CONFIG % {"secret": self.secret}).start()
        self.all = self.token("all")
        self.s.wait_for(lambda: self.rest_count(self.all) == 30, what="load")
        match = re.search(r"gRPC API listening on [^ ]+:(\d+)", self.s.logs())
        self.assertIsNotNone(match, self.s.logs())
        self.grpc_port = match.group(1)
        self.home = os.path.join(self.workdir, "home")
        self.channel = None
        self.connect()

    def connect(self):
        """A fresh channel and stubs (the transport drops a connection that sent metadata over
        its limit, and calls racing that close fail with UNAVAILABLE)."""
        if self.channel is not None:
            self.channel.close()
        self.channel = grpc.insecure_channel("127.0.0.1:%s" % self.grpc_port)
        grpc.channel_ready_future(self.channel).result(timeout=60)
        self.pb, pb_grpc = stubs("sluice", self.home)
        self.common = pb_grpc.SluiceStub(self.channel)
        self.app, app_grpc = stubs("app", self.home)
        self.products = app_grpc.ProductsServiceStub(self.channel)
        self.notes = app_grpc.NotesServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    # -- helpers ---------------------------------------------------------------------------

    def token(self, access, ttl="1h"):
        r = subprocess.run([harness.SLUICE, "token", "-c", self.s.config, "--access",
                            access if isinstance(access, str) else json.dumps(access),
                            "--ttl", ttl, "--subject", "tester"],
                           cwd=self.workdir, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def rest_count(self, token):
        status, text, _ = self.s.request("POST", "/products/count", "{}",
                                         {"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, text)
        return json.loads(text)["count"]

    @staticmethod
    def bearer(token):
        return (("authorization", "Bearer " + token),)

    def refused(self, call, code, what=""):
        """The RpcError `call` (a unary call, or the first message of a stream) ends with."""
        with self.assertRaises(grpc.RpcError, msg=what) as caught:
            answer = call()
            if hasattr(answer, "__next__"):
                next(answer)
        self.assertEqual(caught.exception.code(), code,
                         "%s: %s" % (what, caught.exception.details()))
        return caught.exception.details()

    # -- tests -----------------------------------------------------------------------------

    def test_every_bad_token_is_refused_with_its_reason(self):
        entries = self.keys.bad_tokens(os.path.join(self.workdir, "corpus.jsonl"))
        pb, app = self.pb, self.app
        calls = (
            ("Query", lambda md: self.common.Query(
                pb.QueryRequest(endpoint="products"), metadata=md, timeout=60)),
            ("Count", lambda md: self.common.Count(
                pb.CountRequest(endpoint="products"), metadata=md, timeout=60)),
            ("Subscribe", lambda md: self.common.Subscribe(
                pb.SubscribeRequest(endpoint="products", snapshot=True), metadata=md,
                timeout=60)),
            ("typed Query", lambda md: self.products.Query(
                app.QueryRequest(), metadata=md, timeout=60)),
        )
        checked = 0
        for entry in entries:
            token = entry["token"]
            if not sendable(token):
                continue
            expected = entry["reason"] if token else "missing token"
            for name, call in calls:
                what = "%s (%s)" % (entry["name"], name)
                if len(token) > 7000:
                    # Near or over gRPC's default metadata limit (8 KiB in all): refused by the
                    # transport before any handler ("received initial metadata size exceeds
                    # limit"), or by Sluice when it fits.
                    with self.assertRaises(grpc.RpcError, msg=what) as caught:
                        answer = call(self.bearer(token))
                        if hasattr(answer, "__next__"):
                            next(answer)
                    code = caught.exception.code()
                    if code == grpc.StatusCode.UNAUTHENTICATED:
                        self.assertEqual(caught.exception.details(), expected, what)
                    else:
                        self.assertIn(code, (grpc.StatusCode.RESOURCE_EXHAUSTED,
                                             grpc.StatusCode.UNAVAILABLE), what)
                    self.connect()
                    continue
                details = self.refused(lambda: call(self.bearer(token)),
                                       grpc.StatusCode.UNAUTHENTICATED, what)
                self.assertEqual(details, expected, what)
                self.assertNotIn(self.secret, details)
            checked += 1
        self.assertGreaterEqual(checked, 50)

        # No metadata at all: "missing token" from every method but health's.
        for name, call in calls + (
                ("ListEndpoints", lambda md: self.common.ListEndpoints(
                    pb.ListEndpointsRequest(), metadata=md)),
                ("GetSchema", lambda md: self.common.GetSchema(
                    pb.GetSchemaRequest(endpoint="products"), metadata=md)),
                ("Explain", lambda md: self.common.Explain(
                    pb.ExplainRequest(endpoint="products"), metadata=md)),
                ("typed Count", lambda md: self.products.Count(app.CountRequest(), metadata=md)),
                ("typed Get", lambda md: self.products.Get(app.ProductsGetRequest(id=3),
                                                           metadata=md)),
                ("typed Subscribe", lambda md: self.products.Subscribe(
                    app.SubscribeRequest(snapshot=True), metadata=md))):
            details = self.refused(lambda: call(()), grpc.StatusCode.UNAUTHENTICATED, name)
            self.assertEqual(details, "missing token", name)
        # Another scheme is no bearer token either.
        details = self.refused(lambda: self.common.Count(
            pb.CountRequest(endpoint="products"), metadata=(("authorization", "Basic eDp5"),)),
            grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(details, "missing token")

        # Health stays open.
        hpb, hpb_grpc = stubs("health")
        health = hpb_grpc.HealthStub(self.channel)
        for service in ("", "sluice.v1.Sluice", "sluice.endpoints.ProductsService"):
            self.assertEqual(health.Check(hpb.HealthCheckRequest(service=service)).status,
                             hpb.HealthCheckResponse.SERVING, service)

        # Reflection needs a token; any valid one may read the contracts.
        rpb, rpb_grpc = stubs("reflection")
        reflection = rpb_grpc.ServerReflectionStub(self.channel)
        ask = [rpb.ServerReflectionRequest(list_services="")]
        with self.assertRaises(grpc.RpcError) as caught:
            list(reflection.ServerReflectionInfo(iter(ask), timeout=60))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(caught.exception.details(), "missing token")
        narrow = self.token(NARROW)
        answers = list(reflection.ServerReflectionInfo(iter(ask), timeout=60,
                                                       metadata=self.bearer(narrow)))
        self.assertIn("sluice.endpoints.ProductsService",
                      [s.name for s in answers[0].list_services_response.service])

        # And a good token passes where the bad ones did not.
        for name, call in calls[:2] + calls[3:]:
            call(self.bearer(self.all))

    def test_narrowed_token_sees_only_its_rows_and_fields(self):
        pb, app = self.pb, self.app
        token = self.token(NARROW)
        md = self.bearer(token)

        # Endpoints and schemas: only what the token allows.
        listed = self.common.ListEndpoints(pb.ListEndpointsRequest(), metadata=md)
        self.assertEqual([e.name for e in listed.endpoints], ["products"])
        self.assertEqual([(f.name, f.proto_name) for f in listed.endpoints[0].fields],
                         [("id", "id"), ("owner", "owner"), ("title", "title")])
        schema = self.common.GetSchema(pb.GetSchemaRequest(endpoint="products"), metadata=md)
        self.assertEqual(schema.endpoint, listed.endpoints[0])
        everything = self.common.ListEndpoints(pb.ListEndpointsRequest(),
                                               metadata=self.bearer(self.all))
        self.assertEqual([e.name for e in everything.endpoints], ["products", "notes"])
        self.assertEqual(len(everything.endpoints[0].fields), 5)

        # Common Query: alice's rows, visible fields only, exactly as REST answers the token.
        body = {"$filter": {"id": {"$lt": 10}}}
        answer = self.common.Query(pb.QueryRequest(endpoint="products",
                                                   query_json=json.dumps(body)), metadata=md)
        records = [json.loads(r) for r in answer.records]
        self.assertEqual(records, [{"id": i, "owner": "alice", "title": "item %d" % i}
                                   for i in (3, 6, 9)])
        status, text, _ = self.s.request("POST", "/products/query", json.dumps(body),
                                         {"Authorization": "Bearer " + token})
        self.assertEqual((status, json.loads(text)), (200, records))
        answer = self.common.Query(pb.QueryRequest(endpoint="products",
                                                   query_json='{"$limit": 100}'), metadata=md)
        self.assertEqual(len(answer.records), 10)
        self.assertTrue(all(set(json.loads(r)) == VISIBLE for r in answer.records))

        # Count and Explain.
        count = lambda flt="": self.common.Count(  # noqa: E731
            pb.CountRequest(endpoint="products", filter_json=flt), metadata=md).count
        self.assertEqual(count(), 10)
        self.assertEqual(count('{"owner": "bob"}'), 0)
        self.assertEqual(count('{"id": {"$gt": 15}}'), 5)
        plan = self.common.Explain(pb.ExplainRequest(endpoint="products"), metadata=md)
        self.assertIn("plan", json.loads(plan.plan_json))

        # Typed Query, Count and Get: hidden fields are absent (qty, not optional: its default).
        page = self.products.Query(app.QueryRequest(query_json='{"$limit": 100}'), metadata=md)
        self.assertEqual([r.id for r in page.records], list(range(3, 31, 3)))
        for r in page.records:
            self.assertEqual((r.owner, r.title), ("alice", "item %d" % r.id))
            self.assertFalse(r.HasField("price"))
            self.assertEqual(r.qty, 0)
        self.assertEqual(self.products.Count(app.CountRequest(), metadata=md).count, 10)
        got = self.products.Get(app.ProductsGetRequest(id=3), metadata=md)
        self.assertEqual((got.id, got.owner, got.title, got.HasField("price"), got.qty),
                         (3, "alice", "item 3", False, 0))
        full = self.products.Get(app.ProductsGetRequest(id=3), metadata=self.bearer(self.all))
        self.assertEqual((full.price, full.qty), ("3.50", 3))
        details = self.refused(lambda: self.products.Get(app.ProductsGetRequest(id=4), metadata=md),
                               grpc.StatusCode.NOT_FOUND)  # bob's: does not exist for alice
        self.assertEqual(details, "no products record with id = 4")

        # Filtering or ordering on a hidden field: PERMISSION_DENIED, as REST's 403.
        hidden_filter = '{"price": {"$gt": 1}}'
        for name, call in (
                ("Query", lambda: self.common.Query(pb.QueryRequest(
                    endpoint="products", query_json='{"$filter": %s}' % hidden_filter),
                    metadata=md)),
                ("Query order", lambda: self.common.Query(pb.QueryRequest(
                    endpoint="products", query_json='{"$order_by": {"price": "desc"}}'),
                    metadata=md)),
                ("Count", lambda: self.common.Count(pb.CountRequest(
                    endpoint="products", filter_json=hidden_filter), metadata=md)),
                ("Explain", lambda: self.common.Explain(pb.ExplainRequest(
                    endpoint="products", query_json='{"$filter": %s}' % hidden_filter),
                    metadata=md)),
                ("Subscribe", lambda: self.common.Subscribe(pb.SubscribeRequest(
                    endpoint="products", filter_json=hidden_filter), metadata=md)),
                ("typed Query", lambda: self.products.Query(app.QueryRequest(
                    query_json='{"$filter": %s}' % hidden_filter), metadata=md)),
                ("typed Count", lambda: self.products.Count(app.CountRequest(
                    filter_json=hidden_filter), metadata=md)),
                ("typed Subscribe", lambda: self.products.Subscribe(app.SubscribeRequest(
                    filter_json=hidden_filter), metadata=md))):
            details = self.refused(call, grpc.StatusCode.PERMISSION_DENIED, name)
            self.assertEqual(details, PRICE_DENIED, name)

        # A forbidden endpoint: PERMISSION_DENIED everywhere; unknown ones list only allowed.
        for name, call in (
                ("GetSchema", lambda: self.common.GetSchema(
                    pb.GetSchemaRequest(endpoint="notes"), metadata=md)),
                ("Query", lambda: self.common.Query(pb.QueryRequest(endpoint="notes"),
                                                    metadata=md)),
                ("Count", lambda: self.common.Count(pb.CountRequest(endpoint="/notes"),
                                                    metadata=md)),
                ("Subscribe", lambda: self.common.Subscribe(pb.SubscribeRequest(endpoint="notes"),
                                                            metadata=md)),
                ("typed Query", lambda: self.notes.Query(app.QueryRequest(), metadata=md)),
                ("typed Get", lambda: self.notes.Get(app.NotesGetRequest(id=1), metadata=md)),
                ("typed Subscribe", lambda: self.notes.Subscribe(app.SubscribeRequest(),
                                                                 metadata=md))):
            details = self.refused(call, grpc.StatusCode.PERMISSION_DENIED, name)
            self.assertEqual(details, "this token does not allow endpoint notes", name)
        details = self.refused(lambda: self.common.Query(pb.QueryRequest(endpoint="nope"),
                                                         metadata=md), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(details, "unknown endpoint 'nope' (endpoints: products)")

        # A token that hides the key cannot fetch by it.
        titles = self.bearer(self.token({"endpoints": {"products": {"fields": ["title"]}}}))
        details = self.refused(lambda: self.products.Get(app.ProductsGetRequest(id=3),
                                                         metadata=titles),
                               grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(details, "field 'id' of endpoint products is not accessible, so rows "
                                  "cannot be fetched by it")

    def test_narrowed_subscriptions_see_only_their_rows_and_fields(self):
        pb, app = self.pb, self.app
        md = self.bearer(self.token(NARROW))
        common = Events(self.common.Subscribe(
            pb.SubscribeRequest(endpoint="products", filter_json='{"id": {"$gt": 20}}',
                                snapshot=True), metadata=md))
        typed_call = self.products.Subscribe(app.SubscribeRequest(snapshot=True), metadata=md)
        typed = Events(typed_call)

        snapshot = [common.next() for _ in range(4)]
        self.assertEqual([json.loads(e.new_record) for e in snapshot],
                         [{"id": i, "owner": "alice", "title": "item %d" % i}
                          for i in (21, 24, 27, 30)])
        self.assertTrue(all(e.snapshot for e in snapshot))
        self.assertEqual(common.next().kind, pb.CHANGE_KIND_SNAPSHOT_COMPLETE)
        snapshot = [typed.next() for _ in range(10)]
        self.assertEqual([e.new_record.id for e in snapshot], list(range(3, 31, 3)))
        self.assertTrue(all(not e.new_record.HasField("price") and e.new_record.qty == 0
                            for e in snapshot))
        self.assertEqual(typed.next().kind, app.CHANGE_KIND_SNAPSHOT_COMPLETE)

        # bob's new row is not alice's: only her insert arrives; then her row leaving the
        # filter (now bob's) arrives as a delete.
        self.write("data/products/part1.csv", "32,bob,bob's,1,1\n", mode="a")
        self.write("data/products/part1.csv", "33,alice,new,2,2\n", mode="a")
        event = common.next()
        self.assertEqual((event.kind, json.loads(event.new_record)),
                         (pb.CHANGE_KIND_INSERT, {"id": 33, "owner": "alice", "title": "new"}))
        event = typed.next()
        self.assertEqual(event.kind, app.CHANGE_KIND_INSERT)
        self.assertEqual((event.new_record.id, event.new_record.title, event.new_record.qty,
                          event.new_record.HasField("price")), (33, "new", 0, False))
        self.write("data/products/part1.csv", "33,bob,given away,2,2\n", mode="a")
        event = common.next()
        self.assertEqual((event.kind, json.loads(event.old_record), event.new_record),
                         (pb.CHANGE_KIND_DELETE, {"id": 33, "owner": "alice", "title": "new"}, ""))
        event = typed.next()
        self.assertEqual((event.kind, event.old_record.id, event.HasField("new_record")),
                         (app.CHANGE_KIND_DELETE, 33, False))
        self.assertTrue(common.items.empty() and typed.items.empty())
        common.call.cancel()
        typed_call.cancel()


if __name__ == "__main__":
    harness.main()
