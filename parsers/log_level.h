// What one line of child output says as a log record: its level, its body and
// its typed attributes, for forwarding as a Sentry structured log
// (https://develop.sentry.dev/sdk/telemetry/logs/).
//
// Recognised, in this order:
//   - JSON objects: level from level / severity / lvl / loglevel / levelname /
//     log.level / @l (names, pino/bunyan numbers 10…60, syslog numbers 0…7);
//     body from msg / message / body / @m / @mt; every other scalar field is a
//     typed attribute, nested objects are flattened to dotted names, arrays
//     become their JSON text; at most kMaxLineAttributes attributes per line.
//   - logfmt: `level=warn msg="…" k=v` (the line starts with key=value and
//     has a level or msg key); body = msg, other pairs are string attributes.
//   - text prefixes among the first few tokens: `ERROR …`, `[warn] …`,
//     `WARN: …`, `Warning: …`, Python's `ERROR:root:…`, log4j/logback's
//     `2024-… ERROR [main] …`, zap/zerolog consoles' `…\tWARN\t…` / `INF`,
//     glog/absl `W1123 12:00:00.000 …`, syslog `<3>…`. A word only counts when
//     it is upper case, bracketed or followed by ':', and only after tokens
//     that look like metadata (a timestamp, a pid, a [thread]). The body of a
//     text line is the whole line.
//   - anything else: info, body = the line.
// The stream is not a level: stderr is info unless the line says otherwise.
//
// Pure; no clock, no I/O. A LogLineParser keeps buffers between lines (no
// allocation per line once warmed up) and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/model.h"

namespace crashwrap::parsers {

enum class LogLevel : std::uint8_t { Trace, Debug, Info, Warn, Error, Fatal };

// "trace" | "debug" | "info" | "warn" | "error" | "fatal" (Sentry's log levels).
std::string_view log_level_name(LogLevel l) noexcept;
// OpenTelemetry severity numbers as Sentry's SDKs send them: 1, 5, 9, 13, 17, 21.
int severity_number(LogLevel l) noexcept;
// A level word in any case: the names above plus warning, err, information,
// notice, verbose, critical, crit, emerg, alert, panic, severe, dpanic and
// the short forms trc, dbg, inf, wrn, err, ftl, crt. nullopt otherwise.
std::optional<LogLevel> log_level_from_word(std::string_view word) noexcept;

inline constexpr std::size_t kMaxLineAttributes = 32;

struct LogAttribute {
  enum class Type : std::uint8_t { String, Integer, Double, Boolean };
  std::string key;
  Type type = Type::String;
  // String: the text (UTF-8, unescaped). Integer/Double: a JSON number
  // literal. Boolean: "true" | "false".
  std::string value;
};

// One line as a log record. `body` is valid until the next parse() of the
// parser that produced it (it views the line or the parser's buffers).
struct LogRecord {
  LogLevel level = LogLevel::Info;
  std::string_view body;
  bool structured = false;              // JSON or logfmt
  std::size_t attribute_count = 0;      // attributes[0, attribute_count) are this line's
  std::vector<LogAttribute> attributes; // reused between lines: its capacity is kept
  std::size_t attributes_dropped = 0;   // over kMaxLineAttributes

  LogAttribute& add(std::string_view key, LogAttribute::Type type);  // value cleared
};

class LogLineParser {
 public:
  LogLineParser();
  ~LogLineParser();
  LogLineParser(LogLineParser&&) noexcept;
  LogLineParser& operator=(LogLineParser&&) noexcept;

  // Fills `out` from `text` (one line without its newline).
  void parse(std::string_view text, LogRecord& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The level a plain text line announces (the text-prefix rules above); nullopt
// when it announces none. Exposed for tests and the logfmt/JSON fallbacks.
std::optional<LogLevel> text_line_level(std::string_view line) noexcept;

}  // namespace crashwrap::parsers
