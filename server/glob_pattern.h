// server/glob_pattern.h: Redis's glob patterns (KEYS, SCAN MATCH, CONFIG
// GET), matched in O(pattern x text) steps with no recursion, where Redis 7's
// stringmatchlen() recurses once per '*'. Thread safety: immutable after
// construction.
#pragma once

#include <bitset>
#include <cstddef>
#include <string_view>
#include <vector>

namespace ember::server {

class GlobPattern {
 public:
  // Compiles `pattern` as Redis reads it: '*' any run of bytes, '?' one
  // byte, "[abc]" "[^a-z]" a class ('\' escapes inside and outside), any
  // other byte itself. Nothing is an error: an unclosed '[' is a class
  // running to the end of the pattern, "[a-]" is a range from 'a' to ']',
  // a trailing '\' is itself, and ranges compare bytes as signed chars, all
  // as in Redis.
  explicit GlobPattern(std::string_view pattern);

  // Whether the whole of `text` matches. As in Redis, an empty text matches
  // only the empty pattern, not even "*".
  bool Match(std::string_view text) const;
  // True for the pattern "*" alone, which KEYS and SCAN do not match at all
  // (so they list the empty key, which Match("") would not).
  bool match_all() const { return match_all_; }

 private:
  struct Token {
    bool star = false;
    std::bitset<256> bytes;  // the bytes this token matches (not a star)
  };
  bool empty_ = true;
  bool match_all_ = false;
  std::vector<Token> tokens_;
};

}  // namespace ember::server
