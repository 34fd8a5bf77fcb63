#include "agent/diag.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace crashwrap::agent::diag {
namespace {
std::atomic<int> g_fd{2};
std::atomic<bool> g_quiet{false};
std::atomic<std::uint64_t> g_warnings{0};

void emit(std::string line) {
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(g_fd.load(std::memory_order_relaxed), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failure to report
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}
}  // namespace

void set_output_fd(int fd) noexcept { g_fd.store(fd); }
void set_quiet(bool quiet) noexcept { g_quiet.store(quiet); }
std::uint64_t warnings_emitted() noexcept { return g_warnings.load(); }

void error(std::string_view what, std::string_view fix) {
  std::string line = "crashwrap: error: ";
  line += what;
  if (!fix.empty()) {
    line += " \xe2\x80\x94 fix: ";
    line += fix;
  }
  emit(std::move(line));
}

void warning(std::string_view what, std::string_view fix) {
  g_warnings.fetch_add(1);
  if (g_quiet.load()) return;
  std::string line = "crashwrap: warning: ";
  line += what;
  if (!fix.empty()) {
    line += " \xe2\x80\x94 ";
    line += fix;
  }
  emit(std::move(line));
}

void note(std::string_view text) {
  if (g_quiet.load()) return;
  std::string line = "crashwrap: ";
  line += text;
  emit(std::move(line));
}

void cannot_run(std::string_view program, std::string_view reason) {
  std::string line = "crashwrap: error: cannot run '";
  line += program;
  line += "': ";
  line += reason;
  emit(std::move(line));
}

void line_buffer_unavailable() {
  warning("--line-buffer: coreutils' libstdbuf.so was not found, the child's stdio keeps its own buffering",
          "install coreutils (it provides stdbuf) or leave --line-buffer at auto");
}

void output_closed(std::string_view stream_name) {
  warning(std::string("own ") + std::string(stream_name) +
              " was closed by its reader; the child's output is still drained and analysed",
          "keep the reader of crashwrap's output open to see it");
}

// agent/flight_recorder
void config_warning(std::string_view line) {
  g_warnings.fetch_add(1);
  if (g_quiet.load()) return;
  std::string text = "crashwrap: warning: ";
  text += line;
  emit(std::move(text));
}

void config_refused(std::string_view line) {
  std::string text = "crashwrap: error: ";
  text += line;
  emit(std::move(text));
}

namespace {
std::string event_phrase(std::string_view event_id, const std::string* saved_path) {
  std::string text = " \xe2\x80\x94 event ";
  text += event_id.substr(0, 8);
  text += "\xe2\x80\xa6 ";  // "…"
  if (saved_path != nullptr) {
    text += "saved to ";
    text += *saved_path;
  } else {
    text += "could not be saved";
  }
  return text;
}
}  // namespace

void run_summary(std::string_view program, std::string_view how, double seconds,
                 std::string_view event_id, const std::string* saved_path, bool no_dsn) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", seconds < 0 ? 0.0 : seconds);
  std::string text(program);
  text += ' ';
  text += how;
  text += " after ";
  text += secs;
  text += 's';
  text += event_phrase(event_id, saved_path);
  if (no_dsn && saved_path != nullptr) text += " (no DSN set)";
  note(text);
}

void abandoned_run(std::string_view program, int pid, std::string_view event_id,
                   const std::string* saved_path) {
  std::string text = "previous run of ";
  text += program;
  text += " (pid " + std::to_string(pid) + ") ended while no crashwrap was watching";
  text += event_phrase(event_id, saved_path);
  note(text);
}

void detectors_rejected(std::string_view error) {
  warning(error, "all detectors are used");
}

void crash_loop_suppressed(std::string_view title, std::uint64_t seen, std::size_t limit) {
  note("crash loop: " + std::string(title) + " happened " + std::to_string(seen) +
       " times in the window; events over --crash-loop-limit " + std::to_string(limit) +
       " are counted, not saved, and the count is sent when the window ends");
}

void run_summary_held_back(std::string_view program, std::string_view how, double seconds,
                           std::string_view event_id, std::size_t limit) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", seconds < 0 ? 0.0 : seconds);
  note(std::string(program) + " " + std::string(how) + " after " + secs + "s \xe2\x80\x94 event " +
       std::string(event_id.substr(0, 8)) + "\xe2\x80\xa6 not saved: crash loop (over --crash-loop-limit " +
       std::to_string(limit) + " in the window; counted, and the count is sent when the window ends)");
}

void restarting(std::string_view program, std::string_view how, double delay_seconds, std::size_t n,
                std::size_t max) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", delay_seconds < 0 ? 0.0 : delay_seconds);
  std::string text = "restarting " + std::string(program) + " (it " + std::string(how) + ") in " + secs +
                     "s \xe2\x80\x94 restart " + std::to_string(n);
  if (max != 0) text += " of " + std::to_string(max);
  note(text);
}

void restarts_exhausted(std::string_view program, std::size_t restarts) {
  warning("not restarting " + std::string(program) + " again after " + std::to_string(restarts) +
              " restarts in a row",
          "raise --max-restarts (0: unlimited) or fix what makes it fail");
}

void flight_recorder_unavailable(std::string_view dir, std::string_view reason) {
  warning(std::string("cannot keep a flight record in ") + std::string(dir) + ": " + std::string(reason) +
              "; if crashwrap is killed, its next start cannot report this run",
          "make the spool directory writable (--spool DIR / CRASHWRAP_SPOOL)");
}

void flight_record_ignored(std::string_view path, std::string_view reason) {
  warning(std::string("ignoring ") + std::string(path) + ": " + std::string(reason),
          "remove the file if no other crashwrap version uses this spool");
}

// ---- sinks/spool ----

void spool_unavailable(std::string_view reason) {
  warning(std::string(reason) + "; crash events of this run are not kept",
          "point --spool (CRASHWRAP_SPOOL) at a writable directory");
}

void spool_save_failed(std::string_view dir, std::string_view reason, bool disk_full) {
  warning("cannot save the event to the spool " + std::string(dir) + ": " + std::string(reason),
          disk_full ? "free disk space or lower --spool-max-bytes"
                    : "make the directory writable or point --spool at a writable one");
}

void event_too_large(std::string_view event_id, std::uint64_t bytes, std::uint64_t max_bytes) {
  warning("event " + std::string(event_id.substr(0, 8)) + " is " + std::to_string(bytes) +
              " bytes without attachments, over the envelope limit of " +
              std::to_string(max_bytes) + "; it is not kept",
          "raise --envelope-max-bytes");
}

// ---- sinks/log_batcher ----

void logs_over_budget(std::uint64_t budget_bytes) {
  warning("log lines over the budget of " + std::to_string(budget_bytes) +
              " bytes per minute are dropped (counted in client reports)",
          "raise --logs-budget (0: no budget), or --logs-min-level / --logs-sample-rate to send fewer");
}

// ---- sinks/curl_transport, sinks/sender ----

void insecure_tls() {
  static std::atomic<bool> once{false};
  if (once.exchange(true)) return;
  g_warnings.fetch_add(1);
  // Loud on purpose: printed even with --quiet.
  emit("crashwrap: warning: --insecure: TLS certificates are NOT verified; anyone on the path can "
       "read and alter crash reports \xe2\x80\x94 use --ca-file for a private CA instead");
}

void transport_unavailable(std::string_view reason) {
  static std::atomic<bool> once{false};
  if (once.exchange(true)) return;
  warning(reason, "install libcurl4 (apt-get install libcurl4); events stay in the spool and are sent "
                  "by the next start or `crashwrap send`");
}

void dsn_unusable(std::string_view redacted, std::string_view error) {
  warning("the DSN " + std::string(redacted) + " is not usable: " + std::string(error) +
              "; its events stay in the spool",
          "fix the DSN (--dsn, CRASHWRAP_DSN or SENTRY_DSN), then run `crashwrap send`");
}

void envelope_rejected(std::string_view id, std::string_view dsn_label, std::string_view why) {
  warning("the server " + std::string(dsn_label) + " refused event " +
              std::string(id.substr(0, 8)) + " (" + std::string(why) + "); it is dropped for that DSN",
          "see `crashwrap show " + std::string(id.substr(0, 8)) + "` and the server's limits");
}

void send_progress(std::size_t done, std::size_t total, bool last) {
  std::string line = "\rcrashwrap: sending " + std::to_string(done) + "/" + std::to_string(total);
  if (last) line += "\n";
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(g_fd.load(std::memory_order_relaxed), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void send_summary(std::size_t sent, std::size_t dropped, std::size_t left, std::string_view last_error) {
  std::string line = "crashwrap: send: " + std::to_string(sent) + " sent, " +
                     std::to_string(dropped) + " dropped, " + std::to_string(left) +
                     " left in the spool";
  if (left > 0 && !last_error.empty()) {
    line += " (last error: ";
    line += last_error;
    line += ")";
  }
  emit(std::move(line));
}

// ---- agent/commands ----

void spool_unreadable(std::string_view reason) {
  error(reason, "point --spool (CRASHWRAP_SPOOL) at the spool directory");
}

void show_needs_id() {
  error("`crashwrap show` needs an event id", "run `crashwrap list` and pass an id (a unique prefix is enough)");
}

void show_no_match(std::string_view id, std::string_view dir) {
  error("no saved event id starts with '" + std::string(id) + "' in " + std::string(dir),
        "run `crashwrap list` to see the saved ids (same --spool)");
}

void show_ambiguous(std::string_view id, const std::vector<std::string>& candidates) {
  std::string what = std::to_string(candidates.size()) + " saved events start with '" +
                     std::string(id) + "':";
  for (std::size_t i = 0; i < candidates.size() && i < 5; ++i) what += " " + candidates[i];
  if (candidates.size() > 5) what += " …";
  error(what, "give more characters of the id");
}

void entry_unreadable(std::string_view id, std::string_view path, std::string_view why) {
  error("the saved event " + std::string(id) + " (" + std::string(path) + ") is damaged: " +
            std::string(why),
        "delete the file; the other events are not affected");
}

void send_needs_dsn(std::size_t waiting, std::size_t malformed) {
  if (waiting == 0 && malformed == 0) {
    note("nothing to send: no DSN is set and no event waits in the spool");
    return;
  }
  std::string what = malformed > 0 ? "no usable DSN (" + std::to_string(malformed) + " malformed)"
                                   : std::string("no DSN is set");
  what += "; " + std::to_string(waiting) + (waiting == 1 ? " event waits" : " events wait") +
          " in the spool";
  error(what, "pass --dsn URL (or set SENTRY_DSN / CRASHWRAP_DSN) to `crashwrap send`");
}

}  // namespace crashwrap::agent::diag
