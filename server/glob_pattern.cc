// server/glob_pattern.cc: compiles a Redis glob into one byte set per token
// (parsed as stringmatchlen() of Redis 7.0 parses it), then matches with the
// usual backtrack-to-the-last-star loop, which gives the same answers as
// Redis's recursion (every token but '*' takes exactly one byte).
#include "server/glob_pattern.h"

#include <utility>

namespace ember::server {
namespace {

// Redis compares class ranges as (signed) chars: "[a-\xff]" is the range
// from -1 to 'a'.
int Signed(char c) { return static_cast<signed char>(c); }

void AddRange(char a, char b, std::bitset<256>* set) {
  int lo = Signed(a), hi = Signed(b);
  if (lo > hi) std::swap(lo, hi);
  for (int c = 0; c < 256; ++c) {
    const int sc = Signed(static_cast<char>(c));
    if (sc >= lo && sc <= hi) set->set(static_cast<size_t>(c));
  }
}

// Parses the class that starts at p[i] == '[' into *set; returns the index
// after it. Redis reads the byte after the pattern as its NUL terminator,
// hence at().
size_t ParseClass(std::string_view p, size_t i, std::bitset<256>* set) {
  auto at = [&](size_t j) { return j < p.size() ? p[j] : '\0'; };
  size_t j = i + 1;
  const bool negate = at(j) == '^';
  if (negate) ++j;
  while (true) {
    if (at(j) == '\\' && p.size() - j >= 2) {
      ++j;
      set->set(static_cast<unsigned char>(p[j]));
    } else if (at(j) == ']') {
      break;
    } else if (j >= p.size()) {
      --j;  // unclosed: the class ends with the pattern
      break;
    } else if (p.size() - j >= 3 && p[j + 1] == '-') {
      AddRange(p[j], p[j + 2], set);
      j += 2;
    } else {
      set->set(static_cast<unsigned char>(p[j]));
    }
    ++j;
  }
  if (negate) set->flip();
  return j + 1;
}

}  // namespace

GlobPattern::GlobPattern(std::string_view p)
    : empty_(p.empty()), match_all_(p == "*") {
  size_t i = 0;
  while (i < p.size()) {
    Token t;
    if (p[i] == '*') {
      while (i < p.size() && p[i] == '*') ++i;  // a run of stars is one
      t.star = true;
    } else if (p[i] == '?') {
      t.bytes.set();
      ++i;
    } else if (p[i] == '[') {
      i = ParseClass(p, i, &t.bytes);
    } else if (p[i] == '\\' && p.size() - i >= 2) {
      t.bytes.set(static_cast<unsigned char>(p[i + 1]));
      i += 2;
    } else {
      t.bytes.set(static_cast<unsigned char>(p[i]));
      ++i;
    }
    tokens_.push_back(t);
  }
}

bool GlobPattern::Match(std::string_view text) const {
  if (text.empty()) return empty_;
  constexpr size_t kNone = static_cast<size_t>(-1);
  const size_t n = tokens_.size();
  size_t pi = 0, ti = 0, star = kNone, star_ti = 0;
  while (ti < text.size()) {
    if (pi < n && tokens_[pi].star) {
      if (++pi == n) return true;  // a final star takes the rest
      star = pi;
      star_ti = ti;
      continue;
    }
    if (pi < n &&
        tokens_[pi].bytes.test(static_cast<unsigned char>(text[ti]))) {
      ++pi;
      ++ti;
      continue;
    }
    if (star == kNone) return false;
    pi = star;  // the last star takes one more byte
    ti = ++star_ti;
  }
  while (pi < n && tokens_[pi].star) ++pi;
  return pi == n;
}

}  // namespace ember::server
