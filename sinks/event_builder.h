// Sentry event building: one crash report and/or how the child ended → one
// Sentry event (JSON valid against Relay's event schema) plus its attachments.
//
// The event carries: event_id, timestamp, platform ("native" without a report,
// else the report's platform), level, logger "crashwrap", exception values (from
// the report, oldest first, or synthesized from the exit), threads, contexts (os,
// runtime, process, crashwrap), tags, release/environment/server_name, breadcrumbs
// from the output tail, extra (only the --send-env variables, the local
// fingerprint, trimming records), fingerprint with --fingerprint-local. Source
// context is added to frames of interpreted platforms; the event is trimmed to
// 1 MiB (sinks/event_trim.h). Text with invalid UTF-8 becomes valid JSON
// (bad bytes → U+FFFD) when serialized with dump_event().
//
// Pure apart from reading files (source context, a report's attachment_path,
// /etc/os-release), uname(2), getenv(3) for --send-env and the random event id.
// Callable from any thread; never throws except std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

struct RunFacts {
  std::vector<std::string> argv;
  int pid = 0;
  parsers::Timestamp started{};
  parsers::ExitInfo exit;
  std::vector<parsers::LogLine> tail;
  bool abandoned = false;             // flight-recorder recovery of a previous run
  parsers::Timestamp ended{};         // event time; epoch = now
  bool running = false;               // the child still runs (a handled, logged report)
};

struct Attachment {
  std::string filename;
  std::string content_type = "text/plain";
  std::string data;
};

struct BuiltEvent {
  std::string event_id;               // 32 lowercase hex
  nlohmann::json event;
  std::vector<Attachment> attachments;  // "output-tail.txt" (omitted when empty), an hs_err file, …
  std::string category = "error";     // rate-limit data category
  std::string fingerprint;            // local fingerprint (stable hex digest)
  std::string title;                  // "SIGSEGV: Segmentation fault", "ValueError: bad" (for summaries)
};

// A fatal signal or an OOM kill: always. A non-zero exit: unless
// report_exit_codes is off or the code is in ignore_exit_codes. Clean: never.
// An abandoned previous run (ExitKind::Unknown): always.
bool should_report(const config::Config&, const parsers::ExitInfo&);

// report == nullptr: the exception is synthesized from facts.exit.
BuiltEvent build_event(const config::Config&, const RunFacts&, const parsers::CrashReport* report);

// The event as compact JSON text, invalid UTF-8 replaced by U+FFFD.
std::string dump_event(const nlohmann::json& event);

// RFC 3339 UTC with milliseconds: "2024-05-01T12:34:56.789Z".
std::string format_rfc3339(parsers::Timestamp t);

// 32 random lowercase hex digits (a UUID v4 without dashes).
std::string new_event_id();

}  // namespace crashwrap::sinks
