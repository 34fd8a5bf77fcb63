#include "parsers/model.h"

#include <string>
#include <utility>

namespace crashwrap::parsers {

std::string_view stream_name(Stream s) noexcept {
  return s == Stream::Stdout ? "stdout" : "stderr";
}

void swap(Frame& a, Frame& b) noexcept {
  using std::swap;
  swap(a.function, b.function);
  swap(a.module, b.module);
  swap(a.filename, b.filename);
  swap(a.abs_path, b.abs_path);
  swap(a.lineno, b.lineno);
  swap(a.colno, b.colno);
  swap(a.instruction_addr, b.instruction_addr);
  swap(a.package, b.package);
  swap(a.in_app, b.in_app);
  swap(a.pre_context, b.pre_context);
  swap(a.context_line, b.context_line);
  swap(a.post_context, b.post_context);
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
