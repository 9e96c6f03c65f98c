// protocol/resp_writer.cc: RESP2 encoding of simple strings, errors,
// integers, bulk strings and array headers.
#include "protocol/resp_writer.h"

#include <charconv>

namespace ember::protocol {
namespace {

// Appends `type`, the decimal `n` and "\r\n": the header of most replies.
void AppendHeader(std::string* out, char type, int64_t n) {
  char buf[24];  // type, 20 chars of INT64_MIN, "\r\n"
  buf[0] = type;
  char* end = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(buf, end);
}

// Appends `type`, `text` with '\r' and '\n' turned into spaces, and "\r\n".
void AppendLine(std::string* out, char type, std::string_view text) {
  size_t start = out->size();
  out->push_back(type);
  out->append(text);
  for (size_t i = start + 1; i < out->size(); ++i) {
    char& c = (*out)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out->append("\r\n");
}

}  // namespace

void AppendSimpleString(std::string* out, std::string_view text) {
  AppendLine(out, '+', text);
}

void AppendOk(std::string* out) { out->append("+OK\r\n"); }

void AppendError(std::string* out, std::string_view message) {
  AppendLine(out, '-', message);
}

void AppendInteger(std::string* out, int64_t n) { AppendHeader(out, ':', n); }

void AppendBulk(std::string* out, std::string_view bytes) {
  AppendHeader(out, '$', static_cast<int64_t>(bytes.size()));
  out->append(bytes);
  out->append("\r\n");
}

void AppendNullBulk(std::string* out) { out->append("$-1\r\n"); }

void AppendArrayHeader(std::string* out, size_t count) {
  AppendHeader(out, '*', static_cast<int64_t>(count));
}

void AppendNullArray(std::string* out) { out->append("*-1\r\n"); }

}  // namespace ember::protocol
