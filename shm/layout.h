// shm/layout.h: where each region of the segments goes for given options,
// and the checks a mapped segment must pass before anyone trusts it.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "shm/arena_format.h"
#include "shm/arena_options.h"
#include "shm/status.h"

namespace ember::shm {

// Lays out the data segment for `options`. kInvalidArgument names the
// option that makes a layout impossible (e.g. arena_bytes below one page).
Status ComputeGeometry(const ArenaOptions& options, Geometry* geo);

// Bytes of the hints memfd for `geo`: one byte per granule of the data
// area, rounded up to a 4096-byte page.
uint64_t HintBytes(const Geometry& geo);

// XXH3 of the kernel's boot id (/proc/sys/kernel/random/boot_id), the same
// for every process until the host reboots; 0 when unreadable.
uint64_t BootId();

// Checks a mapped data segment: magic (byte order), layout version, ABI
// hash, recorded size against the mapping, and that every region fits.
// kVersionMismatch for another format, kCorruption for the rest.
Status ValidateHeader(const ArenaHeader& h, uint64_t mapped_bytes,
                      const std::string& path);

}  // namespace ember::shm
