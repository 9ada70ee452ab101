"""Live subscriptions (GET {path}/live) over Server-Sent Events and WebSocket, fed by changes
captured from a real PostgreSQL 15: the snapshot equals PostgreSQL's rows, then every insert,
update and delete that matches the filter arrives in commit order with its epoch; rows moving
in or out of the filter arrive as inserts and deletes; a consumer that falls too far behind
is told why and disconnected while the server keeps serving."""

import base64
import json
import os
import socket
import urllib.parse

import harness
import pg_server

PG = None


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


class SseClient:
    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
                           % path).encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.headers = head.decode()

    def _until(self, sep):
        while sep not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        out, self.buf = self.buf.split(sep, 1)
        return out

    def next(self):
        while True:
            block = self._until(b"\n\n").decode()
            if block.startswith(":"):
                continue  # keepalive comment
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            message = json.loads(lines["data"])
            assert lines["event"] == message["op"], block
            return message

    def close(self):
        self.sock.close()


class WebSocketClient:
    """Just enough RFC 6455 for a test: the handshake and unmasked server text frames."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])

    def _read(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def next(self):
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read(8), "big")
        payload = self._read(length)
        opcode = b0 & 0x0F
        if opcode == 8:
            raise EOFError("close frame")
        assert opcode == 1, opcode
        return json.loads(payload)

    def close(self):
        self.sock.close()


CONFIG = """
app_name: live
home_dir: ./home
connections:
  - {name: pg, kind: postgres, url: "%s"}
sources:
  - {name: items, connection: pg, table: public.items}
endpoints:
  - name: items
    path: /items
    table: items
    indexes: [{fields: [city]}]
api:
  host: 127.0.0.1
  rest: {port: 0}
"""


class LiveSubscriptions(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")
        self.sql("CREATE TABLE items (id int PRIMARY KEY, city text, qty int)")
        self.sql("INSERT INTO items SELECT g, CASE WHEN g % 3 = 0 THEN 'Oslo' ELSE 'Lima' END, g"
                 " FROM generate_series(1, 300) g")
        self.s = self.sluice(CONFIG % PG.url(db="shop")).start()
        self.s.wait_for(lambda: self.s.count("/items") == 300, timeout=120, what="snapshot")

    def sql(self, text):
        return PG.psql(text, db="shop", user="sluice")

    def live_path(self, flt, snapshot=True):
        return "/items/live?" + urllib.parse.urlencode(
            {"filter": json.dumps(flt), "snapshot": "true" if snapshot else "false"})

    def check_stream(self, client):
        snapshot = []
        while True:
            m = client.next()
            if m["op"] == "snapshot_end":
                break
            self.assertEqual(m["op"], "snapshot", m)
            snapshot.append(m["row"])
        expected = [{"id": int(r[0]), "city": r[1], "qty": int(r[2])} for r in self.sql(
            "SELECT id, city, qty FROM items WHERE city = 'Oslo' ORDER BY id")]
        self.assertEqual(snapshot, expected)
        # Each statement commits on its own: events come in this order.
        self.sql("INSERT INTO items VALUES (1001, 'Oslo', 5)")        # insert
        self.sql("INSERT INTO items VALUES (1002, 'Lima', 5)")        # not matching: nothing
        self.sql("UPDATE items SET qty = 6 WHERE id = 1001")          # update
        self.sql("UPDATE items SET city = 'Lima' WHERE id = 3")       # leaves the filter: delete
        self.sql("UPDATE items SET city = 'Oslo' WHERE id = 1002")    # enters it: insert
        self.sql("DELETE FROM items WHERE id = 6")                     # delete
        self.sql("BEGIN; UPDATE items SET qty = qty + 1 WHERE id IN (9, 12); COMMIT;")
        got = [client.next() for _ in range(7)]
        ops = [(m["op"], (m.get("row") or m.get("old"))["id"]) for m in got]
        self.assertEqual(ops, [("insert", 1001), ("update", 1001), ("delete", 3), ("insert", 1002),
                               ("delete", 6), ("update", 9), ("update", 12)])
        self.assertEqual(got[1]["old"]["qty"], 5)
        self.assertEqual(got[1]["row"]["qty"], 6)
        epochs = [m["epoch"] for m in got]
        self.assertEqual(epochs, sorted(epochs))
        self.assertEqual(got[5]["epoch"], got[6]["epoch"], "one transaction, one epoch")

    def test_server_sent_events(self):
        client = SseClient(self.s.port, self.live_path({"city": "Oslo"}))
        self.assertEqual(client.status, 200)
        self.assertIn("text/event-stream", client.headers)
        self.check_stream(client)
        client.close()

    def test_websocket(self):
        client = WebSocketClient(self.s.port, self.live_path({"city": "Oslo"}))
        self.assertEqual(client.status, 101)
        self.check_stream(client)
        client.close()

    def test_without_snapshot_and_bad_requests(self):
        # The response head is sent once the subscription is registered (SseClient waits for
        # it): changes committed from here on reach it.
        client = SseClient(self.s.port, self.live_path({"qty": {"$gte": 1000}}, snapshot=False))
        self.sql("INSERT INTO items VALUES (2000, 'Oslo', 1000), (2001, 'Oslo', 1)")
        m = client.next()
        self.assertEqual((m["op"], m["row"]["id"]), ("insert", 2000))
        client.close()
        status, body, _ = self.s.request("GET", "/items/live?filter=%7B%22nope%22%3A1%7D")
        self.assertEqual(status, 400, body)
        self.assertIn("filter.nope: unknown field", body)
        status, body, _ = self.s.request("POST", "/items/live")
        self.assertEqual(status, 405, body)

    def test_slow_consumer_is_disconnected_with_a_reason(self):
        client = SseClient(self.s.port, self.live_path({}, snapshot=False))  # subscribed
        # Far more changes than a subscriber may have pending (10000), while it does not read.
        for _ in range(3):
            self.sql("UPDATE items SET qty = qty + 1")
        self.sql("INSERT INTO items SELECT g, 'Lima', g FROM generate_series(5000, 20000) g")
        self.s.wait_for(lambda: self.s.count("/items") == 300 + 15001, timeout=120, what="load")
        messages = []
        try:
            while True:
                messages.append(client.next())
        except EOFError:
            pass
        self.assertEqual(messages[-1]["op"], "error", messages[-1])
        self.assertIn("too slow", messages[-1]["message"])
        self.assertLess(len(messages), 20000)
        self.assertEqual(self.s.get_json("/health"), {"status": "ok"})


if __name__ == "__main__":
    harness.main()
