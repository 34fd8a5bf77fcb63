// The one table of every crashwrap option: its flag, value kind, environment
// variable, JSON key, default, help text, and how a value applies to Config.
// The loader (config/load.h) and `--help` are both driven by this table, so an
// option exists everywhere or nowhere. Pure; callable from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace crashwrap::config {

enum class ValueKind {
  Flag,       // on/off: "--group", "--no-line-buffer"; env/JSON 1|0|true|false|yes|no|on|off
  Text,       // any string
  List,       // repeatable; each value may be a comma list
  Duration,   // "500ms", "2s", "1.5" (seconds), "1m", "1h"
  Size,       // "16KiB", "256MiB", "1GiB", "1048576" (bytes)
  Count,      // a non-negative integer
  Choice,     // one of a fixed set of words
};

// What the loader does with an option beyond Config (handled in config/load.cpp).
enum class Special { None, Help, Version, ConfigFile };

struct Option {
  std::string_view flag = {};         // "--kill-after"
  std::string_view negation = {};     // "--no-line-buffer"; "" when none
  ValueKind kind = ValueKind::Flag;
  std::string_view value_name = {};   // "DURATION" in --help; "" for flags
  std::string_view env = {};          // "CRASHWRAP_KILL_AFTER"; "" when none
  std::string_view json_key = {};     // "kill_after"; "" when none
  std::string_view default_text = {}; // shown in --help and in "using …" of warnings
  std::string_view example = {};      // "10s": a warning's fix reads "use e.g. 10s"
  std::string_view help = {};
  // Applies one value (a flag gets "true"/"false"). Returns "" on success, else
  // the phrase completing "<source> '<value>' …", e.g. "is not a duration".
  std::string (*apply)(Config&, std::string_view value) = nullptr;
  // Restores the default: after a bad value, and before a layer (file <
  // environment < command line) sets a list option anew.
  void (*reset)(Config&) = nullptr;
  Special special = Special::None;
  bool secret = false;           // value is masked in messages (DSNs)
  bool split_commas = false;     // List: "a,b" is two values (and always in the environment)
  std::string_view section = {};      // --help grouping

  bool takes_value() const { return kind != ValueKind::Flag; }
  bool repeatable() const { return kind == ValueKind::List; }
  // "using no kill-after" / "using the default 500ms" / "ignoring it" (lists).
  std::string fallback_phrase() const;
};

// Every option, in --help order.
const std::vector<Option>& options();

struct FlagMatch {
  const Option* option = nullptr;
  bool negated = false;          // matched the option's negation
};
// Matches "--kill-after", "--no-line-buffer", "-h"; nullopt for an unknown flag.
std::optional<FlagMatch> find_flag(std::string_view flag);
const Option* find_json_key(std::string_view key);
// The known flag closest to an unknown one ("--kil-after" → "--kill-after"), or "".
std::string_view suggest_flag(std::string_view unknown);

// Value syntax shared by the table, the loader and tests.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);   // "500ms", "2s", "1.5s"
std::string format_size(std::uint64_t bytes);               // "16KiB", "256MiB", "1000"

}  // namespace crashwrap::config
