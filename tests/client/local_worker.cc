// tests/client/local_worker.cc: a second process for the LocalClient tests.
// Usage: local_worker NAME RUN_DIR SOCKET. Reads commands from stdin, one
// per line, and answers each with one line on stdout:
//   GET key        -> "HIT <value>" (zero-copy) | "SRV <value>" | "NIL" |
//                     "ERR <status>"
//   SET key value  -> "OK" | "ERR <status>"
//   HOLD key       -> Get, keep the Value (its read guard) held: "HELD ..."
//   EXIT           -> exit 0
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "client/local_client.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: local_worker NAME RUN_DIR SOCKET\n");
    return 2;
  }
  ember::client::LocalOptions o;
  o.name = argv[1];
  o.run_dir = argv[2];
  o.remote.unix_socket = argv[3];
  std::unique_ptr<ember::client::LocalClient> client;
  if (!ember::client::LocalClient::Open(o, &client).ok()) return 1;
  ember::client::Value held;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd, key, value;
    in >> cmd >> key >> value;
    if (cmd == "EXIT") return 0;
    if (cmd == "SET") {
      ember::shm::Status s = client->Set(key, value);
      std::cout << (s.ok() ? "OK" : "ERR " + s.ToString()) << std::endl;
      continue;
    }
    ember::client::Value local;
    ember::client::Value& v = cmd == "HOLD" ? held : local;
    ember::shm::Status s = client->Get(key, &v);
    if (cmd == "HOLD") std::cout << "HELD ";
    if (s.ok()) {
      std::cout << (v.zero_copy() ? "HIT " : "SRV ") << v.view() << std::endl;
    } else if (s.code() == ember::shm::Code::kNotFound) {
      std::cout << "NIL" << std::endl;
    } else {
      std::cout << "ERR " << s.ToString() << std::endl;
    }
  }
  return 0;
}
