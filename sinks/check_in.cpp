#include "sinks/check_in.h"

#include "config/monitor_schedule.h"
#include "sinks/event_builder.h"

namespace crashwrap::sinks {

bool check_ins_enabled(const config::Config& c) { return !c.monitor_slug.empty() && !c.dsns.empty(); }

CheckIn new_check_in(parsers::Timestamp started) {
  return CheckIn{new_event_id(), new_event_id(), started};
}

std::optional<nlohmann::json> monitor_config(const config::Config& c) {
  std::string error;
  auto schedule = config::parse_monitor_schedule(c.monitor_schedule, error);
  if (c.monitor_schedule.empty() || !schedule) return std::nullopt;
  nlohmann::json s;
  if (schedule->type == config::MonitorSchedule::Type::Crontab) {
    s = {{"type", "crontab"}, {"value", schedule->crontab}};
  } else {
    s = {{"type", "interval"}, {"value", schedule->value}, {"unit", schedule->unit}};
  }
  nlohmann::json m = {{"schedule", std::move(s)}};
  if (c.checkin_margin) m["checkin_margin"] = *c.checkin_margin;
  if (c.max_runtime) m["max_runtime"] = *c.max_runtime;
  if (!c.monitor_timezone.empty()) m["timezone"] = c.monitor_timezone;
  return m;
}

namespace {

nlohmann::json base(const config::Config& c, const CheckIn& ci, std::string_view status) {
  nlohmann::json j = {{"check_in_id", ci.check_in_id}, {"monitor_slug", c.monitor_slug},
                      {"status", std::string(status)}};
  if (!c.environment.empty()) j["environment"] = c.environment;
  if (!c.release.empty()) j["release"] = c.release;
  j["contexts"] = {{"trace", {{"trace_id", ci.trace_id}}}};
  return j;
}

}  // namespace

nlohmann::json check_in_started(const config::Config& c, const CheckIn& ci) {
  nlohmann::json j = base(c, ci, "in_progress");
  if (auto m = monitor_config(c)) j["monitor_config"] = std::move(*m);
  return j;
}

nlohmann::json check_in_finished(const config::Config& c, const CheckIn& ci, bool ok, parsers::Timestamp now) {
  nlohmann::json j = base(c, ci, ok ? "ok" : "error");
  const auto elapsed = now > ci.started ? now - ci.started : parsers::Clock::duration::zero();
  j["duration"] = std::chrono::duration<double>(elapsed).count();
  return j;
}

bool run_succeeded(const config::Config& c, const parsers::ExitInfo& exit) {
  if (exit.kind == parsers::ExitKind::Clean) return true;
  return exit.kind == parsers::ExitKind::ErrorExit && c.ignore_exit_codes.count(exit.code) != 0;
}

nlohmann::json trace_context(std::string_view trace_id) {
  return {{"type", "trace"}, {"trace_id", std::string(trace_id)}, {"span_id", new_event_id().substr(0, 16)}};
}

}  // namespace crashwrap::sinks
