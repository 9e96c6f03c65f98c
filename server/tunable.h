// server/tunable.h: Tunable<T>, a setting CONFIG SET may change while every
// thread reads it. A number or enum is one relaxed atomic (a plain load on
// x86: cheap on the hot path, never contended); a string is copied under a
// small lock (read at connection start and AUTH, not per command).
// Copying a Tunable copies its value, so a Config holding them stays a value.
// Thread safety: any thread may read or assign at any time.
#pragma once

#include <atomic>
#include <string>
#include <type_traits>

#include "server/thread_annotations.h"

namespace ember::server {

template <typename T>
class Tunable {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  Tunable() = default;
  Tunable(T v) : v_(v) {}  // NOLINT: implicit, as the plain field was
  Tunable(const Tunable& o) : v_(o.get()) {}
  Tunable& operator=(const Tunable& o) {
    set(o.get());
    return *this;
  }
  Tunable& operator=(T v) {
    set(v);
    return *this;
  }
  T get() const { return v_.load(std::memory_order_relaxed); }
  void set(T v) { v_.store(v, std::memory_order_relaxed); }
  operator T() const { return get(); }  // NOLINT: reads like the plain field

 private:
  std::atomic<T> v_{};
};

template <>
class Tunable<std::string> {
 public:
  Tunable() = default;
  Tunable(std::string v) : v_(std::move(v)) {}  // NOLINT: implicit
  Tunable(const Tunable& o) : v_(o.get()) {}
  Tunable& operator=(const Tunable& o) {
    set(o.get());
    return *this;
  }
  Tunable& operator=(std::string v) {
    set(std::move(v));
    return *this;
  }
  // A copy: the value may change as soon as the lock is released.
  std::string get() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return v_;
  }
  void set(std::string v) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    v_ = std::move(v);
  }
  operator std::string() const { return get(); }  // NOLINT

 private:
  mutable Mutex mu_;
  std::string v_ GUARDED_BY(mu_);
};

}  // namespace ember::server
