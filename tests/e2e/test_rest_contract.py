"""The REST contract of step 1 against a running sluice: routes, paging, values, errors."""

import base64
import json
import os
import subprocess
import socket

import harness

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
      - {name: big, type: int}
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
"""

PRODUCTS = (
    "id,title,price,big,added,blob,attrs,ratio\n"
    '1,"Shoe, blue",19.90,9007199254740993,2026-11-23T10:15:30.5Z,aGk=,"{""size"": 42}",0.5\n'
    '2,"He said ""hi""",0.10,,2026-01-01 00:00:00+01:00,,,\n'
    '3,"multi\nline",1e2,-5,2026-11-23T00:00:00Z,,[],-1.25\n'
)


class RestContract(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        self.write("data/products/a.csv", PRODUCTS)
        self.s = self.sluice(CONFIG).start()
        self.s.wait_for(lambda: self.s.count("/bids") == 9200 and self.s.count("/products") == 3,
                        what="initial load")

    def test_index_and_health(self):
        index = self.s.get_json("/")
        self.assertEqual(index["app"], "e2e")
        paths = {e["path"]: e for e in index["endpoints"]}
        self.assertEqual(set(paths), {"/people", "/bids", "/products"})
        self.assertEqual(paths["/people"]["primary_key"], ["id"])
        self.assertIsNone(paths["/bids"]["primary_key"])
        self.assertIn({"name": "price", "type": "decimal", "nullable": True},
                      paths["/products"]["fields"])
        self.assertEqual(self.s.get_json("/health"), {"status": "ok"})

    def test_openapi_document_and_swagger_ui(self):
        status, body, headers = self.s.request("GET", "/openapi.json")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertTrue(doc["openapi"].startswith("3.0"))
        for path in ("/products/query", "/products/count", "/products/explain", "/products/live",
                     "/products/{id}", "/people"):
            self.assertIn(path, doc["paths"])
        # The validator the build installed (src/server/http/CMakeLists.txt) accepts it.
        validator = os.path.join(harness.BUILD_DIR, "src", "server", "http",
                                 "openapi-validator", "validate.mjs")
        r = subprocess.run(["node", validator], input=body, text=True, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        status, page, headers = self.s.request("GET", "/docs")
        self.assertEqual(status, 200)
        self.assertIn("swagger-ui-bundle.js", page)
        status, bundle, headers = self.s.request("GET", "/docs/swagger-ui-bundle.js")
        self.assertEqual(status, 200)
        self.assertGreater(len(bundle), 100000)

    def test_list_paging(self):
        self.assertEqual(len(self.s.get_json("/people")), 50)  # default limit
        first = self.s.get_json("/people?limit=5")
        self.assertEqual([p["id"] for p in first], [1000, 1001, 1002, 1003, 1004])
        page = self.s.get_json("/people?limit=3&skip=4")
        self.assertEqual([p["id"] for p in page], [1004, 1005, 1006])
        self.assertEqual(len(self.s.get_json("/bids?limit=10000")), 9200)
        self.assertEqual(self.s.get_json("/people?skip=100000"), [])
        status, body, _ = self.s.request("GET", "/people?limit=10001")
        self.assertEqual(status, 400)
        self.assertIn("at most 10000", body)

    def test_get_by_id(self):
        person = self.s.get_json("/people/1007")
        self.assertEqual(person["id"], 1007)
        self.assertEqual(set(person), {"id", "name", "email_address", "credit_card", "city",
                                       "state", "date_time", "extra"})
        status, body, _ = self.s.request("GET", "/people/5")
        self.assertEqual(status, 404)
        self.assertEqual(set(json_error(body)), {"code", "message"})
        status, body, _ = self.s.request("GET", "/people/abc")
        self.assertEqual(status, 400)
        self.assertIn("invalid int 'abc'", body)
        status, body, _ = self.s.request("GET", "/bids/1")
        self.assertEqual(status, 404)
        self.assertIn("has no primary key", body)

    def test_value_encoding(self):
        p1 = self.s.get_json("/products/1")
        self.assertEqual(p1, {"id": 1, "title": "Shoe, blue", "price": "19.90",
                              "big": "9007199254740993", "added": "2026-11-23T10:15:30.5Z",
                              "blob": base64.b64encode(b"hi").decode(), "attrs": {"size": 42},
                              "ratio": 0.5})
        p2 = self.s.get_json("/products/2")
        self.assertEqual(p2["title"], 'He said "hi"')
        self.assertEqual(p2["added"], "2025-12-31T23:00:00Z")
        self.assertIsNone(p2["big"])
        self.assertIsNone(p2["attrs"])
        p3 = self.s.get_json("/products/3")
        self.assertEqual(p3["title"], "multi\nline")
        self.assertEqual(p3["price"], "100")
        self.assertEqual(p3["big"], -5)
        self.assertEqual(p3["attrs"], [])

    def test_query_and_count(self):
        bids = self.s.get_json("/bids?limit=10000")
        auction = bids[0]["auction"]
        expected = [b for b in bids if b["auction"] == auction]
        got = self.s.post_json("/bids/query", {"$filter": {"auction": auction}, "$limit": 10000})
        self.assertEqual(sorted(map(str, got)), sorted(map(str, expected)))
        self.assertEqual(self.s.post_json("/bids/count", {"$filter": {"auction": auction}}),
                         {"count": len(expected)})
        both = self.s.post_json("/bids/count", {"$filter": {"auction": auction,
                                                            "channel": "Google"}})
        self.assertEqual(both["count"], sum(1 for b in expected if b["channel"] == "Google"))
        self.assertEqual(self.s.post_json("/people/query", {"$filter": {"id": 1003}})[0]["id"], 1003)
        self.assertEqual(len(self.s.post_json("/people/query", {"$limit": 7, "$skip": 2})), 7)
        self.assertEqual(self.s.post_json("/products/count", {"$filter": {"price": "0.1"}}),
                         {"count": 1})

    def test_errors(self):
        cases = [
            ("POST", "/people/query", "{broken", 400, "not valid JSON"),
            ("POST", "/people/query", '{"$filter": {"nope": 1}}', 400, "$filter.nope"),
            ("POST", "/people/query", '{"$filter": {"id": "x"}}', 400, "$filter.id"),
            ("POST", "/people/query", '{"$limit": 100000}', 400, "$limit"),
            ("GET", "/nowhere", None, 404, "no route"),
            ("DELETE", "/people/1000", None, 405, "not allowed"),
            ("POST", "/people", "{}", 405, "not allowed"),
        ]
        for method, path, body, status, fragment in cases:
            got_status, got_body, _ = self.s.request(method, path, body)
            self.assertEqual(got_status, status, (method, path, got_body))
            self.assertIn(fragment, json_error(got_body)["message"], (method, path))
        # A huge body is refused, and the server keeps serving.
        status, body, _ = self.s.request("POST", "/people/query", "x" * (3 << 20))
        self.assertEqual(status, 413)
        self.assertEqual(self.s.get_json("/people/1000")["id"], 1000)

    def test_malformed_http_does_not_hurt_the_server(self):
        for garbage in [b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                        b"\x00\x01\x02" * 1000, b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n"]:
            with socket.create_connection(("127.0.0.1", self.s.port), timeout=60) as sock:
                reply = b""
                try:  # the server may answer and close before reading everything
                    sock.sendall(garbage)
                    sock.shutdown(socket.SHUT_WR)
                    reply = sock.recv(200)
                except OSError:
                    pass
                self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply)
            self.assertEqual(self.s.get_json("/health"), {"status": "ok"})
        # A client that connects and says nothing does not block others.
        idle = socket.create_connection(("127.0.0.1", self.s.port))
        try:
            self.assertEqual(self.s.get_json("/health"), {"status": "ok"})
        finally:
            idle.close()

    def test_keep_alive(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=60)
        for i in range(20):
            conn.request("GET", "/people/%d" % (1000 + i))
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()


def json_error(body):
    import json
    return json.loads(body)["error"]


if __name__ == "__main__":
    harness.main()
