// server/key_prior.h: what RocksDB holds for a key just before the
// applier's batch writes it, when the writer could tell (DESIGN.md "Key
// counts and the expiry index"): a known prior spares the applier a read.
#pragma once

#include <cstdint>

namespace ember::server {

struct KeyPrior {
  enum State : uint8_t {
    kUnknown,   // the applier reads the key
    kAskArena,  // the committer's arena write may know it (dirty_table.h)
    kAbsent,
    kPresent,
  };
  State state = kUnknown;
  uint64_t expiry_ms = 0;  // Unix ms, 0 = none; when kPresent
};

}  // namespace ember::server
