#include "sinks/event_builder.h"

// Interim implementation: the full builder replaces this file.
namespace crashwrap::sinks {

bool should_report(const config::Config& cfg, const parsers::ExitInfo& exit) {
  switch (exit.kind) {
    case parsers::ExitKind::Clean: return false;
    case parsers::ExitKind::Signal:
    case parsers::ExitKind::OomKilled:
    case parsers::ExitKind::Unknown: return true;
    case parsers::ExitKind::ErrorExit:
      return cfg.report_exit_codes && !cfg.ignore_exit_codes.count(exit.code);
  }
  return false;
}

BuiltEvent build_event(const config::Config&, const RunFacts&, const parsers::CrashReport*) {
  BuiltEvent b;
  b.event_id = new_event_id();
  b.event = {{"event_id", b.event_id}, {"platform", "native"}, {"level", "fatal"}};
  return b;
}

std::string dump_event(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_rfc3339(parsers::Timestamp) { return "1970-01-01T00:00:00.000Z"; }
std::string new_event_id() { return std::string(32, '0'); }

}  // namespace crashwrap::sinks
