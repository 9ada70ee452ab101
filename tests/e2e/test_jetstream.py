"""The JetStream backend (log: {kind: jetstream}): the app ships its change log into a stream of
a real nats-server, API nodes follow the stream with durable consumers (no --app). A single
server with app and API node restarts, and a three-node NATS cluster (stream replicas 3) that
loses a node mid-run; API answers must end equal to PostgreSQL's."""

import random
import signal
import time

import harness
import nats_server
import pg_server
from test_checkpoints import (OrdersWriter, converge, create_shop, expected, served,
                              shop_config, streamed_past_snapshot)

PG = None


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


class JetStream(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")
        create_shop(PG)

    def start_split(self, nats, replicas):
        config = shop_config(PG, ["  app_grpc: {port: 0}"]) + (
            "log: {kind: jetstream, servers: '%s', stream: shop_log, replicas: %d}\n"
            % (nats.urls(), replicas))
        app = self.sluice(config, ["app"], name="app")
        node = self.sluice(config, ["api", "--home-dir", "./node"], name="node")
        app.start()
        node.start()
        node.wait_for(lambda: node.count("/regions") >= 4, timeout=120,
                      what="the snapshot reaching the API node through JetStream")
        # From here on an app restart must resume (no new snapshot, no new log generation).
        streamed_past_snapshot(PG, node)
        return app, node

    def test_app_and_api_node_restarts_through_one_server(self):
        with nats_server.NatsCluster(nodes=1) as nats:
            app, node = self.start_split(nats, 1)
            writer = OrdersWriter(PG, seed=3)
            writer.start()
            rng = random.Random(5)
            try:
                for kill in range(6):
                    # The kill lands anywhere, start-up included: the assertions below hold
                    # wherever it lands ("resuming after it" is logged before the node
                    # announces its port, so every node restart has logged it).
                    time.sleep(rng.uniform(0.1, 0.8))
                    victim = app if kill % 2 == 0 else node
                    victim.stop(signal.SIGKILL)
                    victim.start()
                    converge(PG, writer, node, "equal to PostgreSQL after kill %d" % (kill + 1))
            finally:
                writer.finish()
            self.assertEqual(writer.errors, [])
            want = expected(PG)
            node.wait_for(lambda: served(node) == want, timeout=120, what="final equality")
            logs = node.logs()
            self.assertEqual(logs.count("building cache"), 1, "the API node rebuilt")
            self.assertEqual(logs.count("resuming after it"), 3)
            self.assertIn("shipping the change log to JetStream stream shop_log", app.logs())
            self.assertEqual(node.stop(), 0)
            self.assertEqual(app.stop(), 0)

    def test_three_node_cluster_loses_a_node_during_the_run(self):
        with nats_server.NatsCluster(nodes=3) as nats:
            app, node = self.start_split(nats, 3)
            writer = OrdersWriter(PG, seed=4)
            writer.start()
            try:
                time.sleep(1.0)  # the kill points: a while into the writer's run
                nats.kill(1)  # the stream keeps a quorum of two replicas
                converge(PG, writer, node, "equal to PostgreSQL with a NATS node down")
                time.sleep(1.0)
                node.stop(signal.SIGKILL)
                node.start()
                converge(PG, writer, node, "equal after an API node restart on two NATS nodes")
            finally:
                writer.finish()
            self.assertEqual(writer.errors, [])
            want = expected(PG)
            node.wait_for(lambda: served(node) == want, timeout=120, what="final equality")
            self.assertEqual(node.logs().count("building cache"), 1)
            self.assertEqual(node.stop(), 0)
            self.assertEqual(app.stop(), 0)


if __name__ == "__main__":
    harness.main()
