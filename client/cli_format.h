// client/cli_format.h: prints replies as redis-cli 7 does, so ember-cli's
// output can replace redis-cli's in scripts and in a terminal.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "protocol/resp_reply.h"

namespace ember::client {

// How a reply is printed. kHuman is redis-cli's terminal form
// ("(integer) 3", quoted bulks, numbered arrays); kRaw its form when stdout
// is not a terminal (bytes as they are, one array element per line).
enum class ReplyFormat { kHuman, kRaw };

// `reply` as redis-cli prints it, ending in '\n'. Raw errors are printed as
// one line "ERR ..." (redis-cli adds an empty line after them).
std::string FormatReply(const protocol::Reply& reply, ReplyFormat format);

// `bytes` in double quotes with redis-cli's escapes: \" \\ \n \r \t \a \b
// and \xHH for other unprintable bytes. SplitInlineArgs (protocol/
// inline_args.h) reads it back to the same bytes.
std::string QuoteBytes(std::string_view bytes);

}  // namespace ember::client
