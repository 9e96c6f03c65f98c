// server/command_util.h: small helpers shared by the command handlers.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ember::server {

// Redis's strict integer syntax (no spaces, no '+', no leading zeros, fits
// in int64). False for anything else.
bool ParseInt64(std::string_view s, int64_t* out);
// ASCII lower case.
std::string Lower(std::string_view s);
// Redis glob matching (* ? [abc] [^a-z] \x); see glob_pattern.h.
bool GlobMatch(std::string_view pattern, std::string_view text);
// An argument as Redis's C code reads it with strlen() or strcasecmp():
// up to its first NUL byte.
std::string_view CStr(std::string_view s);
// Whether option `arg` is `name` (given in lower case), ignoring case and
// anything from a NUL on, as Redis's strcasecmp(arg, name) == 0.
bool ArgIs(std::string_view arg, std::string_view name);
// Redis's string2ld (INCRBYFLOAT): strtold over the whole string, fewer
// than 5120 bytes, no leading space, not NaN, no overflow or underflow to
// zero. "inf", "5.0e3" and "0x1p4" are numbers; " 1" and "1 " are not.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros and a
// trailing '.' removed, "-0" as "0", infinities as "inf" and "-inf".
std::string FormatLongDouble(long double v);

inline constexpr std::string_view kNotInteger =
    "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kTooBig =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

}  // namespace ember::server
