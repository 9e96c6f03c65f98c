// protocol/inline_args.cc: splits an inline request line into arguments
// with Redis's quoting rules (sdssplitargs in redis src/sds.c).
#include "protocol/inline_args.h"

#include <utility>

namespace ember::protocol {
namespace {

// isspace() in the C locale, which sdssplitargs skips between arguments.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args) {
  args->clear();
  // sdssplitargs works on a C string, so a NUL ends the line.
  line = line.substr(0, line.find('\0'));
  const size_t n = line.size();
  auto at = [&](size_t k) { return k < n ? line[k] : '\0'; };
  size_t i = 0;
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i == n) return true;
    std::string arg;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      char c = at(i);
      if (in_double) {
        if (c == '\\' && at(i + 1) == 'x' && HexValue(at(i + 2)) >= 0 &&
            HexValue(at(i + 3)) >= 0) {
          arg.push_back(static_cast<char>(HexValue(at(i + 2)) * 16 +
                                          HexValue(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1) != '\0') {
          char e = at(++i);
          switch (e) {
            case 'n':
              e = '\n';
              break;
            case 'r':
              e = '\r';
              break;
            case 't':
              e = '\t';
              break;
            case 'b':
              e = '\b';
              break;
            case 'a':
              e = '\a';
              break;
            default:
              break;
          }
          arg.push_back(e);
        } else if (c == '"') {
          // A closing quote must end the argument.
          if (at(i + 1) != '\0' && !IsSpace(at(i + 1))) break;
          done = true;
        } else if (c == '\0') {
          break;  // unterminated quotes
        } else {
          arg.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          arg.push_back('\'');
        } else if (c == '\'') {
          if (at(i + 1) != '\0' && !IsSpace(at(i + 1))) break;
          done = true;
        } else if (c == '\0') {
          break;
        } else {
          arg.push_back(c);
        }
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
        done = true;
      } else if (c == '"') {
        in_double = true;
      } else if (c == '\'') {
        in_single = true;
      } else {
        arg.push_back(c);
      }
      if (i < n) ++i;
    }
    if (!done) {  // left the loop by `break`: unbalanced quotes
      args->clear();
      return false;
    }
    args->push_back(std::move(arg));
  }
}

}  // namespace ember::protocol
