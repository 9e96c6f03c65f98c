// bench/server_info.h: a RESP server's INFO as fields, for the workloads
// that report server-side figures. Thread safety: stateless.
#pragma once

#include <map>
#include <string>

#include "client/remote_client.h"

namespace ember::bench {

// INFO `section` ("" for the default set) over `c`: every "name:value"
// line, with "\r" stripped. Empty when the command fails or the reply is
// not a bulk string.
std::map<std::string, std::string> InfoFields(client::RemoteClient* c,
                                              const std::string& section);

}  // namespace ember::bench
