// tests/fuzz/arena_reader_fuzz.cc: libFuzzer target for the arena reader
// over a corrupted segment. One arena is made and loaded once; each input
// is a list of (offset, byte) edits applied to the live data segment
// (header, intent ring, index and items alike), then a reader attaches
// (validating the header) and looks every key up one by one and with
// MultiGet, plus keys taken from the input. The reader must never fault or
// read outside the segment (ASan); afterwards the segment is restored.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "shm/arena_reader.h"
#include "shm/arena_writer.h"
#include "shm/reclaimer.h"

namespace {

using namespace ember::shm;

constexpr int kKeys = 500;

struct Fixture {
  std::unique_ptr<ArenaWriter> writer;
  std::vector<char> pristine;
  std::vector<std::string> keys;
  std::string run_dir;

  Fixture() {
    char tmpl[] = "/tmp/ember-fuzz-XXXXXX";
    run_dir = mkdtemp(tmpl);
    ArenaOptions o;
    o.name = "fuzz" + std::to_string(getpid());
    o.run_dir = run_dir;
    o.arena_bytes = 4 << 20;
    o.page_bytes = 64 << 10;
    o.max_readers = 8;
    o.remove_on_close = true;
    const Status created = ArenaWriter::Create(o, &writer);
    if (!created.ok()) {
      std::fprintf(stderr, "fuzz_arena_reader: %s\n",
                   created.ToString().c_str());
      std::abort();
    }
    for (int i = 0; i < kKeys; ++i) {
      keys.push_back("key:" + std::to_string(i));
      const std::string value(i % 100, static_cast<char>('a' + i % 26));
      // Some keys expire in an hour: the reader checks expiry too.
      const uint64_t expiry = i % 7 == 0 ? NowUnixMs() + 3600000 : 0;
      const Status st = writer->Put(keys.back(), value, expiry);
      if (!st.ok()) {
        std::fprintf(stderr, "fuzz_arena_reader: %s\n", st.ToString().c_str());
        std::abort();
      }
    }
    pristine.assign(writer->data_base(),
                    writer->data_base() + writer->data_bytes());
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();  // lives until exit
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = Get();
  char* base = const_cast<char*>(f.writer->data_base());
  const uint64_t bytes = f.writer->data_bytes();
  // Edits: 5 bytes each, a 32-bit offset (taken modulo the segment, with
  // the header and index made more likely) and the byte to store.
  std::vector<std::string> extra;
  size_t i = 0;
  for (; i + 5 <= size; i += 5) {
    uint32_t off;
    std::memcpy(&off, data + i, 4);
    const uint64_t target = (off & 1) ? off % 65536 % bytes : off % bytes;
    base[target] = static_cast<char>(data[i + 4]);
  }
  if (i < size)
    extra.emplace_back(reinterpret_cast<const char*>(data + i), size - i);
  std::unique_ptr<ArenaReader> r;
  if (ArenaReader::Attach(*f.writer, &r).ok()) {
    ReadGuard g(r.get());
    std::string_view v;
    uint64_t sink = 0;
    for (const std::string& k : f.keys) {
      if (g.Get(k, &v).ok() && !v.empty()) sink += static_cast<uint8_t>(v[0]);
    }
    for (const std::string& k : extra) {
      if (g.Get(k, &v).ok() && !v.empty())
        sink += static_cast<uint8_t>(v.back());
    }
    std::vector<std::string_view> views(f.keys.begin(), f.keys.begin() + 40);
    std::vector<std::string_view> values(views.size());
    std::unique_ptr<bool[]> found(new bool[views.size()]);
    g.MultiGet(views, values.data(), found.get());
    for (size_t j = 0; j < views.size(); ++j) {
      if (found[j] && !values[j].empty())
        sink += static_cast<uint8_t>(values[j][0]);
    }
    g.Release();
    if (sink == 0xFFFFFFFFFFFFFFFFull) std::abort();  // keeps the reads
  }
  r.reset();
  std::memcpy(base, f.pristine.data(), bytes);
  return 0;
}
