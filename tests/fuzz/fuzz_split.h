// tests/fuzz/fuzz_split.h: feeds a fuzzer's bytes to an incremental parser
// in pieces whose sizes the input's first byte chooses, as a socket splits a
// stream anywhere. Thread safety: none needed (one fuzzer thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ember::fuzz {

// Calls parse(buffer, &consumed) until it asks for more than there is,
// appending piece after piece of `data` as a connection would, and erasing
// what each call consumed. `parse` returns true to go on, false to stop (an
// error). Aborts when a parser consumes more than it was given.
template <typename Parse>
void FeedInPieces(const uint8_t* data, size_t size, Parse&& parse) {
  if (size == 0) return;
  const size_t piece = 1 + data[0] % 64;
  std::string buffer;
  for (size_t at = 1; at < size;) {
    const size_t n = std::min(piece, size - at);
    buffer.append(reinterpret_cast<const char*>(data + at), n);
    at += n;
    for (;;) {
      size_t consumed = 0;
      const int r = parse(std::string_view(buffer), &consumed);
      if (consumed > buffer.size()) std::abort();
      buffer.erase(0, consumed);
      if (r < 0) return;  // an error: nothing more parses
      if (r == 0) break;  // needs more
    }
  }
}

}  // namespace ember::fuzz
