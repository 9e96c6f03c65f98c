// shm/barrier.h: the asymmetric fence of the read protocol. A reader's
// announce must be ordered before its index loads (a store-load pair, which
// x86 orders only with a full barrier). In kMembarrier mode readers use a
// plain store, and the writer, once per reclaim scan, makes every CPU that
// runs a registered process execute a full barrier (membarrier(2), the
// technique of liburcu's "memb" flavour). Lookups then overlap their cache
// misses instead of waiting for each other.
// Thread safety: all functions are safe from any thread.
#pragma once

#include <cstdint>

namespace ember::shm {

enum class BarrierMode : uint32_t {
  kExchange = 1,    // readers announce with a seq_cst exchange
  kMembarrier = 2,  // readers store plainly; the writer calls membarrier
};

// Registers this process for MEMBARRIER_CMD_GLOBAL_EXPEDITED. False when the
// kernel lacks it (readers must then announce with an exchange).
bool RegisterMembarrier();

// Makes every running thread of every registered process pass a full
// barrier. False on failure (the caller must then not free anything).
bool GlobalBarrier();

}  // namespace ember::shm
