// protocol/inline_args.h: splits an inline request line (a request without
// a leading '*', as typed into telnet) into arguments the way Redis does.
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember::protocol {

// Splits `line` (without its "\r\n") as Redis's sdssplitargs does: spaces
// and tabs separate; "double quotes" take \xHH and \n \r \t \b \a escapes
// (any other \c is c); 'single quotes' take \'; a closing quote must be
// followed by a space or the end; a NUL byte ends the line.
// Returns false (and clears `*args`) on unbalanced quotes. An empty or
// all-space line gives true and no arguments.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args);

}  // namespace ember::protocol
