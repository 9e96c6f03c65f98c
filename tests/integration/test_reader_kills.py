"""Local readers SIGKILLed at random while the server runs (DESIGN.md
invariants 1 and 12, "Liveness").

The real ember-server with a small arena (eviction runs), one writer
overwriting a key set larger than the arena with pipelined SETs, and a loop
that starts real local reader processes (tests/client/local_worker, env
EMBER_LOCAL_WORKER) and SIGKILLs each at a random moment: while it holds a
read guard (HOLD), while it takes guards back to back (a stream of GETs), or
before it has even claimed its slot. A few readers live at once. The kill
schedule is printed as a seed; EMBER_SEED=<seed> replays it.

Afterwards: the reader slots are back at the baseline (INFO local_readers,
and `ember-cli arena` lists no client slot and no pid of a killed reader);
writes never stalled (every pipeline answered within a second, and writes
went on throughout the loop); the arena stayed bounded (its chunks within
arena_bytes, the retired chunks drained); and a fresh local reader still
reads zero-copy.
"""

import os
import random
import signal
import subprocess
import threading
import time
import unittest

from ember_fixture import EmberServer, EmberTestCase

WORKER = os.environ.get("EMBER_LOCAL_WORKER", "")
CLI = os.environ.get("EMBER_CLI", "")
KILLS = 200
LIVE = 4  # readers alive at once
HOT_KEYS = 64  # the keys readers read (the writer rewrites them too)
BULK_KEYS = 30000  # 30000 x 300 B: more than the 8 MiB arena
MAX_PIPELINE_S = 1.0  # a pipeline of writes slower than this is a stall


def seed_from_env():
    seed = int(os.environ.get("EMBER_SEED", time.time_ns() % (1 << 32)))
    print(f"\nseed {seed} (EMBER_SEED={seed} replays it)", flush=True)
    return seed


class Writer(threading.Thread):
    """Overwrites hot and bulk keys in pipelines of 100 SETs until stopped;
    records when each pipeline was answered and the slowest one."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.client = server.client(socket_timeout=10)
        self.stop = threading.Event()
        self.writes = 0
        self.slowest = 0.0
        self.done_at = []  # monotonic time of each answered pipeline
        self.errors = []

    def run(self):
        n = 0
        try:
            while not self.stop.is_set():
                p = self.client.pipeline(transaction=False)
                for i in range(100):
                    n += 1
                    if i % 10 == 0:
                        key = f"hot:{n % HOT_KEYS}"
                    else:
                        key = f"bulk:{n % BULK_KEYS}"
                    p.set(key, f"{key}={n}:".ljust(300, "v"))
                began = time.monotonic()
                replies = p.execute()
                now = time.monotonic()
                self.slowest = max(self.slowest, now - began)
                self.done_at.append(now)
                if not all(r is True for r in replies):
                    self.errors.append(replies)
                self.writes += len(replies)
        except Exception as e:  # reported by the test, not lost
            self.errors.append(repr(e))


class ReaderKills(EmberTestCase):
    def setUp(self):
        self.assertTrue(os.access(WORKER, os.X_OK), f"no local_worker: {WORKER}")
        self.assertTrue(os.access(CLI, os.X_OK), f"no ember-cli: {CLI}")
        self.server = EmberServer(arena_bytes="8mb", page_bytes="128kb",
                                   max_value_bytes_hot="32kb")
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def spawn(self):
        return subprocess.Popen(
            [WORKER, self.server.name, self.server.run_dir,
             self.server.unix_socket],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)

    def info_int(self, field, section="clients"):
        return int(self.server.info(section)[field])

    def client_slots(self):
        """The pids of the client (non-server) slots `ember-cli arena`
        lists, as the server's broker knows them."""
        out = subprocess.run(
            [CLI, "--run-dir", self.server.run_dir, "arena",
             self.server.name], capture_output=True, text=True,
            timeout=10).stdout
        self.assertIn("readers:", out)
        pids = []
        for line in out.splitlines():
            words = line.split()
            if words[:1] == ["slot"] and "client" in words:
                pids.append(int(words[words.index("pid") + 1]))
        return pids

    def start_reader(self, rng):
        """A reader in one of three states, and how long to let it run:
        ("attach", p): not waited for, killed while it starts and claims
        its slot; ("hold", p): holds a guard on a hot key; ("churn", p):
        takes guards back to back (a stream of GETs it has yet to read)."""
        p = self.spawn()
        mode = rng.choices(["attach", "hold", "churn"], [1, 4, 5])[0]
        if mode != "attach":
            p.stdin.write(f"HOLD hot:{rng.randrange(HOT_KEYS)}\n".encode())
            p.stdin.flush()
            line = p.stdout.readline()
            self.assertTrue(line.startswith(b"HELD"), line)
        if mode == "churn":
            keys = "".join(f"GET hot:{rng.randrange(HOT_KEYS)}\n"
                           for _ in range(2000))
            p.stdin.write(keys.encode())
            p.stdin.flush()
        return mode, p

    def test_killed_readers_leak_no_slot_and_stall_no_write(self):
        rng = random.Random(seed_from_env())
        r = self.server.client()
        for i in range(HOT_KEYS):
            r.set(f"hot:{i}", f"hot:{i}=0:")
        baseline = self.info_int("local_readers")
        self.assertEqual(self.client_slots(), [])
        writer = Writer(self.server)
        writer.start()
        self.addCleanup(writer.stop.set)
        began = time.monotonic()
        live, killed, modes, peak = [], [], {}, baseline
        while len(killed) < KILLS:
            live.append(self.start_reader(rng))
            if len(live) < LIVE:
                continue
            time.sleep(rng.uniform(0, 0.02))
            peak = max(peak, self.info_int("local_readers"))
            mode, p = live.pop(rng.randrange(len(live)))
            p.kill()
            p.wait()
            p.stdin.close()
            p.stdout.close()
            killed.append(p.pid)
            modes[mode] = modes.get(mode, 0) + 1
        for mode, p in live:
            p.kill()
            p.wait()
            p.stdin.close()
            p.stdout.close()
            killed.append(p.pid)
        loop_s = time.monotonic() - began
        writer.stop.set()
        writer.join(timeout=30)
        print(f"{len(killed)} readers killed in {loop_s:.1f} s ({modes}); "
              f"{writer.writes} writes, slowest pipeline "
              f"{writer.slowest * 1000:.0f} ms", flush=True)

        # The readers were seen: the slot count moved while they lived.
        self.assertGreater(peak, baseline)
        # No slot leaked: the broker freed every dead reader's slot.
        deadline = time.monotonic() + 5
        while (self.info_int("local_readers") != baseline and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(self.info_int("local_readers"), baseline)
        slots = self.client_slots()
        self.assertEqual(slots, [], f"slots of dead readers: {slots}")
        # No stall: every pipeline answered within a second, and writes went
        # on throughout the loop (no second without an answered pipeline).
        self.assertEqual(writer.errors[:3], [])
        self.assertLess(writer.slowest, MAX_PIPELINE_S)
        gaps = [b - a for a, b in zip([began] + writer.done_at,
                                      writer.done_at)]
        self.assertLess(max(gaps), MAX_PIPELINE_S)
        self.assertGreater(writer.writes, 100 * KILLS)
        # Bounded memory: chunks within the arena, and the retired chunks
        # reclaimed once no reader holds them (none is left).
        info = self.server.info("memory stats")
        self.assertLessEqual(int(info["arena_chunk_bytes"]),
                             int(info["arena_bytes"]))
        self.assertGreater(int(info["evicted_keys"]), 0)  # eviction ran
        deadline = time.monotonic() + 5
        while (self.info_int("arena_retired_pending", "memory") != 0 and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(self.info_int("arena_retired_pending", "memory"), 0)
        # A fresh local reader still reads zero-copy.
        for i in range(10):
            r.set(f"fresh:{i}", f"after the kills {i}")
        p = self.spawn()
        out, _ = p.communicate(
            "".join(f"GET fresh:{i}\n" for i in range(10)).encode() +
            b"EXIT\n", timeout=10)
        self.assertEqual(
            out.decode().splitlines(),
            [f"HIT after the kills {i}" for i in range(10)])


if __name__ == "__main__":
    unittest.main()
