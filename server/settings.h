// server/settings.h: the one table of ember-server's settings. Each row is
// a setting once: its name (and Redis's name for it, if Redis has one), its
// type, default, unit, one doc line, whether CONFIG SET may change it at run
// time, and how to parse and print it. conf/ember.conf documents every row
// (tests/server/config_test.cc checks both ways); `ember-server --help`
// prints the table.
// Thread safety: the table is immutable.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "server/config.h"

namespace ember::server {

struct Setting {
  std::string_view name;   // Ember's key: file, --key, CONFIG
  std::string_view alias;  // Redis's name for the same setting, or ""
  std::string (*type)();   // "integer 0-65535", "bytes", "always|no", ...
  std::string_view default_value;  // as conf/ember.conf spells it
  std::string_view unit;           // "bytes", "ms", "us", "" ...
  bool runtime;                    // CONFIG SET may change it
  std::string_view doc;            // one line
  // Parses `value` into `*c`. False, with Redis's words in *why (such as
  // "argument must be between 1 and 1000000 inclusive"), when it is bad.
  bool (*parse)(std::string_view value, Config* c, std::string* why);
  // The value as CONFIG GET shows it (numbers in plain digits).
  std::string (*format)(const Config& c);
  // A file system path: relative in a config file, it is taken against the
  // file's directory; relative on the command line, against the working
  // directory (see ReadConfigFile).
  bool path;
};

// Every setting, in conf/ember.conf's order.
std::span<const Setting> AllSettings();
// The setting named `name` (its name or its alias, any case), or null.
const Setting* FindSetting(std::string_view name);

// A value Redis's tools read with CONFIG GET that is no Ember setting but
// follows from them (save, appendonly, maxmemory-policy). Read-only.
struct RedisView {
  std::string_view name;
  std::string (*format)(const Config& c);
};
std::span<const RedisView> RedisViews();

// The `--help` text: usage, then every setting with type, default, unit,
// Redis's name, whether CONFIG SET may change it, and its doc line.
std::string SettingsHelp();

}  // namespace ember::server
