// server/setting_types.h: the types of the settings table (settings.cc):
// how an integer, a byte count, an octal mode, a choice or a string is
// parsed into its Config field and printed back. Parse errors are Redis's
// CONFIG SET words ("argument must be between 1 and 10 inclusive").
// Only settings.cc includes this. Thread safety: pure functions.
#pragma once

#include <cctype>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "server/command_util.h"
#include "server/config.h"

namespace ember::server::setting_types {

using ParseFn = bool (*)(std::string_view, Config*, std::string*);
using FormatFn = std::string (*)(const Config&);
using TypeFn = std::string (*)();

struct Codec {
  ParseFn parse;
  FormatFn format;
  TypeFn type;
  bool path = false;  // a file system path (see Setting::path)
};

// The plain type of a field: T for T and for Tunable<T>.
template <typename F>
struct Plain {
  using type = F;
};
template <typename T>
struct Plain<Tunable<T>> {
  using type = T;
};
template <auto M>
using FieldType = typename Plain<
    std::remove_cvref_t<decltype(std::declval<Config>().*M)>>::type;
template <auto M>
FieldType<M> Value(const Config& c) {
  return static_cast<FieldType<M>>(c.*M);
}

constexpr uint64_t kMaxU = std::numeric_limits<uint64_t>::max();
constexpr int64_t kMaxI = std::numeric_limits<int64_t>::max();

inline std::string Between(std::string_view lo, std::string_view hi) {
  std::string s = "argument must be between ";
  s.append(lo).append(" and ").append(hi).append(" inclusive");
  return s;
}

// Digits only (base 10 or 8), no sign, no spaces; false on overflow.
inline bool ParseDigits(std::string_view v, int base, uint64_t* out) {
  if (v.empty()) return false;
  uint64_t n = 0;
  for (char ch : v) {
    if (ch < '0' || ch >= '0' + base) return false;
    const uint64_t d = static_cast<uint64_t>(ch - '0');
    if (n > (kMaxU - d) / static_cast<uint64_t>(base)) return false;
    n = n * static_cast<uint64_t>(base) + d;
  }
  *out = n;
  return true;
}

template <auto M, uint64_t Lo, uint64_t Hi>
constexpr Codec Uint() {
  return {[](std::string_view v, Config* c, std::string* why) {
            uint64_t n = 0;
            int64_t negative = 0;
            if (!ParseDigits(v, 10, &n)) {
              // Redis reads a signed number, then checks the range.
              *why = ParseInt64(v, &negative)
                         ? Between(std::to_string(Lo), std::to_string(Hi))
                         : "argument couldn't be parsed into an integer";
              return false;
            }
            if (n < Lo || n > Hi) {
              *why = Between(std::to_string(Lo), std::to_string(Hi));
              return false;
            }
            c->*M = static_cast<FieldType<M>>(n);
            return true;
          },
          [](const Config& c) { return std::to_string(Value<M>(c)); },
          [] {
            return "integer " + std::to_string(Lo) + "-" + std::to_string(Hi);
          }};
}

template <auto M, int64_t Lo, int64_t Hi>
constexpr Codec Int() {
  return {[](std::string_view v, Config* c, std::string* why) {
            int64_t n = 0;
            if (!ParseInt64(v, &n)) {
              *why = "argument couldn't be parsed into an integer";
              return false;
            }
            if (n < Lo || n > Hi) {
              *why = Between(std::to_string(Lo), std::to_string(Hi));
              return false;
            }
            c->*M = static_cast<FieldType<M>>(n);
            return true;
          },
          [](const Config& c) { return std::to_string(Value<M>(c)); },
          [] {
            return "integer " + std::to_string(Lo) + "-" + std::to_string(Hi);
          }};
}

// "auto" (any case) or an integer Lo-Hi; auto is stored as 0, and "0" is
// read as auto too (what it meant before auto had a name).
template <auto M, uint64_t Lo, uint64_t Hi>
constexpr Codec UintOrAuto() {
  return {[](std::string_view v, Config* c, std::string* why) {
            uint64_t n = 0;
            if (Lower(v) == "auto") {
              c->*M = 0;
              return true;
            }
            if (!ParseDigits(v, 10, &n) || (n != 0 && (n < Lo || n > Hi))) {
              *why = "argument must be auto or between " + std::to_string(Lo) +
                     " and " + std::to_string(Hi) + " inclusive";
              return false;
            }
            c->*M = static_cast<FieldType<M>>(n);
            return true;
          },
          [](const Config& c) {
            const auto n = Value<M>(c);
            return n == 0 ? std::string("auto") : std::to_string(n);
          },
          [] {
            return "auto or integer " + std::to_string(Lo) + "-" +
                   std::to_string(Hi);
          }};
}

// "4096", "256k", "256kb", "64mb", "1gb": powers of 1024, any case.
inline bool ParseMemory(std::string_view v, uint64_t* out) {
  size_t digits = 0;
  while (digits < v.size() &&
         std::isdigit(static_cast<unsigned char>(v[digits])))
    ++digits;
  uint64_t n = 0;
  if (!ParseDigits(v.substr(0, digits), 10, &n)) return false;
  const std::string unit = Lower(v.substr(digits));
  int shift = 0;
  if (unit == "k" || unit == "kb") {
    shift = 10;
  } else if (unit == "m" || unit == "mb") {
    shift = 20;
  } else if (unit == "g" || unit == "gb") {
    shift = 30;
  } else if (!unit.empty()) {
    return false;
  }
  if (n > (kMaxU >> shift)) return false;
  *out = n << shift;
  return true;
}

template <auto M, uint64_t Lo, uint64_t Hi>
constexpr Codec Bytes() {
  return {[](std::string_view v, Config* c, std::string* why) {
            uint64_t n = 0;
            if (!ParseMemory(v, &n)) {
              *why = "argument must be a memory value";
              return false;
            }
            if (n < Lo || n > Hi) {
              *why = Between(std::to_string(Lo), std::to_string(Hi));
              return false;
            }
            c->*M = static_cast<FieldType<M>>(n);
            return true;
          },
          [](const Config& c) { return std::to_string(Value<M>(c)); },
          [] {
            std::string t = "bytes";
            if (Lo > 0 || Hi != kMaxU)
              t += " " + std::to_string(Lo) + "-" + std::to_string(Hi);
            return t;
          }};
}

template <auto M, uint32_t Hi>
constexpr Codec Octal() {
  return {[](std::string_view v, Config* c, std::string* why) {
            uint64_t n = 0;
            if (!ParseDigits(v, 8, &n)) {
              *why = "argument couldn't be parsed into an integer";
              return false;
            }
            if (n > Hi) {
              *why = Between("0", "0777");
              return false;
            }
            c->*M = static_cast<FieldType<M>>(n);
            return true;
          },
          [](const Config& c) {
            char buf[16];
            std::snprintf(buf, sizeof(buf), "%04o",
                          static_cast<unsigned>(Value<M>(c)));
            return std::string(buf);
          },
          [] { return std::string("octal mode 0000-0777"); }};
}

template <auto M>
constexpr Codec String() {
  return {[](std::string_view v, Config* c, std::string*) {
            c->*M = std::string(v);
            return true;
          },
          [](const Config& c) { return Value<M>(c); },
          [] { return std::string("string"); }};
}

// A string naming a file or directory; "" keeps the meaning its row gives
// it. config.cc resolves a relative one read from a config file against
// that file's directory before it is parsed.
template <auto M>
constexpr Codec Path() {
  Codec codec = String<M>();
  codec.type = [] { return std::string("path"); };
  codec.path = true;
  return codec;
}

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

template <const auto& Names>
std::string Choices(std::string_view sep) {
  std::string s;
  for (const auto& n : Names) {
    if (!s.empty()) s.append(sep);
    s.append(n.name);
  }
  return s;
}

// One of `Names`, any case, as Redis's enum settings.
template <auto M, const auto& Names>
constexpr Codec Choice() {
  return {[](std::string_view v, Config* c, std::string* why) {
            const std::string lower = Lower(v);
            for (const auto& n : Names) {
              if (lower == n.name) {
                c->*M = n.value;
                return true;
              }
            }
            *why = "argument(s) must be one of the following: " +
                   Choices<Names>(", ");
            return false;
          },
          [](const Config& c) {
            for (const auto& n : Names) {
              if (n.value == Value<M>(c)) return std::string(n.name);
            }
            return std::string("?");
          },
          [] { return Choices<Names>("|"); }};
}

}  // namespace ember::server::setting_types
