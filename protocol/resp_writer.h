// protocol/resp_writer.h: appends RESP2 replies (and requests, for clients
// and benchmarks) to a caller-owned std::string. Every function only appends;
// nothing is flushed or cleared. Thread safety: stateless free functions;
// each output string needs one writer at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>

namespace ember::protocol {

// "+<text>\r\n". '\r' and '\n' in `text` become spaces so the reply stays
// framed; use a bulk string for anything binary.
void AppendSimpleString(std::string* out, std::string_view text);

// "+OK\r\n".
void AppendOk(std::string* out);

// "-<message>\r\n". `message` starts with the error code and has no '-',
// e.g. "ERR unknown command 'foo'" or "WRONGTYPE ..."; '\r' and '\n' in it
// become spaces, as Redis does for its error replies.
void AppendError(std::string* out, std::string_view message);

// ":<n>\r\n".
void AppendInteger(std::string* out, int64_t n);

// "$<len>\r\n<bytes>\r\n". Binary-safe: any bytes, NUL and "\r\n" included.
void AppendBulk(std::string* out, std::string_view bytes);

// "$-1\r\n": the null bulk string (a missing key for GET).
void AppendNullBulk(std::string* out);

// "*<count>\r\n"; append `count` replies after it.
void AppendArrayHeader(std::string* out, size_t count);

// "*-1\r\n": the null array.
void AppendNullArray(std::string* out);

// An array of bulk strings: how clients send a command, and how the server
// answers e.g. CONFIG GET. `Range` is any range of things convertible to
// std::string_view (std::vector<std::string>, a Command, ...).
template <typename Range>
void AppendBulkArray(std::string* out, const Range& items) {
  AppendArrayHeader(out, std::size(items));
  for (const auto& item : items) AppendBulk(out, std::string_view(item));
}
inline void AppendBulkArray(std::string* out,
                            std::initializer_list<std::string_view> items) {
  AppendBulkArray<std::initializer_list<std::string_view>>(out, items);
}

}  // namespace ember::protocol
