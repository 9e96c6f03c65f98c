"""The warm restart with the real server (DESIGN.md "Warm restart"): after
kill -9 (or a stop) the next start keeps the arena, local readers (real
tests/client/local_worker processes) get zero-copy hits at once, and what
cannot be trusted starts cold with the reason in INFO: warm_restart no, a
changed arena_bytes, another data_dir, a log that lost what the arena has,
and a damaged item (dropped; the log's value is served instead)."""

import os
import shutil
import subprocess
import unittest

from ember_fixture import EmberServer, EmberTestCase

WORKER = os.environ.get("EMBER_LOCAL_WORKER", "")


def value_of(i):
    return f"value-{i:06d}-" + "v" * (i % 40)


class WarmRestart(EmberTestCase):
    KEYS = 5000

    def setUp(self):
        self.assertTrue(os.access(WORKER, os.X_OK), f"no local_worker: {WORKER}")
        # A long applier delay: most writes are still only in the log and
        # the dirty table when the server is killed.
        self.server = EmberServer(arena_bytes="64mb", applier_delay_ms=30000)
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def load(self, n=KEYS, prefix="k"):
        c = self.server.client()
        p = c.pipeline(transaction=False)
        for i in range(n):
            p.set(f"{prefix}:{i}", value_of(i))
        p.execute()
        c.close()

    def start_info(self):
        info = self.server.info("persistence")
        return {k: info[k] for k in info if k.startswith("arena_start")}

    def local_reads(self, keys):
        """What a fresh local reader process gets for `keys`: a list of
        ("HIT" | "SRV" | "NIL", value)."""
        p = subprocess.run(
            [WORKER, self.server.name, self.server.run_dir,
             self.server.unix_socket],
            input="".join(f"GET {k}\n" for k in keys) + "EXIT\n",
            capture_output=True, text=True, timeout=30)
        out = []
        for line in p.stdout.splitlines():
            kind, _, value = line.partition(" ")
            out.append((kind, value))
        self.assertEqual(len(out), len(keys), p.stdout + p.stderr)
        return out

    def assert_cold(self, reason_part):
        start = self.start_info()
        self.assertEqual(start["arena_start"], "cold", start)
        self.assertIn(reason_part, str(start["arena_start_reason"]), start)

    def test_kill9_keeps_every_item_and_local_reads_hit_at_once(self):
        self.load()
        before = int(self.server.info()["arena_items"])
        self.assertGreaterEqual(before, self.KEYS)
        self.server.kill()
        self.server.start()
        start = self.start_info()
        self.assertEqual(start["arena_start"], "warm", start)
        self.assertEqual(start["arena_start_reason"], "none")
        self.assertEqual(int(start["arena_start_items_kept"]), before)
        self.assertEqual(int(start["arena_start_items_dropped"]), 0)
        self.assertGreaterEqual(
            int(self.server.info("persistence")["arena_generation"]), 2)
        keys = [f"k:{i}" for i in range(0, self.KEYS, 7)]
        reads = self.local_reads(keys)
        hits = [r for r in reads if r[0] == "HIT"]
        self.assertEqual(len(hits), len(keys), reads[:5])
        for k, (kind, v) in zip(keys, reads):
            self.assertEqual(v, value_of(int(k.split(":")[1])), k)
        # Writes go on: new values replace kept ones.
        c = self.server.client()
        c.set("k:0", "new")
        self.assertEqual(c.get("k:0"), b"new")
        c.close()
        self.assertEqual(self.local_reads(["k:0"])[0][1], "new")

    def test_a_stop_and_start_is_warm_too(self):
        self.load(500)
        self.server.stop()
        self.server.start()
        start = self.start_info()
        self.assertEqual(start["arena_start"], "warm", start)
        self.assertGreaterEqual(int(start["arena_start_items_kept"]), 500)

    def test_warm_restart_no_starts_cold(self):
        self.load(100)
        self.server.kill()
        self.server.settings["warm_restart"] = "no"
        self.server.start()
        self.assert_cold("off")
        self.assertEqual(self.local_reads(["k:1"])[0], ("SRV", value_of(1)))

    def test_a_changed_arena_size_starts_cold(self):
        self.load(100)
        self.server.kill()
        self.server.settings["arena_bytes"] = "32mb"
        self.server.start()
        self.assert_cold("layout differs")
        self.assertEqual(self.server.client().get("k:5"), value_of(5).encode())

    def test_another_data_dir_starts_cold(self):
        self.load(100)
        self.server.kill()
        self.server.data_dir = os.path.join(self.server.root, "other")
        self.server.start()
        self.assert_cold("another cold store")
        self.assertEqual(self.local_reads(["k:1"])[0][0], "NIL")

    def test_a_log_that_lost_what_the_arena_has_starts_cold(self):
        self.load(100)
        self.server.kill()
        # The writes are only in the log (the applier waits 30 s): without
        # it the arena would hold values the database never had.
        shutil.rmtree(os.path.join(self.server.data_dir, "redo"))
        self.server.start()
        self.assert_cold("log ends")
        self.assertEqual(self.local_reads(["k:1"])[0][0], "NIL")

    def test_a_damaged_item_is_dropped_and_the_log_value_served(self):
        c = self.server.client()
        c.set("dmg", "DAMAGE-ME-" + "d" * 50)
        c.close()
        self.load(200)
        self.server.kill()
        path = f"/dev/shm/ember.{self.server.name}.data"
        with open(path, "r+b") as f:
            data = f.read()
            at = data.find(b"DAMAGE-ME-")
            self.assertGreater(at, 0)
            f.seek(at + 12)
            f.write(b"X")
        self.server.start()
        start = self.start_info()
        self.assertEqual(start["arena_start"], "warm", start)
        self.assertEqual(int(start["arena_start_items_dropped"]), 1, start)
        self.assertIn("1 failed a check", self.server.log())
        kind, value = self.local_reads(["dmg"])[0]
        self.assertEqual((kind, value), ("SRV", "DAMAGE-ME-" + "d" * 50))


if __name__ == "__main__":
    unittest.main()
