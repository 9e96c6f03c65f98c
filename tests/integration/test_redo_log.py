"""The redo log, the dirty table and the applier in the real ember-server
(DESIGN.md "Durability"): SIGKILL at random points of a write load loses no
acknowledged write and applies no partial one; big values are durable and
readable while dirty; SCAN, DBSIZE and FLUSHALL see dirty keys; the applier
keeps the dirty bytes under their cap; a damaged log stops the start with a
message naming the segment and offset, and a torn tail is dropped.

The crash loop prints its seed; EMBER_SEED=<seed> replays it.
"""

import glob
import os
import random
import threading
import time
import unittest

import redis

from ember_fixture import EmberServer, EmberTestCase


def seed_from_env():
    seed = int(os.environ.get("EMBER_SEED", time.time_ns() % (1 << 32)))
    print(f"\nseed {seed} (EMBER_SEED={seed} replays it)", flush=True)
    return seed


class LogTest(EmberTestCase):
    def start(self, **settings):
        self.server = EmberServer(**settings)
        self.addCleanup(self.server.cleanup)
        self.server.start()
        return self.server.client()

    def segments(self):
        return sorted(glob.glob(os.path.join(self.server.data_dir, "redo",
                                             "log-*.ember")))


class Writer(threading.Thread):
    """A client that owns its keys: it sends pipelines of SET, DEL and
    INCRBY, and remembers per key the last acknowledged state and what was
    sent but not answered when the server died."""

    def __init__(self, port, tid, rng, keys=150):
        super().__init__(daemon=True)
        self.port, self.tid, self.rng = port, tid, rng
        self.keys = [f"w{tid}:{i}" for i in range(keys)]
        self.counters = [f"w{tid}:n{i}" for i in range(10)]
        self.acked = {}    # key -> bytes, or None: absent
        self.pending = {}  # key -> what an unanswered request would leave
        self.stop = False
        self.ops = 0

    def state(self, key):
        return self.acked.get(key)

    def run(self):
        r = redis.Redis(host="127.0.0.1", port=self.port,
                        socket_timeout=30)
        n = 0
        try:
            while not self.stop:
                p = r.pipeline(transaction=False)
                planned = {}
                for key in self.rng.sample(self.keys, self.rng.randint(1, 8)):
                    n += 1
                    if self.rng.random() < 0.2:
                        p.delete(key)
                        planned[key] = None
                    else:
                        v = (f"{self.tid}:{n}:".encode() +
                             b"x" * self.rng.choice((0, 10, 300, 3000)))
                        p.set(key, v)
                        planned[key] = v
                c = self.rng.choice(self.counters)
                before = int(self.acked.get(c) or 0)
                p.incrby(c, 3)
                planned[c] = str(before + 3).encode()
                self.pending = planned
                p.execute()
                self.acked.update(planned)
                self.pending = {}
                self.ops += len(planned)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # the server was killed mid-request: pending stays


class CrashLoop(LogTest):
    ROUNDS = 6

    def crash_loop(self, fsync):
        seed = seed_from_env()
        rng = random.Random(seed)
        # Small segments: rotations and deletions happen all through the
        # load, so the kills land inside log writes, segment creation and
        # segment deletion too.
        self.start(fsync=fsync, log_segment_bytes="1mb", applier_delay_ms=5,
                   dirty_max_bytes="4mb", arena_bytes="32mb")
        writers = [Writer(self.server.port, t, random.Random(rng.random()))
                   for t in range(3)]
        replayed = 0
        for rnd in range(self.ROUNDS):
            threads = [Writer(self.server.port, w.tid, w.rng) for w in writers]
            for t, w in zip(threads, writers):
                t.acked, t.keys, t.counters = w.acked, w.keys, w.counters
                t.start()
            time.sleep(rng.uniform(0.2, 1.0))
            self.server.kill()
            for t in threads:
                t.join(timeout=30)
            self.server.start()
            info = self.server.client().info("persistence")
            replayed += info["recovery_records"]
            r = self.server.client()
            for t, w in zip(threads, writers):
                for key in t.keys + t.counters:
                    got = r.get(key)
                    want = t.acked.get(key)
                    if got != want:
                        self.assertIn(key, t.pending,
                                      f"seed {seed} round {rnd}: {key} is "
                                      f"{got!r}, acknowledged {want!r}")
                        self.assertEqual(
                            got, t.pending[key],
                            f"seed {seed} round {rnd}: {key} is {got!r}, "
                            f"neither acknowledged {want!r} nor the "
                            f"unanswered {t.pending[key]!r}")
                    t.acked[key] = got
                w.acked = t.acked
            self.assertGreater(sum(t.ops for t in threads), 0)
        # Something was in the log at the kills (not everything applied).
        self.assertGreater(replayed, 0, f"seed {seed}: nothing replayed")

    def test_fsync_always_loses_no_acknowledged_write(self):
        self.crash_loop("always")

    def test_fsync_everysec_loses_nothing_to_a_process_crash(self):
        # The OS keeps what was written when the process dies; only a power
        # cut loses the last second.
        self.crash_loop("everysec")


class BigValues(LogTest):
    def test_values_over_max_value_bytes_hot_are_durable_and_readable(self):
        r = self.start(fsync="always", applier_delay_ms=60000,
                       max_value_bytes_hot="64kb")
        values = {f"big:{i}": os.urandom(300_000 + i) for i in range(5)}
        for k, v in values.items():
            self.assertTrue(r.set(k, v))
        info = r.info("persistence")
        self.assertGreaterEqual(info["dirty_keys"], 5)  # not yet applied
        for k, v in values.items():
            self.assertEqual(r.get(k), v)  # from the dirty table
        self.server.kill()
        self.server.start()
        r = self.server.client()
        for k, v in values.items():
            self.assertEqual(r.get(k), v)  # from RocksDB, replayed
        self.assertEqual(r.info("persistence")["recovery_records"], 5)


class DirtyKeyspace(LogTest):
    def test_scan_and_dbsize_are_exact_while_keys_are_dirty(self):
        r = self.start(applier_delay_ms=60000)
        r.mset({f"old:{i}": "v" for i in range(500)})
        self.assertEqual(r.dbsize(), 500)  # applies them
        r.mset({f"new:{i}": "v" for i in range(500)})
        r.delete(*[f"old:{i}" for i in range(0, 500, 5)])
        self.assertGreater(r.info("persistence")["dirty_keys"], 500)
        want = ({f"old:{i}" for i in range(500) if i % 5} |
                {f"new:{i}" for i in range(500)})
        for count in (7, 50, 1000):
            seen = [k.decode() for k in r.scan_iter(count=count)]
            self.assertEqual(len(seen), len(set(seen)), f"count {count}")
            self.assertEqual(set(seen), want, f"count {count}")
        self.assertEqual(set(k.decode() for k in r.keys("*")), want)
        self.assertEqual(r.dbsize(), len(want))

    def test_flushall_with_dirty_keys_leaves_nothing_even_after_sigkill(self):
        r = self.start(fsync="always", applier_delay_ms=60000)
        r.mset({f"a:{i}": "v" for i in range(300)})
        self.assertEqual(r.dbsize(), 300)
        r.mset({f"b:{i}": "v" for i in range(300)})  # dirty
        self.assertTrue(r.flushall())
        self.assertEqual(r.dbsize(), 0)
        self.assertEqual(list(r.scan_iter()), [])
        self.assertIsNone(r.get("a:1"))
        self.assertIsNone(r.get("b:1"))
        r.set("after", "1")
        self.server.kill()
        self.server.start()
        r = self.server.client()
        self.assertEqual(r.dbsize(), 1)
        self.assertEqual(r.get("after"), b"1")
        self.assertIsNone(r.get("a:7"))


class Applier(LogTest):
    def test_sustained_writes_stay_under_the_caps_and_the_log_is_trimmed(self):
        r = self.start(fsync="no", dirty_max_bytes="2mb",
                       log_segment_bytes="1mb", applier_delay_ms=50)
        stop = threading.Event()
        peak = {"dirty": 0, "segments": 0}

        def watch():
            w = self.server.client()
            while not stop.is_set():
                info = w.info("persistence")
                peak["dirty"] = max(peak["dirty"], info["dirty_bytes"])
                peak["segments"] = max(peak["segments"],
                                       info["log_segments"])
                time.sleep(0.01)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        value = b"v" * 1000
        deadline = time.monotonic() + 3
        n = 0
        while time.monotonic() < deadline:
            p = r.pipeline(transaction=False)
            for _ in range(100):
                p.set(f"s:{n % 20000}", value)
                n += 1
            p.execute()
        stop.set()
        watcher.join()
        # One group commit may go past the cap only into an empty table.
        self.assertLessEqual(peak["dirty"], 2 << 20)
        info = r.info("persistence")
        self.assertGreater(info["applier_batches"], 1)
        self.assertGreater(info["applier_flushes"], 0)
        self.assertLess(peak["segments"], 8, "log segments not deleted")
        self.assertLess(len(self.segments()), 8)
        self.assertEqual(r.get(f"s:{(n - 1) % 20000}"), value)


class DamagedLog(LogTest):
    def logged_server(self):
        r = self.start(fsync="always", applier_delay_ms=60000)
        for i in range(50):
            self.assertTrue(r.set(f"k{i}", f"value-{i}"))
        self.server.kill()
        segs = self.segments()
        self.assertEqual(len(segs), 1)
        return segs[0]

    def start_fails(self):
        with self.assertRaises(AssertionError) as cm:
            self.server.start()
        return str(cm.exception)

    def test_damage_before_valid_records_stops_the_start(self):
        seg = self.logged_server()
        with open(seg, "r+b") as f:
            f.seek(32 + 100)  # inside the third record or so
            b = f.read(1)
            f.seek(32 + 100)
            f.write(bytes([b[0] ^ 0xff]))
        log = self.start_fails()
        self.assertIn(seg, log)
        self.assertRegex(log, r"damaged at offset \d+")
        self.assertIn("not a torn tail", log)
        self.assertTrue(os.path.exists(seg), "the segment must be kept")

    def test_a_torn_tail_is_dropped_and_said(self):
        seg = self.logged_server()
        size = os.path.getsize(seg)
        with open(seg, "r+b") as f:
            data = f.read()
            end = len(data.rstrip(b"\0"))
            f.truncate(end - 5)  # the last record loses its last bytes
            f.truncate(size)
        self.server.start()
        r = self.server.client()
        self.assertIn("torn record", self.server.log())
        self.assertEqual(r.info("persistence")["recovery_dropped"],
                         "torn_tail")
        for i in range(49):
            self.assertEqual(r.get(f"k{i}"), f"value-{i}".encode())
        self.assertIsNone(r.get("k49"))  # its record was torn

    def test_a_foreign_file_in_the_log_directory_stops_the_start(self):
        seg = self.logged_server()
        with open(seg, "r+b") as f:
            f.write(b"NOTEMBER")
        log = self.start_fails()
        self.assertIn("bad header", log)


if __name__ == "__main__":
    unittest.main()
