// server/command_util.cc: integer parsing and glob matching as Redis does.
#include "server/command_util.h"

#include <cctype>
#include <limits>

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

bool GlobMatch(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = pi++;
      star_t = ti;
      continue;
    }
    bool ok = false;
    size_t next = pi + 1;
    if (pi < p.size()) {
      if (p[pi] == '?') {
        ok = true;
      } else if (p[pi] == '[') {
        size_t j = pi + 1;
        const bool negate = j < p.size() && p[j] == '^';
        if (negate) ++j;
        bool in = false;
        for (; j < p.size() && p[j] != ']'; ++j) {
          if (p[j] == '\\' && j + 1 < p.size()) {
            in |= p[++j] == t[ti];
          } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            char lo = p[j], hi = p[j + 2];
            if (lo > hi) std::swap(lo, hi);
            in |= t[ti] >= lo && t[ti] <= hi;
            j += 2;
          } else {
            in |= p[j] == t[ti];
          }
        }
        ok = (in != negate);
        next = j < p.size() ? j + 1 : j;
      } else if (p[pi] == '\\' && pi + 1 < p.size()) {
        ok = p[pi + 1] == t[ti];
        next = pi + 2;
      } else {
        ok = p[pi] == t[ti];
      }
    }
    if (ok) {
      pi = next;
      ++ti;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      ti = ++star_t;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace ember::server
