// tests/server/faulty_env.h: a RocksDB Env over the real file system whose
// write-ahead-log appends fail while `failing` is set, as a full or broken
// disk would make them fail. For tests of the write-failure paths.
// Thread safety: `failing` may be flipped from any thread.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace ember::server::testing {

class FaultyEnv {
 public:
  FaultyEnv()
      : fs_(std::make_shared<FaultyFs>(rocksdb::FileSystem::Default(),
                                       &failing)),
        env_(rocksdb::NewCompositeEnv(fs_)) {}
  rocksdb::Env* env() { return env_.get(); }

  std::atomic<bool> failing{false};

 private:
  // A WAL file whose appends fail while *failing.
  class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> f,
               std::atomic<bool>* failing)
        : FSWritableFileOwnerWrapper(std::move(f)), failing_(failing) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (failing_->load()) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (failing_->load()) return rocksdb::IOStatus::NoSpace("injected");
      return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
    }

   private:
    std::atomic<bool>* failing_;
  };

  class FaultyFs : public rocksdb::FileSystemWrapper {
   public:
    FaultyFs(const std::shared_ptr<rocksdb::FileSystem>& base,
             std::atomic<bool>* failing)
        : FileSystemWrapper(base), failing_(failing) {}
    const char* Name() const override { return "ember.FaultyFs"; }
    rocksdb::IOStatus NewWritableFile(
        const std::string& name, const rocksdb::FileOptions& o,
        std::unique_ptr<rocksdb::FSWritableFile>* out,
        rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = target()->NewWritableFile(name, o, out, dbg);
      if (s.ok() && name.size() > 4 &&
          name.compare(name.size() - 4, 4, ".log") == 0) {
        *out = std::make_unique<FaultyFile>(std::move(*out), failing_);
      }
      return s;
    }

   private:
    std::atomic<bool>* failing_;
  };

  std::shared_ptr<FaultyFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace ember::server::testing
