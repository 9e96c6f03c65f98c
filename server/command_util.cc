// server/command_util.cc: integer and float parsing, float formatting and
// option matching as Redis does them.
#include "server/command_util.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "server/glob_pattern.h"

namespace ember::server {

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  const bool neg = s[0] == '-';
  if (neg) i = 1;
  if (i == s.size()) return false;
  if (s[i] == '0' && s.size() > i + 1) return false;  // leading zero
  if (neg && s[i] == '0') return false;               // "-0"
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > uint64_t{1} << 63) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return GlobPattern(pattern).Match(text);
}

std::string_view CStr(std::string_view s) { return s.substr(0, s.find('\0')); }

bool ArgIs(std::string_view arg, std::string_view name) {
  arg = CStr(arg);
  if (arg.size() != name.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(arg[i])) != name[i])
      return false;
  }
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  constexpr size_t kMaxChars = 5 * 1024;  // Redis's MAX_LONG_DOUBLE_CHARS
  if (s.empty() || s.size() >= kMaxChars) return false;
  const std::string buf(s);
  char* end = nullptr;
  errno = 0;
  const long double v = std::strtold(buf.c_str(), &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) ||
      end != buf.c_str() + buf.size() ||
      (errno == ERANGE && (std::isinf(v) || std::fpclassify(v) == FP_ZERO)) ||
      errno == EINVAL || std::isnan(v)) {
    return false;
  }
  *out = v;
  return true;
}

std::string FormatLongDouble(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // At most 4933 digits before the point (LDBL_MAX), 17 after.
  char buf[5 * 1024];
  const int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(buf)) return "";
  std::string_view s(buf, static_cast<size_t>(n));
  if (s.find('.') != std::string_view::npos) {
    while (s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") return "0";
  return std::string(s);
}

}  // namespace ember::server
