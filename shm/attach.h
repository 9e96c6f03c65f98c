// shm/attach.h: how a local reader gets its mappings. The server listens on
// <run_dir>/ember.<name>.attach (shm/slot_broker.h); a reader connects,
// sends an AttachRequest and gets an AttachReply with, for kClaimSlot, three
// descriptors (SCM_RIGHTS): the data segment opened read-only, the sealed
// hints memfd and a sealed memfd page holding the reader's own ReaderSlot.
// The reader keeps the connection open while it holds the slot: the server
// frees the slot when the connection closes (the kernel closes it when the
// reader dies). Story and threat model: DESIGN.md, "Trust boundary".
// Thread safety: free functions, no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/run_dir.h"
#include "shm/status.h"

namespace ember::shm {

inline constexpr uint32_t kAttachMagic = 0x41424D45;  // "EMBA"
// Bump on any change to the structs below.
inline constexpr uint32_t kAttachVersion = 1;

enum class AttachOp : uint32_t {
  kClaimSlot = 1,    // reply + 3 fds; the connection then holds the slot
  kListReaders = 2,  // reply, then reader_count ReaderInfo; then closed
};

struct AttachRequest {
  uint32_t magic;    // kAttachMagic
  uint32_t version;  // kAttachVersion
  uint32_t op;       // AttachOp
  uint32_t reserved;
};
static_assert(sizeof(AttachRequest) == 16);

struct AttachReply {
  uint32_t magic;
  uint32_t version;
  uint32_t code;  // shm::Code
  uint32_t slot_index;
  uint32_t generation;  // the arena's, when the slot was claimed
  uint32_t reader_count;
  char message[104];  // NUL-terminated reason when code != kOk
};
static_assert(sizeof(AttachReply) == 128);

struct ReaderInfo {
  uint32_t slot_index;
  uint32_t pid;  // from SO_PEERCRED, not from the reader's own page
  uint32_t uid;
  uint32_t revocations;
  uint64_t announce;
  uint32_t internal;  // 1: one of the server's own reader threads
  uint32_t reserved;
};
static_assert(sizeof(ReaderInfo) == 32);

// The name of the attach socket of arena `name` inside the run directory.
std::string AttachSocketName(const std::string& name);

// What kClaimSlot hands over. Owns the descriptors.
struct ClaimedSlot {
  ClaimedSlot() = default;
  ClaimedSlot(const ClaimedSlot&) = delete;
  ClaimedSlot& operator=(const ClaimedSlot&) = delete;
  ~ClaimedSlot();
  int conn = -1;      // keep open while the slot is used
  int data_fd = -1;   // the data segment, read-only
  int hints_fd = -1;  // sealed memfd
  int slot_fd = -1;   // sealed memfd, one page
  uint32_t slot_index = 0;
  uint32_t generation = 0;
};

// Claims a reader slot from the server of arena `name` in `dir`. Checks the
// server is `dir`'s owner (SO_PEERCRED). kUnavailable: no server listening;
// kBusy: every slot taken; kCorruption: a reply that does not fit.
Status ClaimSlot(const RunDir& dir, const std::string& name, ClaimedSlot* out);
// Lists the registered reader slots (for ember-cli arena).
Status ListReaders(const RunDir& dir, const std::string& name,
                   std::vector<ReaderInfo>* out);

}  // namespace ember::shm
