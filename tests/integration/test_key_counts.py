"""DBSIZE and INFO keyspace are counts the cold tier keeps with every batch
(server/cold_counts.cc), not scans. Checked against what SCAN finds through
a random history of writes over several databases (TTLs, MOVE, COPY,
RENAME, FLUSHDB, SWAPDB) with SIGKILLs and restarts (its seed printed);
expired keys leave RocksDB without anyone reading them; a restart reads
the counts back instead of counting."""

import random
import time
import unittest

import redis

from ember_fixture import EmberServer, EmberTestCase

DBS = (0, 1, 5)
LONG_MS = 1_000_000  # outlives the test
SHORT_MS = 40        # expired by the next check (which waits longer)


class KeyCounts(EmberTestCase):
    def start(self, **settings):
        self.server = EmberServer(**settings)
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def clients(self):
        return {db: self.server.client(db=db) for db in DBS}

    def assertCountsMatchAScan(self, clients, what):
        info = clients[0].info("keyspace")
        for db, c in clients.items():
            keys = list(c.scan_iter(count=500))
            with_ttl = sum(1 for k in keys if c.pttl(k) > 0)
            self.assertEqual(c.dbsize(), len(keys), f"{what}: db {db}")
            got = info.get(f"db{db}", {"keys": 0, "expires": 0})
            self.assertEqual((got["keys"], got["expires"]),
                             (len(keys), with_ttl), f"{what}: db {db}")

    def step(self, rng, clients):
        db = rng.choice(DBS)
        c = clients[db]
        k = f"k{rng.randrange(60)}"
        other = rng.choice([d for d in DBS if d != db])
        op = rng.randrange(100)
        try:
            if op < 30:
                ttl = rng.choice([None, None, LONG_MS, SHORT_MS])
                c.set(k, "v", px=ttl)
            elif op < 40:
                c.mset({f"k{rng.randrange(60)}": "m" for _ in range(3)})
            elif op < 50:
                c.delete(k, f"k{rng.randrange(60)}")
            elif op < 57:
                c.pexpire(k, rng.choice([LONG_MS, SHORT_MS]))
            elif op < 62:
                c.persist(k)
            elif op < 68:
                c.move(k, other)
            elif op < 74:
                c.copy(k, f"k{rng.randrange(60)}", destination_db=other,
                       replace=rng.random() < 0.5)
            elif op < 80:
                c.rename(k, f"k{rng.randrange(60)}")
            elif op < 85:
                c.incr(f"n{rng.randrange(5)}")
            elif op < 89:
                c.getdel(k)
            elif op < 93:
                c.set(k, "nx", nx=True, px=rng.choice([None, LONG_MS]))
            elif op < 96:
                c.append(k, "a")
            elif op < 98:
                c.swapdb(db, other)
            else:
                c.flushdb()
        except redis.ResponseError as e:
            # RENAME of an absent key, INCR of a non-number: as Redis.
            self.assertIn(str(e), ("no such key",
                                   "value is not an integer or out of range"))

    def test_counts_match_a_scan_through_a_random_history(self):
        seed = random.randrange(1 << 30)
        print(f"test_counts_match_a_scan_through_a_random_history seed {seed}")
        rng = random.Random(seed)
        self.start(fsync="always")
        clients = self.clients()
        for i in range(1, 601):
            self.step(rng, clients)
            if i % 40 == 0:
                time.sleep(SHORT_MS * 2 / 1000)  # every short TTL is over
                self.assertCountsMatchAScan(clients, f"seed {seed} step {i}")
            if i % 200 == 0:
                for c in clients.values():
                    c.close()
                if i == 400:
                    self.server.stop()
                else:
                    self.server.kill()
                self.server.start()
                clients = self.clients()
                self.assertCountsMatchAScan(clients, f"seed {seed} restart {i}")
        # Read back at every start, never counted again.
        self.assertNotIn("indexed their expiries", self.server.log())

    def test_expired_keys_leave_rocksdb_unread(self):
        self.start()
        r = self.server.client()
        r.execute_command("CONFIG", "RESETSTAT")
        p = r.pipeline(transaction=False)
        for i in range(300):
            p.set(f"t{i}", "v", px=50)
        p.set("stays", "v")
        p.execute()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if r.info("stats")["expired_keys"] == 300:
                break
            time.sleep(0.05)
        # The applier's passes deleted them (INFO reads no key).
        self.assertEqual(r.info("stats")["expired_keys"], 300)
        self.assertGreater(r.info("persistence")["applier_passes"], 0)
        self.assertEqual(r.dbsize(), 1)
        self.assertEqual(r.info("keyspace")["db0"]["keys"], 1)


if __name__ == "__main__":
    unittest.main()
