"""The crash loop: ember-server under a mixed load of remote writers and
local readers, SIGKILLed at random moments and restarted (same name,
run_dir and data_dir, so a warm restart can find its arena again), checks
after every restart:

- durability (DESIGN.md "Durability", invariants 7 and 14): with
  fsync = always every acknowledged write is there; with everysec every one
  acknowledged more than EVERYSEC_WINDOW_S before the kill (a SIGKILL loses
  nothing the OS holds, but the test asks no more than the mode promises);
  a write that was sent but not answered is there or not, an MSET wholly or
  not at all; no key holds a value nobody wrote, and no key exists that
  nobody wrote;
- local readers (tests/client/crash_reader, LocalClient processes that live
  through every kill) never see a torn, foreign or malformed value, nor a
  version of a key older than one they saw before; their reads fail only
  while the server is down, and after each restart they are arena hits
  again (LocalClient reattached by itself);
- the warm restart (promise 3, issue 12): at least WARM_MIN_FRACTION of a
  hot set that local readers had read into the arena before the kill is an
  arena hit on its first read after the restart, and INFO persistence says
  `arena_start:warm`. Every other check of a round runs first; the hot-set
  failures are gathered and reported once, at the end of the test.

Writers: four redis-py clients (TCP and the Unix socket, pipelined and
one command at a time) own their keys and send SET, DEL, INCRBY and MSET.
Every value says what it is: b"<key>|<writer>|<seq>|<pad>|<crc32>" with
<writer> the key up to its last ':' (d:<w>, or h for the hot keys), <seq>
growing per writer (so per key), <pad> the letter 'a' + seq % 26
repeated, <crc32> the zlib CRC-32 of what precedes the last '|' as 8 hex
digits; counters ("n:...") hold the number INCRBY made (only growing).

A fifth client swaps databases 2 and 3 (SWAPDB) in a loop; each holds one
key, sw:tag, b"X" in the one that started as 2: after each restart the tags
must show a number of swaps the kill allows (with fsync = always the
acknowledged count, or one more if one was unanswered).

EMBER_CRASH_ROUNDS (default 12) kills per fsync mode; the issue's long run is
EMBER_CRASH_ROUNDS=30. The seed is printed; EMBER_SEED=<seed> replays it.
EMBER_CRASH_READER names the reader binary (CTest sets it).
"""

import os
import random
import select
import signal
import subprocess
import threading
import time
import unittest
import zlib

import redis

from ember_fixture import EmberServer, EmberTestCase, _die_with_parent

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_READER = os.path.normpath(
    os.path.join(HERE, "..", "..", "build", "tests", "client",
                 "crash_reader"))

ROUNDS = int(os.environ.get("EMBER_CRASH_ROUNDS", "12"))
WRITERS = (("tcp", True), ("unix", True), ("tcp", False), ("unix", False))
DATA_KEYS = 150      # d:<w>:<i> per writer
COUNTER_KEYS = 8     # n:<w>:<i> per writer
HOT_KEYS = 2000      # h:<i>, written once, read through local readers
WARM_MIN_FRACTION = 0.9
EVERYSEC_WINDOW_S = 1.5  # "the last second", with room for the sync's time
PADS = (0, 10, 100, 300, 3000)
ABSENT = None  # the value of a key that does not exist
NOT_SENT = object()


def seed_from_env():
    seed = int(os.environ.get("EMBER_SEED", time.time_ns() % (1 << 32)))
    print(f"\nseed {seed} (EMBER_SEED={seed} replays it)", flush=True)
    return seed


def make_value(key, writer, seq, pad_len):
    body = f"{key}|{writer}|{seq}|{chr(97 + seq % 26) * pad_len}".encode()
    return body + b"|%08x" % zlib.crc32(body)


def reader_path():
    return os.environ.get("EMBER_CRASH_READER") or DEFAULT_READER


class WriterState:
    """What one writer acknowledged, across rounds. Per key a history of
    (ack time, value) (ABSENT: deleted or never written), pruned to the
    last few seconds plus the newest entry before them; `pending` is what
    the unanswered requests at the kill would leave, `pending_msets` the
    key groups of unanswered MSETs."""

    HISTORY_S = 4.0

    def __init__(self, wid, transport, pipelined, rng):
        self.wid, self.transport, self.pipelined = wid, transport, pipelined
        self.rng = rng
        self.data = [f"d:{wid}:{i}" for i in range(DATA_KEYS)]
        self.counters = [f"n:{wid}:{i}" for i in range(COUNTER_KEYS)]
        self.keys = self.data + self.counters
        self.history = {k: [(float("-inf"), ABSENT)] for k in self.keys}
        self.pending = {}
        self.pending_msets = []
        self.seq = 0
        self.ops = 0        # acknowledged commands, all rounds
        self.error = None   # an unexpected exception of a round

    def last(self, key):
        return self.history[key][-1][1]

    def acked(self, key, value, now):
        h = self.history[key]
        h.append((now, value))
        cutoff = now - self.HISTORY_S
        while len(h) >= 2 and h[1][0] < cutoff:
            h.pop(0)

    def allowed(self, key, kill_time, window_s):
        """The values `key` may hold after a kill at `kill_time` that may
        lose what was acknowledged in the last `window_s`."""
        h = self.history[key]
        if window_s <= 0:
            return [h[-1][1]]
        cutoff = kill_time - window_s
        older = [v for t, v in h if t < cutoff]
        return older[-1:] + [v for t, v in h if t >= cutoff]

    def next_value(self, key):
        self.seq += 1
        return make_value(key, f"d:{self.wid}", self.seq,
                          self.rng.choice(PADS))

    def plan(self):
        """One request's commands (several when pipelined) on distinct
        keys: [(command, args...)], and the state each key would have."""
        rng = self.rng
        n = rng.randint(1, 6) if self.pipelined else 1
        free = rng.sample(self.data, len(self.data))
        free_counters = rng.sample(self.counters, len(self.counters))
        commands, planned, msets = [], {}, []
        for _ in range(n):
            r = rng.random()
            if r < 0.45:
                k = free.pop()
                v = self.next_value(k)
                commands.append(("set", k, v))
                planned[k] = v
            elif r < 0.55:
                k = free.pop()
                commands.append(("delete", k))
                planned[k] = ABSENT
            elif r < 0.75 and free_counters:
                k = free_counters.pop()
                by = rng.randint(1, 5)
                commands.append(("incrby", k, by))
                planned[k] = str(int(self.last(k) or 0) + by).encode()
            else:
                group = [free.pop() for _ in range(rng.randint(2, 4))]
                pairs = {k: self.next_value(k) for k in group}
                commands.append(("mset", pairs))
                planned.update(pairs)
                msets.append(group)
        return commands, planned, msets


class Round(threading.Thread):
    """One client's connection for one round: work(r) sends requests until
    the server dies under it (a connection error ends the round) or `stop`
    is set; any other failure is kept in the state's `error`."""

    def __init__(self, state, server, stop, name):
        super().__init__(daemon=True, name=name)
        self.s, self.server, self.stop = state, server, stop

    def connect(self):
        return redis.Redis(host="127.0.0.1", port=self.server.port,
                           socket_timeout=10, socket_connect_timeout=5)

    def run(self):
        r = self.connect()
        try:
            self.work(r)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # the server was killed mid-request: what was sent stays
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.s.error = repr(e)
        finally:
            r.close()


class WriterRound(Round):
    def __init__(self, state, server, stop):
        super().__init__(state, server, stop, f"writer-{state.wid}")

    def connect(self):
        if self.s.transport == "unix":
            return redis.Redis(unix_socket_path=self.server.unix_socket,
                               socket_timeout=10, socket_connect_timeout=5)
        return super().connect()

    def work(self, r):
        s = self.s
        while not self.stop.is_set():
            commands, planned, msets = s.plan()
            s.pending, s.pending_msets = planned, msets
            target = r.pipeline(transaction=False) if s.pipelined else r
            replies = []
            for name, *args in commands:
                replies.append(getattr(target, name)(*args))
            if s.pipelined:
                replies = target.execute()
            now = time.monotonic()
            for (name, *args), reply in zip(commands, replies):
                if name == "incrby":
                    assert reply == int(planned[args[0]]), \
                        (args, reply, planned[args[0]])
                elif name in ("set", "mset"):
                    assert reply is True, (name, reply)
            for k, v in planned.items():
                s.acked(k, v, now)
            s.pending, s.pending_msets = {}, []
            s.ops += len(commands)


SWAP_DBS = (2, 3)


class SwapperState:
    """The SWAPDB client's counts: swaps acknowledged, and sent (one more
    while one is unanswered), with this round's acknowledgement times."""

    def __init__(self):
        self.acked = self.sent = self.ops = 0
        self.acked_at = []
        self.error = None

    @staticmethod
    def tags(n):
        """sw:tag of databases 2 and 3 after n swaps."""
        return (b"X", b"Y") if n % 2 == 0 else (b"Y", b"X")

    def allowed(self, kill_time, window_s):
        """The numbers of swaps a restart may show."""
        recent = sum(1 for t in self.acked_at if t > kill_time - window_s)
        return range(self.acked - recent, self.sent + 1)


class SwapperRound(Round):
    def __init__(self, state, server, stop):
        super().__init__(state, server, stop, "swapper")

    def work(self, r):
        s = self.s
        while not self.stop.is_set():
            s.sent = s.acked + 1
            assert r.swapdb(*SWAP_DBS) is True
            s.acked += 1
            s.acked_at.append(time.monotonic())
            s.ops += 1


class Reader:
    """A crash_reader process: one request line, one answer line."""

    ANSWER_TIMEOUT_S = 30.0

    def __init__(self, server, label):
        self.label = label
        self.proc = subprocess.Popen(
            [reader_path(), server.name, server.run_dir, server.unix_socket],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        self.buf = b""
        self.errors = []  # its stderr lines (violations), the last 50
        self._drain = threading.Thread(target=self._drain_stderr,
                                       daemon=True)
        self._drain.start()

    def _drain_stderr(self):
        for raw in self.proc.stderr:
            self.errors = (self.errors + [raw.decode("utf-8", "replace")
                                          .rstrip()])[-50:]

    def ask(self, line, timeout=ANSWER_TIMEOUT_S):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(
                    f"reader {self.label}: no answer to {line!r} within "
                    f"{timeout} s; stderr: {self.errors[-5:]}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(
                    f"reader {self.label} exited (code {self.proc.poll()}) "
                    f"on {line!r}; stderr: {self.errors[-5:]}")
            self.buf += chunk
        answer, self.buf = self.buf.split(b"\n", 1)
        return answer.decode("utf-8", "replace")

    def ask_counts(self, line, word, timeout=ANSWER_TIMEOUT_S):
        """Sends a HOT or STATS line; returns its answer as a dict (numbers
        as int, `first` as the text of the first violation)."""
        answer = self.ask(line, timeout)
        head, _, first = answer.partition(" first=")
        fields = head.split()
        if not fields or fields[0] != word:
            raise AssertionError(f"reader {self.label}: {line!r} answered "
                                 f"{answer!r}")
        counts = {k: int(v) for k, v in (f.split("=") for f in fields[1:])}
        counts["first"] = first
        return counts

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"EXIT\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._drain.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()


class CrashLoop(EmberTestCase):
    def setUp(self):
        if not os.access(reader_path(), os.X_OK):
            raise FileNotFoundError(
                f"crash_reader not found at {reader_path()}: build it "
                f"(cmake --build build --target crash_reader) or set "
                f"EMBER_CRASH_READER")

    def start_server(self, fsync):
        # 1 MiB segments: rotations and deletions happen all through the
        # load, so kills land among log writes, segment creation and
        # deletion; a short applier delay and a small dirty cap keep
        # RocksDB behind the log, so restarts replay something.
        self.server = EmberServer(fsync=fsync, log_segment_bytes="1mb",
                                  applier_delay_ms=5, dirty_max_bytes="4mb",
                                  arena_bytes="64mb")
        self.addCleanup(self.server.cleanup)
        # The same run_dir for every start: made here, 0750, kept.
        os.mkdir(self.server.run_dir, 0o750)
        os.chmod(self.server.run_dir, 0o750)
        self.server.start()

    def start_reader(self, label):
        reader = Reader(self.server, label)
        self.addCleanup(reader.close)
        return reader

    # -- checks --------------------------------------------------------------

    def hot_values(self):
        return {f"h:{i}": make_value(f"h:{i}", "h", 1, 40 + i % 200)
                for i in range(HOT_KEYS)}

    def warm_hot_set(self, reader, ctx):
        """Reads the hot set through `reader` until it is in the arena
        (promotions may be dropped under writes: read again)."""
        for _ in range(8):
            got = reader.ask_counts(f"HOT h: {HOT_KEYS}", "HOT")
            self.assertEqual((got["nil"], got["err"], got["bad"]),
                             (0, 0, 0), f"{ctx}: hot set read {got}")
            if got["hits"] >= 0.99 * HOT_KEYS:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(
            got["hits"], WARM_MIN_FRACTION * HOT_KEYS,
            f"{ctx}: the hot set is not in the arena before the kill: {got}")
        return got["hits"]

    def read_hot_set_after_restart(self, reader, ctx):
        """The first read of every hot key after a restart, through
        `reader` once it has attached to the new server's arena: the HOT
        counts. Each key is present and intact whatever the arena kept."""
        self.assertEqual(reader.ask("READY 5000", timeout=10), "READY 1",
                         f"{ctx}: the reader did not attach to the arena "
                         f"within 5 s of the restart")
        got = reader.ask_counts(f"HOT h: {HOT_KEYS}", "HOT")
        self.assertEqual((got["nil"], got["err"], got["bad"]), (0, 0, 0),
                         f"{ctx}: hot set after the restart {got}")
        return got

    def assert_warm_restart_kept_hot_set(self, got, info, ctx):
        """The hot set read into the arena before the kill is still there:
        of the first reads after the restart (`got`, from
        read_hot_set_after_restart) at least WARM_MIN_FRACTION were arena
        hits, INFO persistence (`info`) says arena_start:warm, and it kept
        at least as many items as there were hits."""
        fields = ("arena_start", "arena_start_reason",
                  "arena_start_items_kept", "arena_start_items_dropped",
                  "arena_start_ms")
        start = {f: info.get(f) for f in fields}
        kept_items = start["arena_start_items_kept"]
        if not (got["hits"] >= WARM_MIN_FRACTION * HOT_KEYS and
                start["arena_start"] == "warm" and
                isinstance(kept_items, int) and kept_items >= got["hits"]):
            self.fail(
                f"{ctx}: warm restart kept {got['hits']} of {HOT_KEYS} hot "
                f"keys "
                f"(arena_start={start['arena_start']}, "
                f"reason={start['arena_start_reason']}, "
                f"items_kept={kept_items}, "
                f"items_dropped={start['arena_start_items_dropped']}, "
                f"start_ms={start['arena_start_ms']}); want >= "
                f"{WARM_MIN_FRACTION:.0%} arena hits, arena_start=warm and "
                f"items_kept >= the hits")

    def check_writers(self, writers, r, kill_time, window_s, ctx):
        """Every writer key holds a value it may hold after the kill; then
        the writers' states start again from what is there."""
        lost = 0
        for w in writers:
            got = dict(zip(w.keys, r.mget(w.keys)))
            for key in w.keys:
                have = got[key]
                allowed = w.allowed(key, kill_time, window_s)
                pending = w.pending.get(key, NOT_SENT)
                if have not in allowed and have != pending:
                    self.fail(
                        f"{ctx}: {key} is {have!r}; acknowledged "
                        f"{w.last(key)!r} (allowed {allowed!r}), unanswered "
                        f"{'nothing' if pending is NOT_SENT else pending!r}")
                if have != w.last(key) and have != pending:
                    lost += 1  # everysec only: within the window
            for group in w.pending_msets:
                applied = [got[k] == w.pending[k] for k in group]
                self.assertTrue(
                    all(applied) or not any(applied),
                    f"{ctx}: an unanswered MSET is partly applied: "
                    f"{dict(zip(group, applied))}")
            for key in w.keys:  # durable now: recovery flushed it
                w.history[key] = [(float("-inf"), got[key])]
            w.pending, w.pending_msets = {}, []
        return lost

    def check_swaps(self, s, kill_time, window_s, ctx):
        """Databases 2 and 3 hold their one key each, swapped a number of
        times the kill allows; the count starts again from what is there."""
        found = []
        for db in SWAP_DBS:
            c = self.server.client(db=db)
            found.append((c.get("sw:tag"), c.dbsize()))
            c.close()
        tags = tuple(tag for tag, _ in found)
        self.assertEqual([n for _, n in found], [1, 1], f"{ctx}: {found}")
        shown = [n for n in s.allowed(kill_time, window_s)
                 if s.tags(n) == tags]
        self.assertTrue(shown, f"{ctx}: databases {SWAP_DBS} hold {tags} "
                        f"after {s.acked} acknowledged swaps ({s.sent} sent)")
        s.acked = s.sent = shown[-1]
        s.acked_at = []

    def check_keyspace(self, r, universe, ctx):
        strangers = [k for k in r.scan_iter(count=1000)
                     if k.decode() not in universe]
        self.assertEqual(strangers[:10], [],
                         f"{ctx}: keys nobody wrote")

    def check_readers(self, readers, ctx, since=None):
        """The readers' loop counts (STATS), checked: no bad value ever;
        and when `since` (earlier counts, taken while the server was up
        and it stayed up since) is given, no error since and new arena
        hits (the readers reattached to this server's arena)."""
        stats = {}
        for rd in readers:
            st = rd.ask_counts("STATS", "STATS")
            self.assertEqual(
                st["bad"], 0,
                f"{ctx}: reader {rd.label} saw {st['bad']} bad values; first: "
                f"{st['first']}; stderr: {rd.errors[-5:]}")
            stats[rd.label] = st
            if since is None:
                continue
            before = since[rd.label]
            self.assertEqual(
                st["err"] - before["err"], 0,
                f"{ctx}: reader {rd.label} got errors while the server was "
                f"up: {before} -> {st}")
            self.assertGreater(
                st["hits"] - before["hits"], 0,
                f"{ctx}: reader {rd.label} made no arena hit since the "
                f"restart: {before} -> {st}")
        return stats

    # -- the loop ------------------------------------------------------------

    def crash_loop(self, fsync):
        seed = seed_from_env()
        rng = random.Random(seed)
        window_s = EVERYSEC_WINDOW_S if fsync == "everysec" else 0
        self.start_server(fsync)
        r = self.server.client()
        hot = self.hot_values()
        self.assertTrue(r.mset(hot))
        r.close()
        swapper = SwapperState()
        for db, tag in zip(SWAP_DBS, SwapperState.tags(0)):
            c = self.server.client(db=db)
            self.assertTrue(c.set("sw:tag", tag))
            c.close()
        writers = [WriterState(i, t, p, random.Random(rng.random()))
                   for i, (t, p) in enumerate(WRITERS)]
        universe = set(hot)
        for w in writers:
            universe.update(w.keys)
        loop_spec = " ".join(f"d:{w.wid}: {DATA_KEYS} n:{w.wid}: "
                             f"{COUNTER_KEYS}" for w in writers)
        readers = [self.start_reader(str(i)) for i in range(2)]
        for rd in readers:
            self.assertEqual(rd.ask(f"LOOP {loop_spec}"), "LOOPING")
        warmer, measurer = readers[1], readers[0]
        stats = self.check_readers(readers, f"seed {seed} fsync {fsync}")
        hot_failures = []
        hot_fractions, dropped = [], 0
        replayed = lost = 0
        t0 = time.monotonic()
        for rnd in range(ROUNDS):
            ctx = f"seed {seed} fsync {fsync} round {rnd}"
            stop = threading.Event()
            threads = [WriterRound(w, self.server, stop) for w in writers]
            threads.append(SwapperRound(swapper, self.server, stop))
            ops_before = sum(w.ops for w in writers)
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 0.4))  # the load is on
            self.warm_hot_set(warmer, ctx)
            # Kill at a random moment, mostly more than EVERYSEC_WINDOW_S
            # into the load, so everysec's window does not cover it all.
            time.sleep(rng.uniform(0.3, 3.0))
            stats = self.check_readers(readers, ctx, since=stats)
            kill_time = time.monotonic()
            self.server.kill()
            for t in threads:
                t.join(timeout=30)
            stop.set()
            self.assertFalse(any(t.is_alive() for t in threads),
                             f"{ctx}: a writer hangs after the kill")
            for w in writers:
                self.assertIsNone(w.error, f"{ctx}: writer {w.wid}")
            self.assertIsNone(swapper.error, f"{ctx}: swapper")
            self.assertGreater(sum(w.ops for w in writers), ops_before,
                               f"{ctx}: no write was acknowledged")

            self.server.start()
            info = self.server.info("persistence")
            replayed += info.get("recovery_records", 0)
            first_reads = self.read_hot_set_after_restart(measurer, ctx)
            hot_fractions.append(first_reads["hits"] / HOT_KEYS)
            dropped += info.get("arena_start_items_dropped", 0)
            try:
                self.assert_warm_restart_kept_hot_set(first_reads, info, ctx)
            except self.failureException as e:
                hot_failures.append(str(e).split("\n")[0])
            r = self.server.client()
            lost += self.check_writers(writers, r, kill_time, window_s, ctx)
            self.check_swaps(swapper, kill_time, window_s, ctx)
            self.assertEqual(r.mget(list(hot)), list(hot.values()),
                             f"{ctx}: the hot keys changed")
            self.check_keyspace(r, universe, ctx)
            r.close()
            stats = self.check_readers(readers, ctx)
        elapsed = time.monotonic() - t0
        print(f"fsync {fsync}: {ROUNDS} rounds in {elapsed:.1f} s, "
              f"{sum(w.ops for w in writers)} writes and {swapper.ops} "
              f"SWAPDBs acknowledged, "
              f"{replayed} records replayed, {lost} acknowledged writes "
              f"lost in the window; hot keys kept per restart: min "
              f"{min(hot_fractions):.3f}, median "
              f"{sorted(hot_fractions)[len(hot_fractions) // 2]:.3f}; "
              f"{dropped} items dropped in all; readers {stats}", flush=True)
        for label, st in stats.items():
            self.assertGreater(st["hits"], 0, f"reader {label}: no hit")
        self.assertGreater(replayed, 0, f"seed {seed}: nothing replayed")
        self.assertGreater(swapper.ops, 0, f"seed {seed}: no SWAPDB answered")
        if fsync == "always":
            self.assertEqual(lost, 0)
        if hot_failures:
            self.fail(f"seed {seed} fsync {fsync}: {len(hot_failures)} of "
                      f"{ROUNDS} restarts lost the hot set; first: "
                      f"{hot_failures[0]}")

    def test_fsync_always(self):
        self.crash_loop("always")

    def test_fsync_everysec(self):
        self.crash_loop("everysec")


if __name__ == "__main__":
    unittest.main()
