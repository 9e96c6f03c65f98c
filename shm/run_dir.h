// shm/run_dir.h: the run directory, a directory only the server's user can
// change. Every file in it is reached through the directory's descriptor
// with O_NOFOLLOW, so nobody else can redirect what the server opens.
// Thread safety: a RunDir is immutable after Open; share it freely.
#pragma once

#include <sys/types.h>

#include <string>

#include "shm/status.h"

namespace ember::shm {

class RunDir {
 public:
  RunDir() = default;
  RunDir(RunDir&& o) noexcept;
  RunDir& operator=(RunDir&& o) noexcept;
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  ~RunDir();

  // For the server: creates `path` (mode 0750, parents 0755) when missing
  // and opens it without following a symlink. kIOError naming the path when
  // it is a symlink or not a directory, is owned by another uid than ours,
  // or grants group write or any access to others (mode & 027).
  static Status OpenForServer(const std::string& path, RunDir* out);
  // The checks of OpenForServer, without creating: kUnavailable if absent.
  static Status OpenExisting(const std::string& path, RunDir* out);
  // For a reader: opens an existing `path` without following a symlink and
  // checks it is closed as the server makes it (mode & 027 == 0: nobody but
  // its owner can change it, others cannot enter). Its owner is taken to be
  // the server's user (see owner()); whoever can create `path` first is
  // trusted, so production run_dirs belong under a directory only the
  // server's user can write (DESIGN.md, "Trust boundary").
  static Status OpenForReader(const std::string& path, RunDir* out);

  // openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode); the new file's
  // owner is checked to be ours. Returns the fd or -1 with `*s` set.
  int OpenFile(const std::string& name, int flags, mode_t mode,
               Status* s) const;
  // unlinkat(fd, name); an absent name is not an error.
  void Unlink(const std::string& name) const;
  // fchmodat relative to the directory: only its owner can swap names in
  // it, so the name is the file that was just made.
  bool Chmod(const std::string& name, mode_t mode) const;

  const std::string& path() const { return path_; }
  std::string PathOf(const std::string& name) const {
    return path_ + "/" + name;
  }
  uid_t owner() const { return owner_; }
  int fd() const { return fd_; }

 private:
  static Status Open(const std::string& path, bool must_own, RunDir* out);
  std::string path_;
  int fd_ = -1;
  uid_t owner_ = 0;
};

}  // namespace ember::shm
