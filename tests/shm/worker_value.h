// tests/shm/worker_value.h: the self-checking values of the process tests.
// A value names its key and version and ends in a checksum of the rest, so
// a reader can tell a sound value from a torn or foreign one by itself.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ember::shm::testing {

// "<key>|<version>|<filler>|<16 hex digits of XXH3 of what precedes>".
inline std::string WorkerValue(const std::string& key, uint64_t version) {
  std::string v =
      key + "|" + std::to_string(version) + "|" +
      std::string((version * 7 + key.size()) % 200, 'a' + version % 26) + "|";
  char sum[17];
  std::snprintf(
      sum, sizeof(sum), "%016llx",
      static_cast<unsigned long long>(XXH3_64bits(v.data(), v.size())));
  return v + sum;
}

inline bool WorkerValueIsSound(std::string_view key, std::string_view v) {
  if (v.size() < 17 || v.substr(0, key.size()) != key || v[key.size()] != '|')
    return false;
  std::string_view body = v.substr(0, v.size() - 16);
  char sum[17];
  std::snprintf(
      sum, sizeof(sum), "%016llx",
      static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
  return v.substr(v.size() - 16) == sum;
}

}  // namespace ember::shm::testing
