// protocol/crlf_line.h: finding one "\r\n"-terminated line with a bound,
// shared by the request parser (resp_parser) and the reply parser
// (resp_reply). Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <string_view>

namespace ember::protocol {

// kLine: `*line` is the line starting at `pos` without its "\r\n", and
// `*next` the position after it. kTooBig: more than `max` bytes before the
// '\r', whether or not it has arrived, so the outcome does not depend on
// how the input was split. kBadEnd: '\r' not followed by '\n'.
enum class LineStatus { kLine, kNeedMore, kTooBig, kBadEnd };

inline LineStatus FindCrlfLine(std::string_view input, size_t pos, size_t max,
                               std::string_view* line, size_t* next) {
  const size_t cr = input.find('\r', pos);
  const size_t end = cr == std::string_view::npos ? input.size() : cr;
  if (end - pos > max) return LineStatus::kTooBig;
  if (cr == std::string_view::npos || cr + 1 == input.size()) {
    return LineStatus::kNeedMore;
  }
  if (input[cr + 1] != '\n') return LineStatus::kBadEnd;
  *line = input.substr(pos, cr - pos);
  *next = cr + 2;
  return LineStatus::kLine;
}

}  // namespace ember::protocol
