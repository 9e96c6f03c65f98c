// bench/workloads.h: the entry points of ember-bench's workloads, one per
// row of the table in ember_bench.cc. Each prints its own Reports (see
// report.h) and returns false with *error when the run failed or any reply
// was an error. Thread safety: each runs on the calling thread and starts
// its own threads.
#pragma once

#include <string>

#include "bench/options.h"

namespace ember::bench {

// RESP over TCP: ember-server, redis-server, any RESP server.
bool RunRemote(const Options& o, std::string* error);
// memcached's text protocol.
bool RunMemcache(const Options& o, std::string* error);
// mdb_get on an LMDB environment holding the same keys, one thread.
bool RunLmdb(const Options& o, std::string* error);
// LocalClient::Get (zero-copy from the arena) in threads and processes.
bool RunLocal(const Options& o, std::string* error);
// LocalClient over a key space larger than the arena: arena hits, server
// reads (cold hits from RocksDB) and promotions, with separate latencies.
bool RunTiered(const Options& o, std::string* error);

}  // namespace ember::bench
