// server/open_files.cc: getrlimit/setrlimit for RLIMIT_NOFILE.
#include "server/open_files.h"

#include <sys/resource.h>

#include <cerrno>

namespace ember::server {

uint64_t RaiseOpenFilesLimit(uint64_t want, int* error) {
  *error = 0;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    *error = errno;
    return 1024;  // what Redis assumes when it cannot ask
  }
  if (lim.rlim_cur >= want) return lim.rlim_cur;
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= want) {
    rlimit raised = lim;
    raised.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return want;
    *error = errno;
  } else {
    // Past the hard limit: only a process with CAP_SYS_RESOURCE may.
    rlimit raised{want, want};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return want;
    *error = errno;
    rlimit to_hard = lim;
    to_hard.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &to_hard) == 0) return lim.rlim_max;
  }
  return lim.rlim_cur;
}

}  // namespace ember::server
