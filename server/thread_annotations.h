// server/thread_annotations.h: Clang's thread-safety annotations, checked at
// compile time by -Wthread-safety (on in every clang build, see the top
// CMakeLists.txt), and the Mutex, MutexLock and CondVar that carry them:
// libstdc++'s std::mutex is not annotated, so Clang cannot check it.
// On other compilers the macros expand to nothing.
//
//   Mutex mu_;
//   int n_ GUARDED_BY(mu_) = 0;    // read or written only with mu_ held
//   void Bump() EXCLUDES(mu_) {   // takes mu_ itself
//     MutexLock lock(&mu_);
//     ++n_;
//   }
//   void BumpLocked() REQUIRES(mu_);  // the caller holds mu_
//
// Thread safety: a Mutex is a std::mutex; a MutexLock and the CondVar waits
// belong to the thread that took the lock; Signal from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define EMBER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define EMBER_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (a capability named `x` in Clang's messages).
#define CAPABILITY(x) EMBER_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a capability for its lifetime.
#define SCOPED_CAPABILITY EMBER_THREAD_ANNOTATION(scoped_lockable)
// A data member read or written only with lock `x` held.
#define GUARDED_BY(x) EMBER_THREAD_ANNOTATION(guarded_by(x))
// A pointer member whose pointee is guarded by `x` (the pointer is not).
#define PT_GUARDED_BY(x) EMBER_THREAD_ANNOTATION(pt_guarded_by(x))
// Lock order: this lock is taken before (after) the named ones.
#define ACQUIRED_BEFORE(...) \
  EMBER_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) EMBER_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The caller must hold (must not hold) the locks.
#define REQUIRES(...) EMBER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) EMBER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes (gives back) the locks, and returns with them held
// (released). With no argument: `this`.
#define ACQUIRE(...) EMBER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) EMBER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// Checks at run time (or promises) that the lock is held.
#define ASSERT_CAPABILITY(x) EMBER_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to lock `x`.
#define RETURN_CAPABILITY(x) EMBER_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function; say why beside it.
#define NO_THREAD_SAFETY_ANALYSIS \
  EMBER_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace ember::server {

class CondVar;

// A std::mutex that Clang's analysis knows about.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction (std::lock_guard).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable; each wait names the Mutex it releases, so that
// Clang checks the caller holds it. Waits take no predicate (the analysis
// cannot see that a lambda runs under the lock): loop on the condition.
//   while (!ready_ && cv_.WaitUntil(&mu_, deadline)) {}
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu` while it waits and holds it again on return. May wake
  // spuriously, like std::condition_variable. REQUIRES: every wait on this
  // CondVar names the same Mutex.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's MutexLock unlocks it
  }
  // As Wait(); false once `deadline` has passed.
  bool WaitUntil(Mutex* mu, std::chrono::steady_clock::time_point deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken =
        cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  // As WaitUntil, for at most `ms` real milliseconds from now (the caller
  // computes `ms` from shm/clock.h's seam; see shm::RealWaitMs).
  bool WaitForMs(Mutex* mu, uint64_t ms) REQUIRES(mu) {
    return WaitUntil(
        mu, std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace ember::server
