// crashwrap's own messages on its stderr. Every message crashwrap prints comes
// from a function here (one function per message), so wording, prefix and
// counting live in one place. Degraded modes print exactly one line
//   crashwrap: warning: <what> — <fix>
// and bump a counter that later feeds client reports.
// Thread-safe: each message is written with a single write(2).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crashwrap::agent::diag {

// Where messages go (default: fd 2). Tests point this at a pipe or file.
void set_output_fd(int fd) noexcept;
// Suppress warnings/infos (errors still print). Used by --quiet.
void set_quiet(bool quiet) noexcept;

// Generic building blocks; prefer a named function per message below.
void error(std::string_view what, std::string_view fix);
void warning(std::string_view what, std::string_view fix);
void note(std::string_view text);  // "crashwrap: <text>"

// Number of warnings printed since start (feeds client reports / tests).
std::uint64_t warnings_emitted() noexcept;

// ---- messages (add one function per new message, grouped by module) ----

// agent/spawn
void cannot_run(std::string_view program, std::string_view reason);
// agent/env_hints
// --line-buffer on, but coreutils' libstdbuf.so is not installed.
void line_buffer_unavailable();
// agent/pump
void output_closed(std::string_view stream_name);  // EPIPE on our stdout/stderr, once per stream

// agent/main
// A configuration warning from config::load (its text without the prefix).
void config_warning(std::string_view line);
// config::load refused to start (--strict with warnings, or no command to run).
void config_refused(std::string_view line);

// agent/pipeline
// The end of a reported run (printed unless --quiet):
// "crashwrap: <program> <how> after <s.s>s — event <8 hex>… saved to <path>[ (no DSN set)]"
// or "… — event <8 hex>… could not be saved" when the spool refused it.
void run_summary(std::string_view program, std::string_view how, double seconds,
                 std::string_view event_id, const std::string* saved_path, bool no_dsn);
// A previous run on this spool ended while crashwrap was not there to see it.
void abandoned_run(std::string_view program, int pid, std::string_view event_id,
                   const std::string* saved_path);
// --detectors named something unknown (`error` lists the valid names); all detectors run.
void detectors_rejected(std::string_view error);

// sinks/protection
// The first event over --crash-loop-limit in this process (`seen`: events of
// that fingerprint in the window); later ones are counted silently.
void crash_loop_suppressed(std::string_view title, std::uint64_t seen, std::size_t limit);
// The end of a run whose event was held back by crash-loop protection (instead of run_summary):
// "crashwrap: <program> <how> after <s.s>s — event <8 hex>… not saved: crash loop (…)"
void run_summary_held_back(std::string_view program, std::string_view how, double seconds,
                           std::string_view event_id, std::size_t limit);
// --restart: "crashwrap: restarting <program> (it <how>) in <s>s — restart <n>[ of <max>]"
void restarting(std::string_view program, std::string_view how, double delay_seconds, std::size_t n,
                std::size_t max);
// --restart gave up after --max-restarts restarts in a row.
void restarts_exhausted(std::string_view program, std::size_t restarts);

// agent/flight_recorder
void flight_recorder_unavailable(std::string_view dir, std::string_view reason);
void flight_record_ignored(std::string_view path, std::string_view reason);  // corrupt or foreign file

// sinks/spool
// Spool::open failed (`reason` names the directory and the cause); events are not kept this run.
void spool_unavailable(std::string_view reason);
// Spool::save failed (unwritable directory, full disk, …); printed once per spool.
void spool_save_failed(std::string_view dir, std::string_view reason, bool disk_full);
// An event that cannot fit in --envelope-max-bytes even without attachments.
void event_too_large(std::string_view event_id, std::uint64_t bytes, std::uint64_t max_bytes);
// sinks/log_batcher
// --logs: the per-minute byte budget dropped a log line (printed once per run; drops are counted).
void logs_over_budget(std::uint64_t budget_bytes);

// sinks/curl_transport, sinks/sender
// --insecure: TLS verification is off (printed once per process, even when quiet).
void insecure_tls();
// libcurl cannot be loaded (sinks/curl_library): nothing is sent; events stay in the spool (once per process).
void transport_unavailable(std::string_view reason);
// A configured DSN does not parse (`redacted` hides its secret); its events stay in the spool.
void dsn_unusable(std::string_view redacted, std::string_view error);
// The server refused an envelope for good (HTTP 4xx): it is dropped for that DSN.
void envelope_rejected(std::string_view id, std::string_view dsn_label, std::string_view why);
// `crashwrap send` on a tty: "crashwrap: sending N/M" redrawn in place; `last` ends the line.
void send_progress(std::size_t done, std::size_t total, bool last);
// `crashwrap send`: the summary line (always printed, even when quiet).
void send_summary(std::size_t sent, std::size_t dropped, std::size_t left, std::string_view last_error);

// agent/commands (list, show, send, doctor)
// The spool cannot be opened for reading (`reason` names the directory and the cause).
void spool_unreadable(std::string_view reason);
// `crashwrap show` without an id.
void show_needs_id();
// No saved event id starts with `id`.
void show_no_match(std::string_view id, std::string_view dir);
// Several saved events start with `id` (lists up to a few of them).
void show_ambiguous(std::string_view id, const std::vector<std::string>& candidates);
// A spool entry that cannot be decompressed or parsed.
void entry_unreadable(std::string_view id, std::string_view path, std::string_view why);
// `crashwrap send` with no usable DSN; `waiting` entries stay, `malformed` DSNs were given.
void send_needs_dsn(std::size_t waiting, std::size_t malformed);

}  // namespace crashwrap::agent::diag
