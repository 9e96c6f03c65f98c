// client/cli_format.cc: redis-cli's two reply layouts (cliFormatReplyTTY and
// cliFormatReplyRaw in redis-cli.c), written for protocol::Reply.
#include "client/cli_format.h"

#include <cstdio>

namespace ember::client {
namespace {

using protocol::Reply;

// The terminal form. `prefix` indents the lines of a nested array after its
// first one (whose index the caller has printed already).
void AppendHuman(std::string* out, const Reply& r, const std::string& prefix) {
  switch (r.kind) {
    case Reply::Kind::kStatus:
      out->append(r.str).push_back('\n');
      return;
    case Reply::Kind::kError:
      out->append("(error) ").append(r.str).push_back('\n');
      return;
    case Reply::Kind::kInteger:
      out->append("(integer) ").append(std::to_string(r.integer));
      out->push_back('\n');
      return;
    case Reply::Kind::kBulk:
      out->append(QuoteBytes(r.str)).push_back('\n');
      return;
    case Reply::Kind::kNull:
      out->append("(nil)\n");
      return;
    case Reply::Kind::kArray:
      break;
  }
  if (r.elements.empty()) {
    out->append("(empty array)\n");
    return;
  }
  // Indices are right-aligned to the width of the largest one; nested
  // arrays indent by that width plus ") ".
  const int width = static_cast<int>(std::to_string(r.elements.size()).size());
  const std::string nested = prefix + std::string(width + 2, ' ');
  for (size_t i = 0; i < r.elements.size(); ++i) {
    char index[32];
    std::snprintf(index, sizeof(index), "%*zu) ", width, i + 1);
    if (i > 0) out->append(prefix);
    out->append(index);
    AppendHuman(out, r.elements[i], nested);
  }
}

// The raw form, without the final '\n': arrays flatten to one element per
// line, nil to an empty line.
void AppendRaw(std::string* out, const Reply& r) {
  switch (r.kind) {
    case Reply::Kind::kStatus:
    case Reply::Kind::kError:
    case Reply::Kind::kBulk:
      out->append(r.str);
      return;
    case Reply::Kind::kInteger:
      out->append(std::to_string(r.integer));
      return;
    case Reply::Kind::kNull:
      return;
    case Reply::Kind::kArray:
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out->push_back('\n');
        AppendRaw(out, r.elements[i]);
      }
      return;
  }
}

}  // namespace

std::string FormatReply(const Reply& reply, ReplyFormat format) {
  std::string out;
  if (format == ReplyFormat::kHuman) {
    AppendHuman(&out, reply, "");
  } else {
    AppendRaw(&out, reply);
    out.push_back('\n');
  }
  return out;
}

std::string QuoteBytes(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(static_cast<char>(c));
        } else {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02x", c);
          out += hex;
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace ember::client
