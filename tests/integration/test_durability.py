"""Durability of the real ember-server: every acknowledged write survives a
SIGKILL with `fsync always`, and with `fsync everysec` once a second has
passed; the restart reuses the data_dir and the arena name (whose
/dev/shm segment the killed server left behind, marked dirty).
"""

import threading
import time
import unittest

import redis

from ember_fixture import EmberServer, EmberTestCase

N_KEYS = 2000


def value_of(i):
    return f"value-{i}-".encode() * (1 + i % 7)


class DurabilityTest(EmberTestCase):
    def start(self, **settings):
        self.server = EmberServer(**settings)
        self.addCleanup(self.server.cleanup)
        self.server.start()
        return self.server.client()

    def assertEveryKeyReadsBack(self, r, keys):
        names = list(keys)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            got = r.mget(chunk)
            missing = [k for k, v in zip(chunk, got) if v is None]
            self.assertEqual(missing, [], f"{len(missing)} keys lost")
            self.assertEqual(got, [keys[k] for k in chunk])


class FsyncAlways(DurabilityTest):
    def test_every_acknowledged_set_survives_sigkill(self):
        r = self.start(fsync="always")
        keys = {f"always:{i}": value_of(i) for i in range(N_KEYS)}
        for k, v in keys.items():  # one at a time: each one acknowledged
            self.assertTrue(r.set(k, v))
        r.close()
        self.server.kill()
        self.server.start()
        r = self.server.client()
        self.assertEveryKeyReadsBack(r, keys)
        self.assertEqual(r.dbsize(), N_KEYS)

    def test_pipelined_sets_deletes_and_ttls_survive_sigkill(self):
        r = self.start(fsync="always")
        keys = {f"pipe:{i}": value_of(i) for i in range(N_KEYS)}
        p = r.pipeline(transaction=False)
        for k, v in keys.items():
            p.set(k, v)
        for i in range(0, N_KEYS, 10):
            p.delete(f"pipe:{i}")
        p.set("with-ttl", "v", ex=1000)
        p.incrby("counter", 41)
        p.incr("counter")
        replies = p.execute()
        self.assertTrue(all(replies[:N_KEYS]))
        self.assertEqual(replies[-2:], [41, 42])
        r.close()
        self.server.kill()
        self.server.start()
        r = self.server.client()
        for i in range(0, N_KEYS, 10):
            del keys[f"pipe:{i}"]
        self.assertEveryKeyReadsBack(r, keys)
        self.assertEqual(r.mget([f"pipe:{i}" for i in range(0, N_KEYS, 10)]),
                         [None] * (N_KEYS // 10))
        self.assertEqual(r.get("counter"), b"42")
        self.assertIn(r.ttl("with-ttl"), range(990, 1001))

    def test_every_acknowledged_set_survives_a_sigkill_mid_stream(self):
        r = self.start(fsync="always")
        acked = {}
        stop = threading.Event()

        def writer():
            i = 0
            try:
                while not stop.is_set():
                    if r.set(f"race:{i}", value_of(i)):
                        acked[f"race:{i}"] = value_of(i)
                    i += 1
            except redis.ConnectionError:
                pass  # the kill

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        self.server.kill()
        stop.set()
        t.join(timeout=30)
        self.assertGreater(len(acked), 10)
        self.server.start()
        self.assertEveryKeyReadsBack(self.server.client(), acked)

    def test_data_survives_two_kills_in_a_row(self):
        r = self.start(fsync="always")
        self.assertTrue(r.set("first", "1"))
        self.server.kill()
        self.server.start()
        r = self.server.client()
        self.assertTrue(r.set("second", "2"))
        self.server.kill()
        self.server.start()
        self.assertEqual(self.server.client().mget("first", "second"),
                         [b"1", b"2"])


class FsyncEverySec(DurabilityTest):
    def test_sets_survive_sigkill_after_a_one_second_pause(self):
        r = self.start(fsync="everysec")
        keys = {f"everysec:{i}": value_of(i) for i in range(N_KEYS)}
        p = r.pipeline(transaction=False)
        for k, v in keys.items():
            p.set(k, v)
        self.assertTrue(all(p.execute()))
        r.close()
        time.sleep(1.5)
        self.server.kill()
        self.server.start()
        r = self.server.client()
        self.assertEveryKeyReadsBack(r, keys)
        self.assertEqual(r.dbsize(), N_KEYS)


class GracefulStop(DurabilityTest):
    def test_sigterm_restart_keeps_every_key(self):
        r = self.start(fsync="no")
        keys = {f"term:{i}": value_of(i) for i in range(N_KEYS)}
        r.mset(keys)
        r.close()
        code = self.server.terminate()
        self.assertEqual(code, 0, self.server.log())  # a clean stop exits 0
        self.assertIn("stopped: arena marked clean, RocksDB flushed and closed",
                      self.server.log())
        self.server.start()
        self.assertEveryKeyReadsBack(self.server.client(), keys)

    def test_sigterm_with_only_writes_served_exits_0(self):
        r = self.start()
        for i in range(50):
            self.assertTrue(self.server.client().set(f"w{i}", i))
        r.close()
        self.server.stop()  # asserts exit code 0

    def test_sigterm_after_reads_exits_0(self):
        self.start()
        # Many connections, so both network threads serve some reads.
        for i in range(40):
            c = self.server.client()
            c.get(f"k{i}")
            c.ping()
            c.close()
        self.server.stop()  # asserts exit code 0


class Databases(DurabilityTest):
    """Every database's keys, a FLUSHDB and a MOVE survive a SIGKILL (the log
    replay) and a warm or cold restart."""

    def fill(self, r, db, n):
        keys = {f"db{db}:{i}": value_of(i) for i in range(n)}
        p = r.pipeline(transaction=False)
        for k, v in keys.items():
            p.set(k, v)
        p.execute()
        return keys

    def test_other_databases_survive_sigkill_and_flushdb(self):
        r = self.start(fsync="always")
        dbs = {db: self.server.client(db=db) for db in (0, 3, 15)}
        keys = {db: self.fill(c, db, 300) for db, c in dbs.items()}
        doomed = self.server.client(db=7)
        self.fill(doomed, 7, 100)
        self.assertTrue(doomed.flushdb())  # others hold keys: per-key deletes
        self.assertTrue(dbs[3].move("db3:0", 4))
        del keys[3]["db3:0"]
        for c in list(dbs.values()) + [doomed, r]:
            c.close()
        for restart in ("kill", "kill", "stop"):
            getattr(self.server, restart)()
            self.server.start()
            for db, want in keys.items():
                c = self.server.client(db=db)
                self.assertEveryKeyReadsBack(c, want)
                self.assertEqual(c.dbsize(), len(want), f"db {db}")
                c.close()
            c = self.server.client(db=7)
            self.assertEqual(c.dbsize(), 0)
            c.close()
            c = self.server.client(db=4)
            self.assertEqual(c.get("db3:0"), value_of(0))
            self.assertEqual(c.dbsize(), 1)
            info = self.server.client().info("keyspace")
            self.assertEqual(sorted(info), ["db0", "db15", "db3", "db4"])
            self.assertEqual(info["db3"]["keys"], 299)

    def test_swapdb_survives_sigkill_and_restarts(self):
        """SWAPDBs, one pipelined between writes of the same commit, hold
        after SIGKILLs (the log), a graceful stop (RocksDB's ember_meta) and
        a restart without the warm arena."""
        r = self.start(fsync="always")
        zero, one = self.server.client(db=0), self.server.client(db=1)
        keys0, keys1 = self.fill(zero, 0, 200), self.fill(one, 1, 50)
        p = zero.pipeline(transaction=False)
        p.set("before", "b").swapdb(0, 1).set("after", "a").swapdb(2, 5)
        self.assertEqual(p.execute(), [True, True, True, True])
        keys0["before"] = b"b"
        keys1["after"] = b"a"
        for c in (zero, one, r):
            c.close()
        # Clients number databases as swapped: 0 holds what 1 held.
        want = {0: keys1, 1: keys0}
        for restart in ("kill", "kill", "stop", "cold"):
            if restart == "cold":
                self.server.stop()
                self.server.settings["warm_restart"] = "no"
                self.server.start()
            else:
                getattr(self.server, restart)()
                self.server.start()
            for db, keys in want.items():
                c = self.server.client(db=db)
                self.assertEveryKeyReadsBack(c, keys)
                self.assertEqual(c.dbsize(), len(keys), f"{restart} db {db}")
                c.close()
            info = self.server.client().info("keyspace")
            self.assertEqual(info["db0"]["keys"], 51, restart)
            self.assertEqual(info["db1"]["keys"], 201, restart)


if __name__ == "__main__":
    unittest.main()
