// bench/server_info.cc: INFO text into fields.
#include "bench/server_info.h"

#include <sstream>
#include <vector>

namespace ember::bench {

std::map<std::string, std::string> InfoFields(client::RemoteClient* c,
                                              const std::string& section) {
  std::vector<std::string> args = {"INFO"};
  if (!section.empty()) args.push_back(section);
  protocol::Reply reply;
  std::map<std::string, std::string> out;
  if (!c->Command(args, &reply).ok() ||
      reply.kind != protocol::Reply::Kind::kBulk) {
    return out;
  }
  std::istringstream in(reply.str);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon != line.npos) out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace ember::bench
