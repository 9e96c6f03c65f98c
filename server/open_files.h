// server/open_files.h: the open-files limit (RLIMIT_NOFILE) the server needs
// for max_clients connections beside its own descriptors, raised as Redis's
// adjustOpenFilesLimit raises it.
// Thread safety: the process limit is process-wide; call from one thread at
// a time (start-up, CONFIG SET under the server's config lock).
#pragma once

#include <cstdint>

namespace ember::server {

// Descriptors Redis keeps for itself beyond its clients
// (CONFIG_MIN_RESERVED_FDS); Ember adds RocksDB's and the readers' to it.
inline constexpr uint64_t kMinReservedFds = 32;

// Raises the soft open-files limit to `want` when it is lower: up to the
// hard limit, and past it when the process may (root). Returns the soft
// limit in force afterwards; when that is below `want`, *error is the errno
// of the refusal (0 when none was tried).
uint64_t RaiseOpenFilesLimit(uint64_t want, int* error);

}  // namespace ember::server
