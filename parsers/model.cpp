#include "parsers/model.h"

#include <string>

namespace crashwrap::parsers {

std::string_view stream_name(Stream s) noexcept {
  return s == Stream::Stdout ? "stdout" : "stderr";
}

std::string_view level_name(Level l) noexcept {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    case Level::Fatal: return "fatal";
  }
  return "error";
}

std::string ExitInfo::describe() const {
  switch (kind) {
    case ExitKind::Clean: return "exited cleanly";
    case ExitKind::ErrorExit: return "exited with code " + std::to_string(code);
    case ExitKind::Signal:
      return "died of " + signal_name + (core_dumped ? " (core dumped)" : "");
    case ExitKind::OomKilled: return "was OOM-killed";
    case ExitKind::Unknown: return "ended abnormally";
  }
  return "ended";
}

}  // namespace crashwrap::parsers
