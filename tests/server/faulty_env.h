// tests/server/faulty_env.h: a RocksDB Env over the real file system whose
// file appends (table files, MANIFEST: what a flush writes; the WAL is off)
// fail while `failing` is set, as a full or broken disk would make them
// fail, and wait while `stalled` is set, as a disk that stopped answering
// would. For tests of the applier's failure and back-pressure paths.
// Thread safety: the flags may be flipped from any thread.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace ember::server::testing {

class FaultyEnv {
 public:
  FaultyEnv()
      : fs_(std::make_shared<FaultyFs>(rocksdb::FileSystem::Default(), this)),
        env_(rocksdb::NewCompositeEnv(fs_)) {}
  rocksdb::Env* env() { return env_.get(); }

  std::atomic<bool> failing{false};
  std::atomic<bool> stalled{false};

 private:
  // Waits while stalled; then NoSpace while failing.
  rocksdb::IOStatus Check() const {
    while (stalled.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (failing.load()) return rocksdb::IOStatus::NoSpace("injected");
    return rocksdb::IOStatus::OK();
  }
  // A file whose appends go through Check().
  class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> f, const FaultyEnv* env)
        : FSWritableFileOwnerWrapper(std::move(f)), env_(env) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = env_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, dbg) : s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = env_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, v, dbg) : s;
    }

   private:
    const FaultyEnv* env_;
  };

  class FaultyFs : public rocksdb::FileSystemWrapper {
   public:
    FaultyFs(const std::shared_ptr<rocksdb::FileSystem>& base,
             const FaultyEnv* env)
        : FileSystemWrapper(base), env_(env) {}
    const char* Name() const override { return "ember.FaultyFs"; }
    rocksdb::IOStatus NewWritableFile(
        const std::string& name, const rocksdb::FileOptions& o,
        std::unique_ptr<rocksdb::FSWritableFile>* out,
        rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = target()->NewWritableFile(name, o, out, dbg);
      // Not RocksDB's own text LOG: its failures are ignored anyway.
      if (s.ok() && !name.ends_with("/LOG")) {
        *out = std::make_unique<FaultyFile>(std::move(*out), env_);
      }
      return s;
    }

   private:
    const FaultyEnv* env_;
  };

  std::shared_ptr<FaultyFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace ember::server::testing
