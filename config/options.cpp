#include "config/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>

#include "config/dsn.h"
#include "config/monitor_schedule.h"
#include "parsers/log_level.h"
#include "parsers/registry.h"
#include "parsers/signal_names.h"

namespace crashwrap::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A non-negative decimal number with an optional fraction; the rest is the unit.
std::optional<double> leading_number(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) ++n;
  if (n == 0) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + n, value);
  if (ec != std::errc() || end != text.data() + n || !std::isfinite(value)) return std::nullopt;
  text = trim(text.substr(n));
  return value;
}

std::optional<int> exit_code(std::string_view s) {
  s = trim(s);
  int v = -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 255)
    return std::nullopt;
  return v;
}

const Config& defaults() {
  static const Config d;
  return d;
}

// ---- appliers, generic over the Config member they set ----

template <auto M> void reset_member(Config& c) { c.*M = defaults().*M; }

template <auto M> std::string set_text(Config& c, std::string_view v) {
  c.*M = std::string(trim(v));
  return {};
}

template <auto M> std::string set_flag(Config& c, std::string_view v) {
  auto b = parse_bool(v);
  if (!b) return "is not on or off";
  c.*M = *b;
  return {};
}

template <auto M> std::string set_duration(Config& c, std::string_view v) {
  auto d = parse_duration(v);
  if (!d) return "is not a duration";
  c.*M = *d;
  return {};
}

template <auto M, std::uint64_t Min = 0> std::string set_size(Config& c, std::string_view v) {
  auto s = parse_size(v);
  if (!s) return "is not a size";
  if (*s < Min) return "is too small (at least " + format_size(Min) + ")";
  c.*M = static_cast<std::remove_reference_t<decltype(c.*M)>>(*s);
  return {};
}

template <auto M> std::string set_count(Config& c, std::string_view v) {
  v = trim(v);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n > (1ull << 40))
    return "is not a whole number";
  c.*M = static_cast<std::remove_reference_t<decltype(c.*M)>>(n);
  return {};
}

template <auto M> std::string add_text(Config& c, std::string_view v) {
  v = trim(v);
  if (v.empty()) return "is empty";
  (c.*M).push_back(std::string(v));
  return {};
}

// ---- appliers with their own syntax ----

std::string set_kill_after(Config& c, std::string_view v) {
  std::string w = lower(trim(v));
  if (w == "off" || w == "none" || w == "0") {
    c.kill_after.reset();
    return {};
  }
  auto d = parse_duration(v);
  if (!d) return "is not a duration";
  c.kill_after = *d;
  return {};
}

std::string set_line_buffer(Config& c, std::string_view v) {
  if (lower(trim(v)) == "auto") {
    c.line_buffer = LineBuffer::Auto;
    return {};
  }
  auto b = parse_bool(v);
  if (!b) return "is not on, off or auto";
  c.line_buffer = *b ? LineBuffer::On : LineBuffer::Off;
  return {};
}

std::string set_stop_signal(Config& c, std::string_view v) {
  auto n = parsers::signal_number(trim(v));
  if (!n) return "is not a signal name or number";
  c.stop_signal = *n;
  return {};
}

std::string add_remap_exit(Config& c, std::string_view v) {
  auto eq = v.find('=');
  std::optional<int> from, to;
  if (eq != std::string_view::npos) {
    from = exit_code(v.substr(0, eq));
    to = exit_code(v.substr(eq + 1));
  }
  if (!from || !to) return "is not FROM=TO with exit codes 0-255";
  c.remap_exit[*from] = *to;
  return {};
}

std::string add_ignore_code(Config& c, std::string_view v) {
  auto code = exit_code(v);
  if (!code) return "is not an exit code 0-255";
  c.ignore_exit_codes.insert(*code);
  return {};
}

std::string add_tag(Config& c, std::string_view v) {
  auto eq = v.find('=');
  std::string_view key = trim(v.substr(0, eq));
  if (eq == std::string_view::npos || key.empty()) return "is not KEY=VALUE";
  if (key.size() > 200) return "has a key longer than 200 characters";
  std::string value(trim(v.substr(eq + 1)));
  for (auto& [k, old] : c.tags)
    if (k == key) {
      old = value;
      return {};
    }
  c.tags.emplace_back(std::string(key), std::move(value));
  return {};
}

std::string add_send_env(Config& c, std::string_view v) {
  v = trim(v);
  bool ok = !v.empty() && !(v[0] >= '0' && v[0] <= '9');
  for (char ch : v)
    ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
  if (!ok) return "is not an environment variable name";
  if (std::find(c.send_env.begin(), c.send_env.end(), v) == c.send_env.end())
    c.send_env.emplace_back(v);
  return {};
}

std::string add_dsn(Config& c, std::string_view v) {
  std::string error;
  if (!parse_dsn(v, error)) return "is not a valid DSN: " + error;
  c.dsns.emplace_back(trim(v));
  return {};
}

std::string add_detector(Config& c, std::string_view v) {
  std::string name = lower(trim(v));
  std::string error;
  if (name.empty() || !parsers::Registry::create({name}, error)) {
    std::string valid;
    for (std::string_view n : parsers::Registry::names()) valid += (valid.empty() ? "" : ", ") + std::string(n);
    return "is not a detector (valid: " + valid + ")";
  }
  c.detectors.push_back(name);
  return {};
}

std::string set_compression(Config& c, std::string_view v) {
  std::string w = lower(trim(v));
  if (w == "gzip") c.compression = Compression::Gzip;
  else if (w == "zstd") c.compression = Compression::Zstd;
  else if (w == "none") c.compression = Compression::None;
  else return "is not one of gzip, zstd, none";
  return {};
}

std::string add_scrub_pattern(Config& c, std::string_view v) {
  if (v.empty()) return "is empty";
  try {
    const std::regex compiled{std::string(v), std::regex::ECMAScript};
    if (std::regex_match(std::string(), compiled)) return "matches empty text (it would mark every position)";
  } catch (const std::regex_error& e) {
    return std::string("is not a valid regular expression (") + e.what() + ")";
  }
  c.scrub_patterns.emplace_back(v);
  return {};
}

std::string set_sample_rate(Config& c, std::string_view v) {
  std::string_view rest = trim(v);
  auto rate = leading_number(rest);
  if (!rate || !rest.empty() || *rate > 1.0) return "is not a rate between 0 and 1";
  c.sample_rate = *rate;
  return {};
}

std::string set_restart(Config& c, std::string_view v) {
  std::string w = lower(trim(v));
  if (w == "no" || w == "never") c.restart = Restart::No;
  else if (w == "on-failure") c.restart = Restart::OnFailure;
  else if (w == "always") c.restart = Restart::Always;
  else return "is not one of no, on-failure, always";
  return {};
}

std::string set_monitor_schedule(Config& c, std::string_view v) {
  std::string error;
  if (!parse_monitor_schedule(v, error)) return error;
  c.monitor_schedule = std::string(trim(v));
  return {};
}

template <auto M> std::string set_minutes(Config& c, std::string_view v) {
  v = trim(v);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n > 100'000)
    return "is not a whole number of minutes";
  c.*M = n;
  return {};
}

std::string set_command(Config& c, Command cmd, std::string_view v) {
  auto b = parse_bool(v);
  if (!b) return "is not on or off";
  if (*b) c.command = cmd;
  return {};
}
std::string set_help(Config& c, std::string_view v) { return set_command(c, Command::Help, v); }
std::string set_version(Config& c, std::string_view v) { return set_command(c, Command::Version, v); }

std::string set_logs_min_level(Config& c, std::string_view v) {
  const auto level = parsers::log_level_from_word(trim(v));
  if (!level) return "is not one of trace, debug, info, warn, error, fatal";
  c.logs_min_level = std::string(parsers::log_level_name(*level));
  return {};
}

std::string set_logs_sample_rate(Config& c, std::string_view v) {
  std::string_view rest = trim(v);
  auto rate = leading_number(rest);
  if (!rate || !rest.empty() || *rate > 1.0) return "is not a rate between 0 and 1";
  c.logs_sample_rate = *rate;
  return {};
}

void reset_none(Config&) {}

using V = ValueKind;
using C = Config;

std::vector<Option> make_table() {
  // clang-format off
  return {
    // ---- general ----
    {.flag = "--spool", .kind = V::Text, .value_name = "DIR", .env = "CRASHWRAP_SPOOL", .json_key = "spool",
     .default_text = "$XDG_STATE_HOME/crashwrap, /var/lib/crashwrap or /tmp/crashwrap-$UID", .example = "/var/lib/crashwrap",
     .help = "where events wait to be sent (created 0700)", .apply = set_text<&C::spool_dir>, .reset = reset_member<&C::spool_dir>,
     .section = "general"},
    {.flag = "--config", .kind = V::Text, .value_name = "FILE", .env = "CRASHWRAP_CONFIG", .default_text = "none",
     .example = "/etc/crashwrap.json", .help = "JSON file of options, keyed by the JSON names below",
     .apply = set_text<&C::config_file>, .reset = reset_member<&C::config_file>, .special = Special::ConfigFile, .section = "general"},
    {.flag = "--strict", .kind = V::Flag, .env = "CRASHWRAP_STRICT", .json_key = "strict", .default_text = "off",
     .example = "true", .help = "refuse to start when the configuration has a problem, instead of warning",
     .apply = set_flag<&C::strict>, .reset = reset_member<&C::strict>, .section = "general"},
    {.flag = "--quiet", .kind = V::Flag, .env = "CRASHWRAP_QUIET", .json_key = "quiet", .default_text = "off",
     .example = "true", .help = "no summary line and no warnings on stderr (errors still print)",
     .apply = set_flag<&C::quiet>, .reset = reset_member<&C::quiet>, .section = "general"},
    {.flag = "--help", .kind = V::Flag, .default_text = "", .example = "", .help = "show this help (also -h, `crashwrap help`)",
     .apply = set_help, .reset = reset_none, .special = Special::Help, .section = "general"},
    {.flag = "--version", .kind = V::Flag, .default_text = "", .example = "", .help = "print the version (also `crashwrap version`)",
     .apply = set_version, .reset = reset_none, .special = Special::Version, .section = "general"},

    // ---- the child ----
    {.flag = "--line-buffer", .negation = "--no-line-buffer", .kind = V::Flag, .env = "CRASHWRAP_LINE_BUFFER",
     .json_key = "line_buffer", .default_text = "auto", .example = "auto",
     .help = "line-buffer C stdio output via libstdbuf (auto: dynamically linked ELF children, when libstdbuf is found)",
     .apply = set_line_buffer, .reset = reset_member<&C::line_buffer>, .section = "child"},
    {.flag = "--env-hints", .negation = "--no-env-hints", .kind = V::Flag, .env = "CRASHWRAP_ENV_HINTS",
     .json_key = "env_hints", .default_text = "on", .example = "false",
     .help = "set PYTHONUNBUFFERED=1 and RUST_BACKTRACE=1 for the child unless already set",
     .apply = set_flag<&C::env_hints>, .reset = reset_member<&C::env_hints>, .section = "child"},
    {.flag = "--group", .kind = V::Flag, .env = "CRASHWRAP_GROUP", .json_key = "group", .default_text = "off",
     .example = "true", .help = "signal the child's whole process group; terminate leftover descendants at exit",
     .apply = set_flag<&C::group>, .reset = reset_member<&C::group>, .section = "child"},
    {.flag = "--stop-signal", .kind = V::Text, .value_name = "SIG", .env = "CRASHWRAP_STOP_SIGNAL", .json_key = "stop_signal",
     .default_text = "SIGTERM", .example = "SIGINT", .help = "what a received SIGTERM becomes for the child",
     .apply = set_stop_signal, .reset = reset_member<&C::stop_signal>, .section = "child"},
    {.flag = "--kill-after", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_KILL_AFTER",
     .json_key = "kill_after", .default_text = "none", .example = "10s",
     .help = "SIGKILL the child this long after a forwarded SIGTERM (0 or off: never)",
     .apply = set_kill_after, .reset = reset_member<&C::kill_after>, .section = "child"},
    {.flag = "--drain-grace", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_DRAIN_GRACE",
     .json_key = "drain_grace", .default_text = "500ms", .example = "1s",
     .help = "after the child exits, keep reading pipes held open by its descendants this long",
     .apply = set_duration<&C::drain_grace>, .reset = reset_member<&C::drain_grace>, .section = "child"},
    {.flag = "--group-term-grace", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_GROUP_TERM_GRACE",
     .json_key = "group_term_grace", .default_text = "2s", .example = "5s",
     .help = "with --group: time between SIGTERM and SIGKILL of leftover descendants",
     .apply = set_duration<&C::group_term_grace>, .reset = reset_member<&C::group_term_grace>, .section = "child"},
    {.flag = "--remap-exit", .kind = V::List, .value_name = "FROM=TO", .env = "CRASHWRAP_REMAP_EXIT", .json_key = "remap_exit",
     .default_text = "none", .example = "143=0", .help = "exit with TO when the child exits with FROM (repeatable)",
     .apply = add_remap_exit, .reset = reset_member<&C::remap_exit>, .split_commas = true, .section = "child"},
    {.flag = "--max-line-bytes", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_MAX_LINE_BYTES",
     .json_key = "max_line_bytes", .default_text = "16KiB", .example = "64KiB",
     .help = "analyse at most this much of each line (passthrough always keeps every byte)",
     .apply = set_size<&C::max_line_bytes, 64>, .reset = reset_member<&C::max_line_bytes>, .section = "child"},
    {.flag = "--tail-lines", .kind = V::Count, .value_name = "N", .env = "CRASHWRAP_TAIL_LINES", .json_key = "tail_lines",
     .default_text = "500", .example = "200", .help = "output lines kept for breadcrumbs and the output-tail attachment",
     .apply = set_count<&C::tail_lines>, .reset = reset_member<&C::tail_lines>, .section = "child"},
    {.flag = "--tail-bytes", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_TAIL_BYTES", .json_key = "tail_bytes",
     .default_text = "256KiB", .example = "1MiB", .help = "byte budget of the kept output lines",
     .apply = set_size<&C::tail_bytes>, .reset = reset_member<&C::tail_bytes>, .section = "child"},

    // ---- what is reported ----
    {.flag = "--report-exit-codes", .negation = "--no-report-exit-codes", .kind = V::Flag, .env = "CRASHWRAP_REPORT_EXIT_CODES",
     .json_key = "report_exit_codes", .default_text = "on", .example = "false",
     .help = "report any non-zero exit (fatal signals and OOM kills are always reported)",
     .apply = set_flag<&C::report_exit_codes>, .reset = reset_member<&C::report_exit_codes>, .section = "report"},
    {.flag = "--ignore-exit-codes", .kind = V::List, .value_name = "CODES", .env = "CRASHWRAP_IGNORE_EXIT_CODES",
     .json_key = "ignore_exit_codes", .default_text = "none", .example = "0,143", .help = "exit codes that are not reported",
     .apply = add_ignore_code, .reset = reset_member<&C::ignore_exit_codes>, .split_commas = true, .section = "report"},
    {.flag = "--detectors", .kind = V::List, .value_name = "NAMES", .env = "CRASHWRAP_DETECTORS", .json_key = "detectors",
     .default_text = "all", .example = "python,go", .help = "crash detectors to run (comma list)",
     .apply = add_detector, .reset = reset_member<&C::detectors>, .split_commas = true, .section = "report"},
    {.flag = "--report-logged", .negation = "--no-report-logged", .kind = V::Flag, .env = "CRASHWRAP_REPORT_LOGGED",
     .json_key = "report_logged", .default_text = "on", .example = "false",
     .help = "report traces the child prints and survives, as handled errors",
     .apply = set_flag<&C::report_logged>, .reset = reset_member<&C::report_logged>, .section = "report"},
    {.flag = "--report-exit-grace", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_REPORT_EXIT_GRACE",
     .json_key = "report_exit_grace", .default_text = "2s", .example = "5s",
     .help = "a trace followed by the exit within this time is the crash of the run (one event)",
     .apply = set_duration<&C::report_exit_grace>, .reset = reset_member<&C::report_exit_grace>, .section = "report"},
    {.flag = "--detector-quiet", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_DETECTOR_QUIET",
     .json_key = "detector_quiet", .default_text = "1s", .example = "500ms", .help = "a trace ends after this much silence",
     .apply = set_duration<&C::detector_quiet>, .reset = reset_member<&C::detector_quiet>, .section = "report"},
    {.flag = "--in-app-include", .kind = V::List, .value_name = "PREFIX", .env = "CRASHWRAP_IN_APP_INCLUDE",
     .json_key = "in_app_include", .default_text = "none", .example = "myapp", .help = "frames of these modules/paths are in-app",
     .apply = add_text<&C::in_app_include>, .reset = reset_member<&C::in_app_include>, .split_commas = true, .section = "report"},
    {.flag = "--in-app-exclude", .kind = V::List, .value_name = "PREFIX", .env = "CRASHWRAP_IN_APP_EXCLUDE",
     .json_key = "in_app_exclude", .default_text = "none", .example = "vendor/", .help = "frames of these modules/paths are not in-app",
     .apply = add_text<&C::in_app_exclude>, .reset = reset_member<&C::in_app_exclude>, .split_commas = true, .section = "report"},
    {.flag = "--fingerprint-local", .kind = V::Flag, .env = "CRASHWRAP_FINGERPRINT_LOCAL", .json_key = "fingerprint_local",
     .default_text = "off", .example = "true", .help = "group events by crashwrap's local fingerprint instead of the server's",
     .apply = set_flag<&C::fingerprint_local>, .reset = reset_member<&C::fingerprint_local>, .section = "report"},
    {.flag = "--logs", .kind = V::Flag, .env = "CRASHWRAP_LOGS", .json_key = "logs", .default_text = "off",
     .example = "true", .help = "send the child's output lines as Sentry structured logs (level, message and fields from JSON, logfmt or text prefixes)",
     .apply = set_flag<&C::logs>, .reset = reset_member<&C::logs>, .section = "report"},
    {.flag = "--logs-min-level", .kind = V::Choice, .value_name = "LEVEL", .env = "CRASHWRAP_LOGS_MIN_LEVEL",
     .json_key = "logs_min_level", .default_text = "info", .example = "warn",
     .help = "with --logs: lines below this level are not sent (trace, debug, info, warn, error, fatal)",
     .apply = set_logs_min_level, .reset = reset_member<&C::logs_min_level>, .section = "report"},
    {.flag = "--logs-sample-rate", .kind = V::Text, .value_name = "RATE", .env = "CRASHWRAP_LOGS_SAMPLE_RATE",
     .json_key = "logs_sample_rate", .default_text = "1", .example = "0.1",
     .help = "with --logs: share of trace/debug/info lines sent (warn and above always are)",
     .apply = set_logs_sample_rate, .reset = reset_member<&C::logs_sample_rate>, .section = "report"},
    {.flag = "--logs-budget", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_LOGS_BUDGET",
     .json_key = "logs_budget", .default_text = "1MiB", .example = "4MiB",
     .help = "with --logs: log bytes sent per minute; lines over it are dropped and counted (0: no budget)",
     .apply = set_size<&C::logs_budget>, .reset = reset_member<&C::logs_budget>, .section = "report"},

    // ---- protection ----
    {.flag = "--scrub", .negation = "--no-scrub", .kind = V::Flag, .env = "CRASHWRAP_SCRUB", .json_key = "scrub",
     .default_text = "on", .example = "false",
     .help = "replace secrets (URL credentials, Authorization, password=…, AWS keys, card numbers) with [Filtered] in what is kept; the app's output is untouched",
     .apply = set_flag<&C::scrub>, .reset = reset_member<&C::scrub>, .section = "protection"},
    {.flag = "--scrub-pattern", .kind = V::List, .value_name = "REGEX", .env = "CRASHWRAP_SCRUB_PATTERN",
     .json_key = "scrub_patterns", .default_text = "none", .example = "session=[0-9a-f]+",
     .help = "also replace matches of this ECMAScript regex with [Filtered] (repeatable)",
     .apply = add_scrub_pattern, .reset = reset_member<&C::scrub_patterns>, .section = "protection"},
    {.flag = "--crash-loop-limit", .kind = V::Count, .value_name = "N", .env = "CRASHWRAP_CRASH_LOOP_LIMIT",
     .json_key = "crash_loop_limit", .default_text = "5", .example = "10",
     .help = "full events per fingerprint per window; the rest are counted and summarised (0: no limit)",
     .apply = set_count<&C::crash_loop_limit>, .reset = reset_member<&C::crash_loop_limit>, .section = "protection"},
    {.flag = "--crash-loop-window", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_CRASH_LOOP_WINDOW",
     .json_key = "crash_loop_window", .default_text = "1h", .example = "10m",
     .help = "the window of --crash-loop-limit",
     .apply = set_duration<&C::crash_loop_window>, .reset = reset_member<&C::crash_loop_window>, .section = "protection"},
    {.flag = "--sample-rate", .kind = V::Text, .value_name = "RATE", .env = "CRASHWRAP_SAMPLE_RATE",
     .json_key = "sample_rate", .default_text = "1", .example = "0.25",
     .help = "share of handled (logged) errors sent, 0 to 1; crashes that end the app are always sent",
     .apply = set_sample_rate, .reset = reset_member<&C::sample_rate>, .section = "protection"},

    // ---- event metadata ----
    {.flag = "--release", .kind = V::Text, .value_name = "VERSION", .env = "CRASHWRAP_RELEASE", .json_key = "release",
     .default_text = "$SENTRY_RELEASE, else a CI or platform commit variable (GITHUB_SHA, SOURCE_VERSION, K_REVISION, …)",
     .example = "myapp@1.2.3", .help = "release of the app",
     .apply = set_text<&C::release>, .reset = reset_member<&C::release>, .section = "event"},
    {.flag = "--environment", .kind = V::Text, .value_name = "NAME", .env = "CRASHWRAP_ENVIRONMENT", .json_key = "environment",
     .default_text = "$SENTRY_ENVIRONMENT", .example = "production", .help = "environment of the app",
     .apply = set_text<&C::environment>, .reset = reset_member<&C::environment>, .section = "event"},
    {.flag = "--server-name", .kind = V::Text, .value_name = "NAME", .env = "CRASHWRAP_SERVER_NAME", .json_key = "server_name",
     .default_text = "the host name", .example = "web-1", .help = "server_name of events",
     .apply = set_text<&C::server_name>, .reset = reset_member<&C::server_name>, .section = "event"},
    {.flag = "--tag", .kind = V::List, .value_name = "KEY=VALUE", .env = "CRASHWRAP_TAGS", .json_key = "tags",
     .default_text = "none", .example = "team=payments", .help = "add a tag to every event (repeatable; CRASHWRAP_TAGS: comma list)",
     .apply = add_tag, .reset = reset_member<&C::tags>, .section = "event"},
    {.flag = "--send-env", .kind = V::List, .value_name = "NAME", .env = "CRASHWRAP_SEND_ENV", .json_key = "send_env",
     .default_text = "none", .example = "HOSTNAME", .help = "copy this environment variable into events (repeatable; no others are ever sent)",
     .apply = add_send_env, .reset = reset_member<&C::send_env>, .split_commas = true, .section = "event"},

    // ---- delivery ----
    {.flag = "--dsn", .kind = V::List, .value_name = "DSN", .env = "CRASHWRAP_DSN", .json_key = "dsn",
     .default_text = "$SENTRY_DSN", .example = "https://KEY@o1.ingest.sentry.io/42",
     .help = "send events there (repeatable; env: comma list; CRASHWRAP_DSN is hidden from the child)",
     .apply = add_dsn, .reset = reset_member<&C::dsns>, .secret = true, .split_commas = true, .section = "delivery"},
    {.flag = "--spool-max-bytes", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_SPOOL_MAX_BYTES",
     .json_key = "spool_max_bytes", .default_text = "256MiB", .example = "64MiB", .help = "spool size bound (oldest removed first)",
     .apply = set_size<&C::spool_max_bytes, 4096>, .reset = reset_member<&C::spool_max_bytes>, .section = "delivery"},
    {.flag = "--spool-max-files", .kind = V::Count, .value_name = "N", .env = "CRASHWRAP_SPOOL_MAX_FILES",
     .json_key = "spool_max_files", .default_text = "1000", .example = "100", .help = "spool file count bound",
     .apply = set_count<&C::spool_max_files>, .reset = reset_member<&C::spool_max_files>, .section = "delivery"},
    {.flag = "--compression", .kind = V::Choice, .value_name = "gzip|zstd|none", .env = "CRASHWRAP_COMPRESSION",
     .json_key = "compression", .default_text = "gzip", .example = "zstd", .help = "request body compression",
     .apply = set_compression, .reset = reset_member<&C::compression>, .section = "delivery"},
    {.flag = "--flush-timeout", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_FLUSH_TIMEOUT",
     .json_key = "flush_timeout", .default_text = "5s", .example = "10s",
     .help = "at exit, wait this long for sending (0: don't wait; the rest stays spooled)",
     .apply = set_duration<&C::flush_timeout>, .reset = reset_member<&C::flush_timeout>, .section = "delivery"},
    {.flag = "--http-timeout", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_HTTP_TIMEOUT",
     .json_key = "http_timeout", .default_text = "15s", .example = "30s", .help = "timeout of one HTTP request",
     .apply = set_duration<&C::http_timeout>, .reset = reset_member<&C::http_timeout>, .section = "delivery"},
    {.flag = "--ca-file", .kind = V::Text, .value_name = "FILE", .env = "CRASHWRAP_CA_FILE", .json_key = "ca_file",
     .default_text = "the system's CAs", .example = "/etc/ssl/private-ca.pem", .help = "trust this CA bundle for HTTPS",
     .apply = set_text<&C::ca_file>, .reset = reset_member<&C::ca_file>, .section = "delivery"},
    {.flag = "--insecure", .kind = V::Flag, .env = "CRASHWRAP_INSECURE", .json_key = "insecure", .default_text = "off",
     .example = "false", .help = "DON'T verify TLS certificates (tests only)",
     .apply = set_flag<&C::insecure>, .reset = reset_member<&C::insecure>, .section = "delivery"},
    {.flag = "--attachment-max-bytes", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_ATTACHMENT_MAX_BYTES",
     .json_key = "attachment_max_bytes", .default_text = "1MiB", .example = "4MiB", .help = "cap of each attachment",
     .apply = set_size<&C::attachment_max_bytes>, .reset = reset_member<&C::attachment_max_bytes>, .section = "delivery"},
    {.flag = "--envelope-max-bytes", .kind = V::Size, .value_name = "SIZE", .env = "CRASHWRAP_ENVELOPE_MAX_BYTES",
     .json_key = "envelope_max_bytes", .default_text = "20MiB", .example = "20MiB", .help = "cap of one envelope",
     .apply = set_size<&C::envelope_max_bytes, 65536>, .reset = reset_member<&C::envelope_max_bytes>, .section = "delivery"},

    // ---- sessions, check-ins, restarts ----
    {.flag = "--sessions", .negation = "--no-sessions", .kind = V::Flag, .env = "CRASHWRAP_SESSIONS", .json_key = "sessions",
     .default_text = "on", .example = "false",
     .help = "send a release-health session per run of the child (only with a DSN and a release: Sentry needs one)",
     .apply = set_flag<&C::sessions>, .reset = reset_member<&C::sessions>, .section = "lifecycle"},
    {.flag = "--session-did", .kind = V::Text, .value_name = "ID", .env = "CRASHWRAP_SESSION_DID", .json_key = "session_did",
     .default_text = "the host name", .example = "web-1", .help = "distinct id (did) of the sessions",
     .apply = set_text<&C::session_did>, .reset = reset_member<&C::session_did>, .section = "lifecycle"},
    {.flag = "--session-update-interval", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_SESSION_UPDATE_INTERVAL",
     .json_key = "session_update_interval", .default_text = "1h", .example = "10m",
     .help = "while the child runs, send an \"ok\" session update this often (0: never)",
     .apply = set_duration<&C::session_update_interval>, .reset = reset_member<&C::session_update_interval>, .section = "lifecycle"},
    {.flag = "--monitor", .kind = V::Text, .value_name = "SLUG", .env = "CRASHWRAP_MONITOR", .json_key = "monitor",
     .default_text = "none", .example = "nightly-backup",
     .help = "send cron check-ins for this monitor: in_progress at start, ok or error at exit (needs a DSN)",
     .apply = set_text<&C::monitor_slug>, .reset = reset_member<&C::monitor_slug>, .section = "lifecycle"},
    {.flag = "--monitor-schedule", .kind = V::Text, .value_name = "SCHEDULE", .env = "CRASHWRAP_MONITOR_SCHEDULE",
     .json_key = "monitor_schedule", .default_text = "none", .example = "\"0 3 * * *\" or \"10 minute\"",
     .help = "create or update the monitor with this crontab or interval schedule",
     .apply = set_monitor_schedule, .reset = reset_member<&C::monitor_schedule>, .section = "lifecycle"},
    {.flag = "--monitor-timezone", .kind = V::Text, .value_name = "TZ", .env = "CRASHWRAP_MONITOR_TIMEZONE",
     .json_key = "monitor_timezone", .default_text = "none", .example = "Europe/Vienna",
     .help = "time zone of --monitor-schedule (tz database name)",
     .apply = set_text<&C::monitor_timezone>, .reset = reset_member<&C::monitor_timezone>, .section = "lifecycle"},
    {.flag = "--checkin-margin", .kind = V::Count, .value_name = "MINUTES", .env = "CRASHWRAP_CHECKIN_MARGIN",
     .json_key = "checkin_margin", .default_text = "none", .example = "5",
     .help = "minutes after the scheduled time before a check-in counts as missed (with --monitor-schedule)",
     .apply = set_minutes<&C::checkin_margin>, .reset = reset_member<&C::checkin_margin>, .section = "lifecycle"},
    {.flag = "--max-runtime", .kind = V::Count, .value_name = "MINUTES", .env = "CRASHWRAP_MAX_RUNTIME",
     .json_key = "max_runtime", .default_text = "none", .example = "30",
     .help = "minutes a run may stay in progress before it counts as failed (with --monitor-schedule)",
     .apply = set_minutes<&C::max_runtime>, .reset = reset_member<&C::max_runtime>, .section = "lifecycle"},
    {.flag = "--restart", .kind = V::Choice, .value_name = "no|on-failure|always", .env = "CRASHWRAP_RESTART",
     .json_key = "restart", .default_text = "no", .example = "on-failure",
     .help = "start the command again when it ends (on-failure: non-zero exit or signal); SIGTERM/SIGINT stop it",
     .apply = set_restart, .reset = reset_member<&C::restart>, .section = "lifecycle"},
    {.flag = "--max-restarts", .kind = V::Count, .value_name = "N", .env = "CRASHWRAP_MAX_RESTARTS",
     .json_key = "max_restarts", .default_text = "5", .example = "10",
     .help = "give up after N restarts in a row (a run of 60s or more resets the count; 0: unlimited)",
     .apply = set_count<&C::max_restarts>, .reset = reset_member<&C::max_restarts>, .section = "lifecycle"},
    {.flag = "--restart-delay", .kind = V::Duration, .value_name = "DURATION", .env = "CRASHWRAP_RESTART_DELAY",
     .json_key = "restart_delay", .default_text = "1s", .example = "5s",
     .help = "wait before the first restart; doubles with each restart in a row, up to 60s",
     .apply = set_duration<&C::restart_delay>, .reset = reset_member<&C::restart_delay>, .section = "lifecycle"},
  };
  // clang-format on
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string Option::fallback_phrase() const {
  if (secret) return "ignoring it; events stay in the spool until a valid DSN is set";
  if (repeatable()) return "ignoring it";
  if (default_text == "none") return "using no " + std::string(flag.substr(2));
  return "using the default " + std::string(default_text);
}

const std::vector<Option>& options() {
  static const std::vector<Option> table = make_table();
  return table;
}

std::optional<FlagMatch> find_flag(std::string_view flag) {
  if (flag == "-h") flag = "--help";
  if (flag == "-V") flag = "--version";
  for (const Option& o : options()) {
    if (o.flag == flag) return FlagMatch{&o, false};
    if (!o.negation.empty() && o.negation == flag) return FlagMatch{&o, true};
  }
  // Every on/off option also takes "--no-" (e.g. --no-group), as most CLIs do.
  if (flag.substr(0, 5) == "--no-")
    for (const Option& o : options())
      if (o.kind == ValueKind::Flag && o.special == Special::None && o.flag.substr(2) == flag.substr(5))
        return FlagMatch{&o, true};
  return std::nullopt;
}

const Option* find_json_key(std::string_view key) {
  for (const Option& o : options())
    if (!o.json_key.empty() && o.json_key == key) return &o;
  return nullptr;
}

std::string_view suggest_flag(std::string_view unknown) {
  std::string_view best;
  std::size_t best_d = 4;  // farther than 3 edits is no suggestion
  for (const Option& o : options())
    for (std::string_view f : {o.flag, o.negation}) {
      if (f.empty()) continue;
      std::size_t d = edit_distance(unknown, f);
      if (d < best_d) best_d = d, best = f;
    }
  return best;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view rest = trim(text);
  auto value = leading_number(rest);
  if (!value) return std::nullopt;
  std::string unit = lower(rest);
  double ms_per_unit = 0;
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "secs") ms_per_unit = 1000;
  else if (unit == "ms") ms_per_unit = 1;
  else if (unit == "m" || unit == "min" || unit == "mins") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else return std::nullopt;
  double ms = *value * ms_per_unit;
  if (ms > 1e12) return std::nullopt;  // ~30 years: certainly a mistake
  return std::chrono::milliseconds(std::llround(ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string_view rest = trim(text);
  auto value = leading_number(rest);
  if (!value) return std::nullopt;
  std::string unit = lower(rest);
  if (!unit.empty() && unit.back() == 'b' && unit != "b") unit.pop_back();  // "kib"→"ki", "kb"→"k"…
  bool si = !rest.empty() && rest.size() == 2 && (rest[1] == 'B' || rest[1] == 'b');  // KB, MB: 1000ⁿ
  double base = si ? 1000.0 : 1024.0;
  double mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "ki") mult = base;
  else if (unit == "m" || unit == "mi") mult = base * base;
  else if (unit == "g" || unit == "gi") mult = base * base * base;
  else if (unit == "t" || unit == "ti") mult = base * base * base * base;
  else return std::nullopt;
  double bytes = *value * mult;
  if (bytes > 9.0e18 || bytes != std::floor(bytes)) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string w = lower(trim(text));
  if (w == "1" || w == "true" || w == "yes" || w == "on") return true;
  if (w == "0" || w == "false" || w == "no" || w == "off") return false;
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0) return "0";
  if (ms % 60'000 == 0 && ms >= 60'000) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string frac = std::to_string(1000 + ms % 1000).substr(1);  // "050" for 50 ms
  while (frac.back() == '0') frac.pop_back();
  return std::to_string(ms / 1000) + "." + frac + "s";
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::pair<std::uint64_t, const char*> units[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (auto [mult, name] : units)
    if (bytes >= mult && bytes % mult == 0) return std::to_string(bytes / mult) + name;
  return std::to_string(bytes);
}

}  // namespace crashwrap::config
