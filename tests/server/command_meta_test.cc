// The Redis 7 metadata behind COMMAND: every command in the table has it,
// subcommands resolve to their static names, key specs find Redis's keys
// (test_redis_introspection.py compares the replies with a real
// redis-server).
#include "server/command_meta.h"

#include <gtest/gtest.h>

#include "server/command_table.h"

namespace ember::server {
namespace {

std::vector<std::string> Keys(std::string_view name, const Args& args) {
  std::vector<std::pair<size_t, const KeySpec*>> found;
  EXPECT_TRUE(FindKeys(*FindMeta(name), args, &found));
  std::vector<std::string> keys;
  for (const auto& [i, spec] : found) keys.push_back(args[i]);
  return keys;
}

TEST(CommandMetaTest, EveryCommandHasMetadataAndEverySubcommandAnArity) {
  for (const CommandSpec& c : AllCommands()) {
    const CommandMeta* m = FindMeta(c.name);
    ASSERT_NE(m, nullptr) << c.name;
    EXPECT_EQ(m->arity, 0) << c.name;
    for (const CommandMeta* s : Subcommands(c.name)) EXPECT_NE(s->arity, 0);
  }
  EXPECT_EQ(Subcommands("get").size(), 0u);
  EXPECT_GE(Subcommands("client").size(), 9u);
}

TEST(CommandMetaTest, FullNameNamesKnownSubcommandsOnly) {
  const char* client = "client";
  EXPECT_STREQ(FullName(client, {"CLIENT", "List"}), "client|list");
  EXPECT_EQ(FullName(client, {"CLIENT", "bogus"}), client);
  EXPECT_EQ(FullName(client, {"CLIENT"}), client);
  EXPECT_STREQ(FullName("get", {"GET", "k"}), "get");
}

TEST(CommandMetaTest, KeySpecsFindRedisKeysAndLegacyRanges) {
  EXPECT_EQ(Keys("mset", {"mset", "a", "1", "b", "2"}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Keys("bitop", {"bitop", "and", "d", "x", "y"}),
            (std::vector<std::string>{"d", "x", "y"}));
  EXPECT_EQ(Keys("lcs", {"lcs", "a", "b", "LEN"}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Keys("object|encoding", {"object", "encoding", "k"}),
            (std::vector<std::string>{"k"}));
  int first = 0, last = 0, step = 0;
  LegacyKeyRange(*FindMeta("mset"), &first, &last, &step);
  EXPECT_EQ((std::vector<int>{first, last, step}),
            (std::vector<int>{1, -1, 2}));
  LegacyKeyRange(*FindMeta("rename"), &first, &last, &step);
  EXPECT_EQ((std::vector<int>{first, last, step}), (std::vector<int>{1, 2, 1}));
  LegacyKeyRange(*FindMeta("ping"), &first, &last, &step);
  EXPECT_EQ((std::vector<int>{first, last, step}), (std::vector<int>{0, 0, 0}));
}

}  // namespace
}  // namespace ember::server
