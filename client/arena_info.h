// client/arena_info.h: a read-only description of an arena for people:
// `ember-cli arena NAME` prints it. Maps the segments read-only, takes no
// reader slot, and describes arenas in any state (CLEAN, RETIRED, another
// layout), since that is when someone looks. Thread safety: stateless.
#pragma once

#include <string>

#include "shm/status.h"

namespace ember::client {

// Appends to `*out` the header (magic, layout, state, generation, writer pid
// and heartbeat age, epoch, sizes), fill (items, bytes, pages), stats
// (evictions, reclamation, revocations), the size classes in use and the
// claimed reader slots (pid, alive or dead, announced epoch). kUnavailable
// when the arena does not exist; kIOError or kCorruption when it cannot be
// read (the message names the object); a header of another layout is
// described as far as is safe and flagged.
shm::Status DescribeArena(const std::string& name, const std::string& run_dir,
                          std::string* out);

}  // namespace ember::client
