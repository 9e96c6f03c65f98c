// shm/slot_broker.h: the server's side of the attach socket (shm/attach.h).
// One thread accepts local readers, gives each a sealed memfd page for its
// ReaderSlot (registered in the ReaderRegistry) plus the read-only data
// descriptor and the hints memfd, and frees the slot when the reader's
// connection closes. The same thread beats the arena's heartbeat on its own
// clock, so a long commit or a stalled disk never makes readers think the
// server is dead.
// Thread safety: Start and the destructor on one thread; the broker's own
// thread touches only the registry (thread-safe) and the heartbeat word.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shm/arena_format.h"
#include "shm/mapping.h"
#include "shm/reader_registry.h"
#include "shm/run_dir.h"
#include "shm/status.h"

namespace ember::shm {

class SlotBroker {
 public:
  // Binds <dir>/ember.<name>.attach (mode 0660: the group's readers may
  // connect), then starts the thread. The descriptors stay owned by the
  // caller and must outlive the broker, as must `header` and `registry`.
  static Status Start(const RunDir& dir, const std::string& name,
                      int data_ro_fd, int hints_fd, ArenaHeader* header,
                      ReaderRegistry* registry,
                      std::unique_ptr<SlotBroker>* out);
  // Stops the thread, frees every slot it handed out, unlinks the socket.
  ~SlotBroker();
  SlotBroker(const SlotBroker&) = delete;
  SlotBroker& operator=(const SlotBroker&) = delete;

  // Heartbeat period (ms): readers call a heartbeat older than a few of
  // these stale.
  static constexpr int kBeatMs = 100;

 private:
  struct Conn {
    int fd = -1;
    uint32_t pid = 0, uid = 0;
    uint64_t accepted_ms = 0;  // monotonic
    bool holds_slot = false;
    uint32_t slot_index = 0;
    Mapping page;  // the reader's slot page, while holds_slot
  };
  SlotBroker(const RunDir& dir, std::string socket_name, int listen_fd,
             int wake_fd, int data_ro_fd, int hints_fd, ArenaHeader* header,
             ReaderRegistry* registry);
  void Run();
  void Accept();
  // Answers the request waiting on `c`; false when `c` is to be closed.
  bool Serve(Conn* c);
  bool ClaimSlot(Conn* c);
  bool ListReaders(Conn* c);
  void Close(Conn* c);

  const RunDir& dir_;
  const std::string socket_name_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: the destructor's stop signal
  const int data_ro_fd_;
  const int hints_fd_;
  ArenaHeader* const header_;
  ReaderRegistry* const registry_;
  std::vector<std::unique_ptr<Conn>> conns_;  // broker thread only
  uint64_t accept_after_ms_ = 0;  // broker thread only; monotonic ms
  std::thread thread_;
};

}  // namespace ember::shm
