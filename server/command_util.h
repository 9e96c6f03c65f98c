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
// Redis glob matching (* ? [abc] [^a-z] \x) for SCAN MATCH.
bool GlobMatch(std::string_view pattern, std::string_view text);

inline constexpr std::string_view kNotInteger =
    "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";

}  // namespace ember::server
