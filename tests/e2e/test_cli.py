"""The sluice command: init, check, version, clean, and config errors with exit code 2."""

import os

import harness


class Cli(harness.SluiceTestCase):
    def test_init_writes_a_config_that_checks_and_runs(self):
        r = self.run_cli("init", "-c", "starter.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.run_cli("init", "-c", "starter.yaml").returncode, 2)  # no overwrite
        text = open(os.path.join(self.workdir, "starter.yaml")).read()
        r = self.run_cli("check", "-c", "starter.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("endpoint people /people <- person", r.stdout)
        s = self.sluice(text.replace("port: 8080", "port: 0")).start()
        s.wait_for(lambda: s.count("/bids") == 92000, what="starter load")
        self.assertEqual(s.stop(), 0)
        home = os.path.join(self.workdir, ".sluice")
        self.assertTrue(os.path.isdir(os.path.join(home, "cache")))
        r = self.run_cli("clean", "-c", "sluice.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(home, "cache")))

    def test_version(self):
        r = self.run_cli("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^sluice \d+\.\d+\.\d+")

    def test_config_errors_exit_2_with_file_line_and_key(self):
        cases = {
            "connections:\n  - {name: g, kind: generator}\nsources:\n  - {name: bid, connection: nope}\n":
                "bad.yaml:4:29: sources[0].connection: connection 'nope' is not defined",
            "endpoints:\n  - {name: e, path: /e, table: missing}\n":
                "bad.yaml:2:32: endpoints[0].table: table 'missing' is not defined",
            "app_name: x\nbogus: 1\n": "bad.yaml:2:1: bogus: unknown key 'bogus'",
            "api:\n  rest: {port: ${NOT_SET_ANYWHERE}}\n":
                "bad.yaml:2: environment variable NOT_SET_ANYWHERE is not set",
            "connections:\n  - {name: g, kind: generator}\nsources:\n  - {name: s, connection: g, "
            "table: bids}\nendpoints:\n  - {name: e, path: /e, table: s}\n":
                "bad.yaml:4:5: sources[0]: the nexmark generator has tables person, auction and bid",
        }
        for text, expected in cases.items():
            self.write("bad.yaml", text)
            for verb in ("run", "check"):
                r = self.run_cli(verb, "-c", "bad.yaml")
                self.assertEqual(r.returncode, 2, (verb, text, r.stderr))
                self.assertIn(expected, r.stderr, (verb, text))
        r = self.run_cli("run", "-c", "does-not-exist.yaml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("does-not-exist.yaml", r.stderr)
        self.assertEqual(self.run_cli("frobnicate").returncode, 2)

    def test_port_in_use_is_a_clear_error(self):
        import socket
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            self.write("sluice.yaml", "connections:\n  - {name: g, kind: generator, events: 10}\n"
                       "sources:\n  - {name: bid, connection: g}\nendpoints:\n"
                       "  - {name: b, path: /b, table: bid}\napi:\n  host: 127.0.0.1\n"
                       "  rest: {port: %d}\n" % port)
            r = self.run_cli("run", "-c", "sluice.yaml")
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot listen on 127.0.0.1:%d" % port, r.stderr)


if __name__ == "__main__":
    harness.main()
