"""The gRPC API (docs/grpc.md) against a running sluice: the common service sluice.v1.Sluice
answering exactly what REST answers, the typed per-endpoint services generated from the
schemas (client stubs generated here from the .proto the server writes), health checking,
server reflection, and Subscribe with snapshot and live changes."""

import os
import sys


def _reexec_with_grpc():
    """Debian's python3-grpcio lives in /usr/bin/python3's packages, not in every python3."""
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

import atexit  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool  # noqa: E402

import harness  # noqa: E402
import reaper  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACTS = os.path.join(REPO, "src", "server", "grpc", "proto")

CONFIG = """
app_name: e2e
home_dir: ./home
connections:
  - {name: gen, kind: generator, events: 10000, seed: 5}
  - {name: local, kind: files, path: ./data, format: csv}
sources:
  - {name: person, connection: gen}
  - {name: bid, connection: gen}
  - name: products
    connection: local
    schema:
      - {name: id, type: int, nullable: false}
      - {name: title, type: string}
      - {name: price, type: decimal}
      - {name: added, type: timestamp}
      - {name: blob, type: binary}
      - {name: attrs, type: json}
      - {name: ratio, type: float}
    primary_key: [id]
endpoints:
  - {name: people, path: /people, table: person}
  - {name: bids, path: /bids, table: bid}
  - {name: products, path: /products, table: products}
api:
  host: 127.0.0.1
  rest: {port: 0}
  grpc: {port: 0}
"""

PRODUCTS = (
    "id,title,price,added,blob,attrs,ratio\n"
    '1,"Shoe, blue",19.90,2026-11-23T10:15:30.5Z,aGk=,"{""size"": 42}",0.5\n'
    "2,Hat,150,,,,\n"
    "3,Sock,2.50,1969-12-31T23:59:58.5Z,,,-1.25\n"
)

# Generated client modules, compiled once per test process (their content never changes).
_STUBS = {}
_STUB_DIR = None


def temp_dir(prefix):
    """A temp directory deleted when the test process ends, however it ends."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    reaper.watch_path(path)
    return path


def compile_protos(include_dir, files):
    """Python stubs of `files` (relative to include_dir), importable by their module names.
    Debian's grpc_tools bundles a protoc too old for proto3 `optional`, so protoc with the
    grpc_python_plugin is preferred."""
    global _STUB_DIR
    if _STUB_DIR is None:
        _STUB_DIR = temp_dir("sluice_grpc_stubs_")
        sys.path.insert(0, _STUB_DIR)
    protoc, plugin = shutil.which("protoc"), shutil.which("grpc_python_plugin")
    if protoc and plugin:
        cmd = [protoc, "-I", include_dir, "--python_out", _STUB_DIR, "--grpc_out", _STUB_DIR,
               "--plugin=protoc-gen-grpc=" + plugin, *files]
    else:
        cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I", include_dir,
               "--python_out", _STUB_DIR, "--grpc_python_out", _STUB_DIR, *files]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError("protoc failed: %s\n%s" % (" ".join(cmd), done.stderr))
    importlib.invalidate_caches()


def stubs(name, home=None):
    """(messages module, services module) of: "sluice" and "app" (from the files the server
    wrote under <home>/grpc), "health" and "reflection" (Sluice's copies of the public
    contracts, compiled from a flat directory so they do not shadow the grpc package)."""
    if name not in _STUBS:
        if name in ("sluice", "app"):
            compile_protos(os.path.join(home, "grpc"), ["sluice/v1/sluice.proto", "e2e.proto"])
            _STUBS["sluice"] = ("sluice.v1.sluice_pb2", "sluice.v1.sluice_pb2_grpc")
            _STUBS["app"] = ("e2e_pb2", "e2e_pb2_grpc")
        else:
            flat = temp_dir("sluice_grpc_contracts_")
            for rel in ("grpc/health/v1/health.proto",
                        "grpc/reflection/v1alpha/reflection.proto"):
                shutil.copy(os.path.join(CONTRACTS, rel), flat)
            compile_protos(flat, ["health.proto", "reflection.proto"])
            _STUBS["health"] = ("health_pb2", "health_pb2_grpc")
            _STUBS["reflection"] = ("reflection_pb2", "reflection_pb2_grpc")
    messages, services = _STUBS[name]
    return importlib.import_module(messages), importlib.import_module(services)


def micros(rfc3339):
    """Microseconds since the epoch of a REST timestamp ("2026-01-01T00:00:00.75Z")."""
    when = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (when - epoch) // datetime.timedelta(microseconds=1)


class Events:
    """Reads a server stream on a thread of its own; next() waits for one item (an event,
    the RpcError that ended the stream, or None at a clean end)."""

    def __init__(self, call):
        self.call = call
        self.items = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            for event in self.call:
                self.items.put(event)
        except grpc.RpcError as e:
            self.items.put(e)
        else:
            self.items.put(None)

    def next(self, timeout=60):
        try:
            return self.items.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no stream message within %ss" % timeout)


class GrpcTestCase(harness.SluiceTestCase):
    config = CONFIG

    def setUp(self):
        super().setUp()
        self.write("data/products/a.csv", PRODUCTS)
        self.s = self.sluice(self.config).start()
        self.grpc_port = self.grpc_port_from_log()
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.grpc_port)
        grpc.channel_ready_future(self.channel).result(timeout=60)
        self.home = os.path.join(self.workdir, "home")

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    def grpc_port_from_log(self):
        match = re.search(r"gRPC API listening on [^ ]+:(\d+)", self.s.logs())
        self.assertIsNotNone(match, self.s.logs())
        return int(match.group(1))

    def sluice_stub(self):
        pb, pb_grpc = stubs("sluice", self.home)
        return pb, pb_grpc.SluiceStub(self.channel)

    def rest_query(self, path, body):
        status, text, headers = self.s.request("POST", path + "/query", json.dumps(body),
                                               {"Content-Type": "application/json"})
        self.assertEqual(status, 200, text)
        return json.loads(text), headers.get("X-Sluice-Cursor", "")


class CommonService(GrpcTestCase):
    def setUp(self):
        super().setUp()
        self.s.wait_for(lambda: self.s.count("/bids") == 9200 and self.s.count("/products") == 3,
                        what="initial load")

    def test_list_endpoints_and_schema(self):
        pb, stub = self.sluice_stub()
        listed = stub.ListEndpoints(pb.ListEndpointsRequest())
        self.assertEqual(listed.app, "e2e")
        by_name = {e.name: e for e in listed.endpoints}
        self.assertEqual(list(by_name), ["people", "bids", "products"])
        self.assertEqual(list(by_name["people"].primary_key), ["id"])
        self.assertEqual(list(by_name["bids"].primary_key), [])
        self.assertEqual(by_name["products"].typed_service, "sluice.endpoints.ProductsService")
        self.assertEqual(by_name["products"].record_message, "sluice.endpoints.ProductsRecord")
        # The same fields as REST's index.
        rest = {e["name"]: e for e in self.s.get_json("/")["endpoints"]}
        for name, endpoint in by_name.items():
            self.assertEqual([{"name": f.name, "type": f.type, "nullable": f.nullable}
                              for f in endpoint.fields], rest[name]["fields"])
            self.assertEqual(endpoint.path, rest[name]["path"])
        schema = stub.GetSchema(pb.GetSchemaRequest(endpoint="products")).endpoint
        self.assertEqual(schema, by_name["products"])
        self.assertEqual(schema.fields[2].proto_name, "price")

    def test_query_pages_equal_rest(self):
        pb, stub = self.sluice_stub()
        bids = self.s.get_json("/bids?limit=10000")
        auction = bids[0]["auction"]
        queries = [
            ("bids", {"$filter": {"auction": auction}, "$order_by": {"price": "desc"},
                      "$limit": 7}),
            ("bids", {"$filter": {"price": {"$gte": 1000, "$lt": 5000},
                                  "channel": {"$in": ["Google", "Apple"]}},
                      "$order_by": {"date_time": "asc"}, "$limit": 500}),
            ("people", {"$order_by": {"name": "desc", "id": "asc"}, "$limit": 33}),
            ("people", {"$filter": {"$or": [{"state": "OR"}, {"city": {"$prefix": "Bo"}}]},
                        "$limit": 10, "$skip": 3}),
            ("products", {}),
        ]
        for index, (endpoint, body) in enumerate(queries):
            pages, rest_after = 0, None
            while True:
                rest_rows, rest_cursor = self.rest_query("/" + endpoint, body)
                if rest_after is not None:
                    # REST's own cursor continues exactly where gRPC's does.
                    self.assertEqual(self.rest_query("/" + endpoint,
                                                     dict(body, **{"$after": rest_after}))[0],
                                     rest_rows, body)
                answer = stub.Query(pb.QueryRequest(endpoint=endpoint, query_json=json.dumps(body)))
                self.assertEqual([json.loads(r) for r in answer.records], rest_rows, body)
                # Cursors are sealed with a random nonce (docs/rest.md), so two for the same
                # position differ as text: they must agree on whether more rows follow, and
                # lead to the same next page (checked above on the next round).
                self.assertEqual(bool(answer.next_cursor), bool(rest_cursor), body)
                pages += 1
                if not answer.next_cursor:
                    break
                body = dict(body, **{"$after": answer.next_cursor})
                rest_after = rest_cursor
            if index == 0:
                self.assertGreater(pages, 1)  # the cursor was exercised
        # An empty query is REST's empty body: the first 50 records.
        answer = stub.Query(pb.QueryRequest(endpoint="people"))
        self.assertEqual([json.loads(r) for r in answer.records], self.rest_query("/people", {})[0])
        self.assertEqual(len(answer.records), 50)

    def test_count_and_explain_equal_rest(self):
        pb, stub = self.sluice_stub()
        for flt in [{}, {"channel": "Google"}, {"price": {"$gt": 1000}, "bidder": {"$ne": 1001}}]:
            want = self.s.post_json("/bids/count", {"$filter": flt})["count"]
            got = stub.Count(pb.CountRequest(endpoint="bids", filter_json=json.dumps(flt)))
            self.assertEqual(got.count, want, flt)
        self.assertEqual(stub.Count(pb.CountRequest(endpoint="bids")).count, 9200)
        body = {"$filter": {"auction": 1000}, "$order_by": {"price": "desc"}, "$limit": 5}
        plan = stub.Explain(pb.ExplainRequest(endpoint="bids", query_json=json.dumps(body)))
        self.assertEqual(json.loads(plan.plan_json), self.s.post_json("/bids/explain", body))

    def test_errors(self):
        pb, stub = self.sluice_stub()
        body = {"$filter": {"price": {"$gte": "lots"}}}
        with self.assertRaises(grpc.RpcError) as caught:
            stub.Query(pb.QueryRequest(endpoint="bids", query_json=json.dumps(body)))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(caught.exception.details().startswith("$filter.price.$gte: "),
                        caught.exception.details())
        status, text, _ = self.s.request("POST", "/bids/query", json.dumps(body))
        self.assertEqual(status, 400)
        self.assertEqual(caught.exception.details(), json.loads(text)["error"]["message"])

        with self.assertRaises(grpc.RpcError) as caught:
            stub.Count(pb.CountRequest(endpoint="bids", filter_json='{"nope": 1}'))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(caught.exception.details().startswith("$filter.nope"),
                        caught.exception.details())
        with self.assertRaises(grpc.RpcError) as caught:
            stub.Query(pb.QueryRequest(endpoint="bids", query_json='{"$limit": 10001}'))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("$limit", caught.exception.details())

        for call in (lambda: stub.Query(pb.QueryRequest(endpoint="nope")),
                     lambda: stub.Count(pb.CountRequest(endpoint="nope")),
                     lambda: stub.GetSchema(pb.GetSchemaRequest(endpoint="nope")),
                     lambda: next(iter(stub.Subscribe(pb.SubscribeRequest(endpoint="nope"))))):
            with self.assertRaises(grpc.RpcError) as caught:
                call()
            self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
            self.assertIn("unknown endpoint 'nope'", caught.exception.details())

    def test_health(self):
        pb, pb_grpc = stubs("health")
        health = pb_grpc.HealthStub(self.channel)
        for service in ("", "sluice.v1.Sluice", "sluice.endpoints.PeopleService"):
            answer = health.Check(pb.HealthCheckRequest(service=service))
            self.assertEqual(answer.status, pb.HealthCheckResponse.SERVING, service)
        with self.assertRaises(grpc.RpcError) as caught:
            health.Check(pb.HealthCheckRequest(service="no.Such"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_reflection_describes_common_and_typed_services(self):
        pb, pb_grpc = stubs("reflection")
        reflection = pb_grpc.ServerReflectionStub(self.channel)
        requests = [
            pb.ServerReflectionRequest(list_services=""),
            pb.ServerReflectionRequest(file_containing_symbol="sluice.endpoints.ProductsService"),
            pb.ServerReflectionRequest(file_containing_symbol="sluice.v1.Sluice.Query"),
            pb.ServerReflectionRequest(file_by_filename="e2e.proto"),
            pb.ServerReflectionRequest(file_containing_symbol="no.Such"),
            pb.ServerReflectionRequest(file_containing_symbol="grpc.health.v1.Health"),
        ]
        answers = list(reflection.ServerReflectionInfo(iter(requests), timeout=60))
        self.assertEqual(len(answers), len(requests))
        services = [s.name for s in answers[0].list_services_response.service]
        self.assertEqual(services, [
            "sluice.v1.Sluice", "sluice.endpoints.PeopleService", "sluice.endpoints.BidsService",
            "sluice.endpoints.ProductsService", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection"])

        # The typed file (and the timestamp.proto it imports) is enough to build the service.
        pool = descriptor_pool.DescriptorPool()
        serialized = answers[1].file_descriptor_response.file_descriptor_proto
        files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in serialized]
        self.assertEqual([f.name for f in files],
                         ["e2e.proto", "google/protobuf/timestamp.proto"])
        for b in reversed(serialized):  # dependencies first
            pool.AddSerializedFile(b)
        service = pool.FindServiceByName("sluice.endpoints.ProductsService")
        self.assertEqual([m.name for m in service.methods], ["Query", "Count", "Get", "Subscribe"])
        get = service.FindMethodByName("Get")
        self.assertEqual(get.output_type.full_name, "sluice.endpoints.ProductsRecord")
        self.assertEqual(get.output_type.fields_by_name["added"].message_type.full_name,
                         "google.protobuf.Timestamp")
        self.assertEqual(get.output_type.fields_by_name["price"].type,
                         get.output_type.fields_by_name["price"].TYPE_STRING)

        common = [descriptor_pb2.FileDescriptorProto.FromString(b)
                  for b in answers[2].file_descriptor_response.file_descriptor_proto]
        self.assertEqual(common[0].name, "sluice/v1/sluice.proto")
        self.assertIn("Subscribe", [m.name for m in common[0].service[0].method])
        by_name = answers[3].file_descriptor_response.file_descriptor_proto
        self.assertEqual(descriptor_pb2.FileDescriptorProto.FromString(by_name[0]), files[0])
        self.assertEqual(answers[4].error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])
        health = descriptor_pb2.FileDescriptorProto.FromString(
            answers[5].file_descriptor_response.file_descriptor_proto[0])
        self.assertEqual(health.name, "grpc/health/v1/health.proto")


class TypedServices(GrpcTestCase):
    def setUp(self):
        super().setUp()
        self.s.wait_for(lambda: self.s.count("/bids") == 9200 and self.s.count("/products") == 3,
                        what="initial load")
        self.pb, self.pb_grpc = stubs("app", self.home)

    def test_proto_file_is_written_with_the_type_mapping(self):
        with open(os.path.join(self.home, "grpc", "e2e.proto")) as f:
            text = f.read()
        self.assertIn("package sluice.endpoints;", text)
        self.assertIn("service ProductsService", text)
        self.assertIn("optional string price = 3;", text)
        self.assertIn(".google.protobuf.Timestamp added = 4;", text)
        self.assertNotIn("BidsGetRequest", text)  # no key, no Get

    def test_get_maps_every_type(self):
        products = self.pb_grpc.ProductsServiceStub(self.channel)
        shoe = products.Get(self.pb.ProductsGetRequest(id=1))
        self.assertEqual(shoe.id, 1)
        self.assertEqual(shoe.title, "Shoe, blue")
        self.assertEqual(shoe.price, "19.90")
        self.assertEqual(shoe.added.ToJsonString(), "2026-11-23T10:15:30.500Z")
        self.assertEqual(shoe.blob, b"hi")
        self.assertEqual(json.loads(shoe.attrs), {"size": 42})
        self.assertEqual(shoe.ratio, 0.5)
        hat = products.Get(self.pb.ProductsGetRequest(id=2))
        self.assertEqual(hat.price, "150")
        for field in ("added", "blob", "attrs", "ratio"):
            self.assertFalse(hat.HasField(field), field)  # NULL: absent
        sock = products.Get(self.pb.ProductsGetRequest(id=3))
        self.assertEqual((sock.added.seconds, sock.added.nanos), (-2, 500000000))
        with self.assertRaises(grpc.RpcError) as caught:
            products.Get(self.pb.ProductsGetRequest(id=999))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(caught.exception.details(), "no products record with id = 999")

    def test_query_and_count_equal_rest(self):
        people = self.pb_grpc.PeopleServiceStub(self.channel)
        body = {"$filter": {"state": {"$in": ["OR", "CA"]}}, "$order_by": {"name": "asc"},
                "$limit": 20}
        page = people.Query(self.pb.QueryRequest(query_json=json.dumps(body)))
        rest_rows, rest_cursor = self.rest_query("/people", body)
        # Sealed cursors differ as text (a random nonce): both say more rows follow, and the
        # next pages below are the same.
        self.assertTrue(page.next_cursor and rest_cursor, (page.next_cursor, rest_cursor))
        self.assertEqual([(p.id, p.name, p.state, p.date_time.ToMicroseconds())
                          for p in page.records],
                         [(r["id"], r["name"], r["state"], micros(r["date_time"]))
                          for r in rest_rows])
        follow = people.Query(self.pb.QueryRequest(
            query_json=json.dumps(dict(body, **{"$after": page.next_cursor}))))
        self.assertEqual([p.id for p in follow.records],
                         [r["id"] for r in self.rest_query(
                             "/people", dict(body, **{"$after": rest_cursor}))[0]])
        bids = self.pb_grpc.BidsServiceStub(self.channel)
        flt = {"channel": "Google"}
        self.assertEqual(bids.Count(self.pb.CountRequest(filter_json=json.dumps(flt))).count,
                         self.s.post_json("/bids/count", {"$filter": flt})["count"])
        with self.assertRaises(grpc.RpcError) as caught:
            bids.Query(self.pb.QueryRequest(query_json='{"$order_by": {"nope": "asc"}}'))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(caught.exception.details().startswith("$order_by"),
                        caught.exception.details())


class Subscribe(GrpcTestCase):
    def setUp(self):
        super().setUp()
        self.s.wait_for(lambda: self.s.count("/products") == 3, what="initial load")

    def append(self, lines):
        self.write("data/products/a.csv", lines, mode="a")

    def test_common_subscribe_snapshot_then_live_changes(self):
        pb, stub = self.sluice_stub()
        events = Events(stub.Subscribe(pb.SubscribeRequest(
            endpoint="products", filter_json='{"price": {"$lt": 100}}', snapshot=True)))
        snapshot = [events.next(), events.next()]
        self.assertEqual([(e.kind, e.snapshot, json.loads(e.new_record)["id"]) for e in snapshot],
                         [(pb.CHANGE_KIND_INSERT, True, 1), (pb.CHANGE_KIND_INSERT, True, 3)])
        self.assertEqual(json.loads(snapshot[0].new_record),
                         self.s.get_json("/products/1"))  # records as REST writes them
        done = events.next()
        self.assertEqual(done.kind, pb.CHANGE_KIND_SNAPSHOT_COMPLETE)

        self.append("4,New,5,,,,\n")          # insert
        self.append("1,Shoe,25.00,,,,\n")     # update, still matching
        self.append("3,Sock,300,,,,\n")       # update leaving the filter: a delete
        self.append("5,Gold,1000,,,,\n")      # not matching: nothing
        self.append("2,Hat,99,,,,\n")         # update entering the filter: an insert
        got = [events.next() for _ in range(4)]
        self.assertEqual([e.kind for e in got], [pb.CHANGE_KIND_INSERT, pb.CHANGE_KIND_UPDATE,
                                                 pb.CHANGE_KIND_DELETE, pb.CHANGE_KIND_INSERT])
        self.assertEqual(json.loads(got[0].new_record)["title"], "New")
        self.assertEqual(json.loads(got[1].old_record)["price"], "19.90")
        self.assertEqual(json.loads(got[1].new_record)["price"], "25.00")
        self.assertEqual(json.loads(got[2].old_record)["id"], 3)
        self.assertEqual(got[2].new_record, "")
        self.assertEqual(json.loads(got[3].new_record)["id"], 2)
        self.assertTrue(all(e.epoch > 0 and not e.snapshot for e in got))
        self.assertTrue(events.items.empty())
        events.call.cancel()

    def test_typed_subscribe_and_shutdown_ends_streams(self):
        products = stubs("app", self.home)
        pb, pb_grpc = products
        call = pb_grpc.ProductsServiceStub(self.channel).Subscribe(pb.SubscribeRequest())
        call.initial_metadata()  # sent once the subscription is registered
        events = Events(call)
        self.append("6,Typed,7.5,2026-01-01T00:00:00Z,,,\n")
        event = events.next()
        self.assertEqual(event.kind, pb.CHANGE_KIND_INSERT)
        self.assertFalse(event.HasField("old_record"))
        self.assertEqual((event.new_record.id, event.new_record.title, event.new_record.price),
                         (6, "Typed", "7.5"))
        self.assertEqual(event.new_record.added.ToJsonString(), "2026-01-01T00:00:00Z")
        self.append("6,Typed,8,,,,\n")
        event = events.next()
        self.assertEqual(event.kind, pb.CHANGE_KIND_UPDATE)
        self.assertEqual((event.old_record.price, event.new_record.price), ("7.5", "8"))
        self.assertFalse(event.new_record.HasField("added"))

        # Stopping the server ends open subscriptions with UNAVAILABLE; sluice exits cleanly.
        self.assertEqual(self.s.stop(signal.SIGTERM), 0)
        end = events.next()
        self.assertIsInstance(end, grpc.RpcError)
        self.assertEqual(end.code(), grpc.StatusCode.UNAVAILABLE)


SLOW_CONFIG = """
home_dir: ./home
connections:
  - {name: gen, kind: generator, events: 1000000, rate: 250000, seed: 3}
  - {name: local, kind: files, path: ./data, format: csv}
sources:
  - {name: bid, connection: gen}
  - name: products
    connection: local
    schema:
      - {name: id, type: int, nullable: false}
    primary_key: [id]
endpoints:
  - {name: bids, path: /bids, table: bid}
  - {name: products, path: /products, table: products}
api:
  host: 127.0.0.1
  rest: {port: 0}
  grpc: {port: 0}
"""


class SlowConsumer(GrpcTestCase):
    config = SLOW_CONFIG

    def setUp(self):
        harness.SluiceTestCase.setUp(self)
        self.write("data/products/a.csv", "id\n1\n")
        self.s = self.sluice(self.config).start()
        self.grpc_port = self.grpc_port_from_log()
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.grpc_port)
        grpc.channel_ready_future(self.channel).result(timeout=60)
        self.home = os.path.join(self.workdir, "home")

    def test_a_consumer_that_falls_behind_gets_resource_exhausted(self):
        pb, stub = self.sluice_stub()
        call = stub.Subscribe(pb.SubscribeRequest(endpoint="bids"))
        call.initial_metadata()
        # Read nothing while ~900k bids arrive: flow control stops the server's writes, the
        # feed's queue (10000 changes) overflows and the subscription is closed.
        self.s.wait_for(lambda: self.s.count("/bids") > 200000, timeout=120, what="bids")
        received = 0
        deadline = time.time() + 120  # bounds a failing run only
        with self.assertRaises(grpc.RpcError) as caught:
            for _ in call:
                received += 1
                self.assertLess(time.time(), deadline)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("too slow", caught.exception.details())
        self.assertGreater(received, 0)


if __name__ == "__main__":
    harness.main()
