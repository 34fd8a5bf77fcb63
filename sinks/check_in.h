// Cron check-ins (https://develop.sentry.dev/sdk/check-ins/) for --monitor:
// one "in_progress" check-in when a run starts, carrying monitor_config when a
// schedule is configured (Sentry creates or updates the monitor from it), and
// one "ok" or "error" check-in with the same check_in_id and the duration when
// the run ends. Each check-in carries contexts.trace.trace_id; the run's events
// carry the same trace id in their trace context, which links a failed
// check-in to its crash in Sentry.
//
// Pure apart from the random ids; callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

struct CheckIn {
  std::string check_in_id;   // 32 lowercase hex
  std::string trace_id;      // 32 lowercase hex
  parsers::Timestamp started{};
};

// Check-ins are sent when --monitor is set and a DSN is configured.
bool check_ins_enabled(const config::Config& config);

CheckIn new_check_in(parsers::Timestamp started);

// {"check_in_id","monitor_slug","status":"in_progress","environment"?,"release"?,
//  "contexts":{"trace":{"trace_id"}},"monitor_config"?:{"schedule":{…},
//  "checkin_margin"?,"max_runtime"?,"timezone"?}}
nlohmann::json check_in_started(const config::Config& config, const CheckIn& check_in);

// The closing check-in: status "ok" or "error", duration in seconds.
nlohmann::json check_in_finished(const config::Config& config, const CheckIn& check_in, bool ok,
                                 parsers::Timestamp now);

// monitor_config for the configuration; nullopt without a (valid) schedule.
std::optional<nlohmann::json> monitor_config(const config::Config& config);

// Whether the run counts as a successful job: a clean exit, or an exit code in
// --ignore-exit-codes. Signals (SIGKILL included), OOM kills and other codes fail.
bool run_succeeded(const config::Config& config, const parsers::ExitInfo& exit);

// An event's trace context that links it to the check-in's trace:
// {"type":"trace","trace_id":…,"span_id":<16 random hex>}.
nlohmann::json trace_context(std::string_view trace_id);

}  // namespace crashwrap::sinks
