#include "sinks/event_builder.h"

#include <sys/random.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>

#include "agent/output_tail.h"
#include "parsers/fingerprint.h"
#include "parsers/signal_names.h"
#include "sinks/event_trim.h"
#include "sinks/source_context.h"

namespace crashwrap::sinks {
namespace {

using json = nlohmann::json;
using parsers::ExitKind;

constexpr std::size_t kMaxBreadcrumbs = 100;  // Sentry's SDK default
constexpr std::size_t kMaxTagValue = 200;     // Sentry rejects longer tag values
constexpr std::size_t kMaxTagKey = 32;

// Platforms Sentry accepts on an event; runtimes whose SDK says otherwise are mapped.
std::string event_platform(std::string_view p) {
  static constexpr std::string_view accepted[] = {"as3", "c", "cfml", "cocoa", "csharp", "elixir", "haskell",
                                                  "go", "groovy", "java", "javascript", "native", "node", "objc",
                                                  "other", "perl", "php", "python", "ruby"};
  if (p.empty() || p == "rust" || p == "cpp" || p == "c++") return "native";
  if (p == "dotnet" || p == "mono") return "csharp";
  if (p == "jvm") return "java";
  for (std::string_view a : accepted)
    if (a == p) return std::string(p);
  return "other";
}

std::string exit_kind_name(const parsers::ExitInfo& e, bool abandoned) {
  if (abandoned && e.kind != ExitKind::OomKilled) return "abandoned";
  switch (e.kind) {
    case ExitKind::Clean: return "clean";
    case ExitKind::ErrorExit: return "error_exit";
    case ExitKind::Signal: return "signal";
    case ExitKind::OomKilled: return "oom_killed";
    case ExitKind::Unknown: return "abandoned";
  }
  return "unknown";
}

std::string signal_description(int signo) {
  const char* d = signo > 0 ? ::sigdescr_np(signo) : nullptr;
  return d ? d : "Signal " + std::to_string(signo);
}

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

std::string program_name(const std::vector<std::string>& argv) {
  if (argv.empty()) return "the command";
  auto slash = argv[0].rfind('/');
  return slash == std::string::npos ? argv[0] : argv[0].substr(slash + 1);
}

json signal_meta(int number, const std::string& name) {
  return {{"signal", {{"number", number}, {"name", name.empty() ? parsers::signal_name(number) : name}}}};
}

// The exception of a run that left no crash report: how the process ended.
parsers::Exception synthesize(const RunFacts& f) {
  const parsers::ExitInfo& e = f.exit;
  parsers::Exception x;
  x.mechanism.type = "crashwrap";
  x.mechanism.handled = false;
  x.mechanism.synthetic = true;
  std::string who = program_name(f.argv);
  if (f.abandoned && e.kind != ExitKind::OomKilled) {
    x.type = "AbnormalExit";
    x.value = "the previous run of " + who + (f.pid ? " (pid " + std::to_string(f.pid) + ")" : "") +
              " ended while crashwrap was not watching (crashwrap itself was killed, e.g. with its container)";
    return x;
  }
  switch (e.kind) {
    case ExitKind::Signal:
      x.type = e.signal_name.empty() ? parsers::signal_name(e.signal) : e.signal_name;
      x.value = signal_description(e.signal) + (e.core_dumped ? " (core dumped)" : "");
      x.mechanism.signal_number = e.signal;
      x.mechanism.signal_name = x.type;
      break;
    case ExitKind::OomKilled: {
      x.type = "OutOfMemory";
      std::string v = (f.abandoned ? "the previous run of " + who : who) + " was killed by the kernel's OOM killer";
      if (e.oom && e.oom->memory_limit) v += " (memory limit " + mib(*e.oom->memory_limit) + ")";
      if (f.abandoned) v += " while crashwrap was not watching";
      x.value = v;
      if (e.signal) {
        x.mechanism.signal_number = e.signal;
        x.mechanism.signal_name = e.signal_name.empty() ? parsers::signal_name(e.signal) : e.signal_name;
      }
      break;
    }
    case ExitKind::ErrorExit:
    case ExitKind::Clean:
      x.type = "ExitCode";
      x.value = who + " exited with code " + std::to_string(e.code) +
                (e.oom && e.oom->increased() ? " after a process in its cgroup was OOM-killed" : "");
      break;
    case ExitKind::Unknown:
      x.type = "AbnormalExit";
      x.value = who + " ended abnormally";
      break;
  }
  return x;
}

json frame_json(const parsers::Frame& f) {
  json j = json::object();
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put("function", f.function);
  put("module", f.module);
  put("filename", f.filename);
  put("abs_path", f.abs_path);
  if (f.lineno) j["lineno"] = *f.lineno;
  if (f.colno) j["colno"] = *f.colno;
  put("instruction_addr", f.instruction_addr);
  put("package", f.package);
  if (f.in_app) j["in_app"] = *f.in_app;
  if (f.context_line) {
    j["pre_context"] = f.pre_context;
    j["context_line"] = *f.context_line;
    j["post_context"] = f.post_context;
  }
  return j;
}

// Frames without any location are dropped: Sentry rejects them.
std::optional<json> stacktrace_json(const parsers::Stacktrace& st) {
  json frames = json::array();
  for (const parsers::Frame& f : st.frames)
    if (!f.function.empty() || !f.filename.empty() || !f.module.empty() || !f.instruction_addr.empty() ||
        !f.abs_path.empty())
      frames.push_back(frame_json(f));
  if (frames.empty()) return std::nullopt;
  return json{{"frames", std::move(frames)}};
}

json mechanism_json(const parsers::Mechanism& m) {
  json j = {{"type", m.type.empty() ? "generic" : m.type}, {"handled", m.handled}};
  if (m.synthetic) j["synthetic"] = true;
  if (m.signal_number) j["meta"] = signal_meta(*m.signal_number, m.signal_name);
  if (m.exception_id) j["exception_id"] = *m.exception_id;
  if (m.parent_id) j["parent_id"] = *m.parent_id;
  if (m.is_exception_group) j["is_exception_group"] = true;
  if (!m.source.empty()) j["source"] = m.source;
  return j;
}

json exception_json(const parsers::Exception& x) {
  json j = json::object();
  if (!x.type.empty()) j["type"] = x.type;
  if (x.value) j["value"] = *x.value;
  if (!j.contains("type") && !j.contains("value")) j["type"] = "Error";
  if (!x.module.empty()) j["module"] = x.module;
  j["mechanism"] = mechanism_json(x.mechanism);
  if (auto st = stacktrace_json(x.stacktrace)) j["stacktrace"] = std::move(*st);
  if (x.thread_id) j["thread_id"] = *x.thread_id;
  return j;
}

json thread_json(const parsers::Thread& t) {
  json j = json::object();
  if (!t.id.empty()) j["id"] = t.id;
  if (!t.name.empty()) j["name"] = t.name;
  if (!t.state.empty()) j["state"] = t.state;
  j["crashed"] = t.crashed;
  j["current"] = t.current;
  if (auto st = stacktrace_json(t.stacktrace)) j["stacktrace"] = std::move(*st);
  return j;
}

std::map<std::string, std::string> read_os_release() {
  std::map<std::string, std::string> out;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    std::ifstream in(path);
    if (!in) continue;
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos || line[0] == '#') continue;
      std::string v = line.substr(eq + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
      out[line.substr(0, eq)] = v;
    }
    break;
  }
  return out;
}

// Computed once per process: the machine does not change under us.
const json& os_and_device() {
  static const json value = [] {
    json os = {{"name", "Linux"}};
    json device = json::object();
    struct utsname u {};
    if (::uname(&u) == 0) {
      os["name"] = u.sysname;
      os["version"] = u.release;
      os["kernel_version"] = std::string(u.sysname) + " " + u.release + " " + u.version;
      os["build"] = u.version;
      device["arch"] = u.machine;
    }
    auto rel = read_os_release();
    json dist = json::object();
    if (rel.count("ID")) dist["name"] = rel["ID"];
    if (rel.count("VERSION_ID")) dist["version"] = rel["VERSION_ID"];
    if (rel.count("PRETTY_NAME")) dist["pretty_name"] = rel["PRETTY_NAME"];
    if (!dist.empty()) os["distribution"] = dist;
    return json{{"os", os}, {"device", device}};
  }();
  return value;
}

std::string runtime_name(std::string_view runtime) {
  static constexpr std::pair<std::string_view, std::string_view> names[] = {
      {"python", "CPython"}, {"node", "node"}, {"java", "Java"}, {"jvm-fatal", "Java"}, {"go", "Go"},
      {"rust", "Rust"},     {"ruby", "Ruby"}, {"php", "PHP"},   {"dotnet", "Mono"},    {"perl", "Perl"}};
  for (auto [k, v] : names)
    if (k == runtime) return std::string(v);
  return {};
}

json process_context(const RunFacts& f) {
  const parsers::ExitInfo& e = f.exit;
  json exit = {{"kind", exit_kind_name(e, f.abandoned)}, {"description", e.describe()}};
  if (e.kind == ExitKind::ErrorExit || e.kind == ExitKind::Clean) exit["code"] = e.code;
  if (e.signal) {
    exit["signal"] = e.signal;
    exit["signal_name"] = e.signal_name.empty() ? parsers::signal_name(e.signal) : e.signal_name;
    exit["core_dumped"] = e.core_dumped;
  }
  json p = {{"command", command_line(f.argv)}, {"pid", f.pid}};
  if (!f.running) p["exit"] = exit;  // a child that still runs has no ending yet
  if (f.started.time_since_epoch().count() != 0) p["started"] = format_rfc3339(f.started);
  if (e.duration.count() > 0) p["duration_ms"] = e.duration.count();
  if (e.last_rss) p["last_rss_bytes"] = *e.last_rss;
  if (e.oom) {
    json oom = {{"source", e.oom->source}, {"cgroup", e.oom->cgroup},
                {"oom_kill_before", e.oom->oom_kill_before}, {"oom_kill_after", e.oom->oom_kill_after}};
    if (e.oom->memory_limit) oom["memory_limit_bytes"] = *e.oom->memory_limit;
    if (e.oom->memory_peak) oom["memory_peak_bytes"] = *e.oom->memory_peak;
    p["oom"] = oom;
  }
  if (f.running) p["running"] = true;
  return p;
}

json contexts(const RunFacts& f, const parsers::CrashReport* r) {
  json c = os_and_device();
  if (c["device"].empty()) c.erase("device");
  c["process"] = process_context(f);
  json cw = {{"version", CRASHWRAP_VERSION}};
  if (f.abandoned) cw["recovered_from_flight_recorder"] = true;
  if (r) {
    cw["detector"] = r->runtime;
    cw["stream"] = std::string(parsers::stream_name(r->stream));
    if (r->last_line) cw["lines"] = std::to_string(r->first_line) + "-" + std::to_string(r->last_line);
    std::string name = runtime_name(r->runtime);
    if (!name.empty()) c["runtime"] = {{"name", name}};
  }
  c["crashwrap"] = cw;
  return c;
}

void put_tag(json& tags, std::string key, const std::string& value) {
  if (key.empty() || value.empty()) return;
  if (key.size() > kMaxTagKey) key.resize(kMaxTagKey);
  tags[valid_utf8(key)] = truncate_utf8(valid_utf8(value), kMaxTagValue);
}

json tags(const config::Config& cfg, const RunFacts& f, const parsers::CrashReport* r, const std::string& fp) {
  json t = json::object();
  const parsers::ExitInfo& e = f.exit;
  if (!f.running) {
    put_tag(t, "exit.kind", exit_kind_name(e, f.abandoned));
    if (e.signal) put_tag(t, "exit.signal", e.signal_name.empty() ? parsers::signal_name(e.signal) : e.signal_name);
    if (e.kind == ExitKind::ErrorExit) put_tag(t, "exit.code", std::to_string(e.code));
    if (e.oom && e.oom->increased()) put_tag(t, "oom", "true");
  }
  if (r) {
    put_tag(t, "runtime", r->runtime);
    for (const auto& [k, v] : r->tags) put_tag(t, k, v);
  }
  put_tag(t, "crashwrap.fingerprint", fp);
  for (const auto& [k, v] : cfg.tags) put_tag(t, k, v);
  return t;
}

bool looks_like_error(std::string_view text) {
  static constexpr std::string_view words[] = {"error", "fatal", "panic", "exception", "traceback",
                                               "critical", "abort", "segmentation fault", "failed"};
  std::string low(text.substr(0, 512));
  for (char& c : low)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  for (std::string_view w : words)
    if (low.find(w) != std::string::npos) return true;
  return false;
}

// The last output lines before the report (its own lines are in the exception).
std::optional<json> breadcrumbs(const RunFacts& f, const parsers::CrashReport* r) {
  std::vector<const parsers::LogLine*> kept;
  bool has_span = r && r->first_time.time_since_epoch().count() != 0;
  for (const parsers::LogLine& l : f.tail) {
    if (has_span && l.stream == r->stream && l.time >= r->first_time && l.time <= r->last_time) continue;
    kept.push_back(&l);
  }
  if (kept.size() > kMaxBreadcrumbs) kept.erase(kept.begin(), kept.end() - kMaxBreadcrumbs);
  if (kept.empty()) return std::nullopt;
  json values = json::array();
  for (const parsers::LogLine* l : kept) {
    bool err = l->stream == parsers::Stream::Stderr && looks_like_error(l->text);
    values.push_back({{"timestamp", format_rfc3339(l->time)},
                      {"type", "default"},
                      {"category", std::string(parsers::stream_name(l->stream))},
                      {"level", err ? "error" : "info"},
                      {"message", l->text}});
  }
  return json{{"values", std::move(values)}};
}

json extra(const config::Config& cfg, const parsers::CrashReport* r) {
  json x = json::object();
  if (r)
    for (const auto& [k, v] : r->extra) x[k] = v;
  for (const std::string& name : cfg.send_env)
    if (const char* v = std::getenv(name.c_str())) x[name] = v;
  return x;
}

std::string tail_text(const std::vector<parsers::LogLine>& tail, std::uint64_t cap) {
  std::string text = agent::render_tail(tail);
  if (text.size() <= cap) return text;
  // Keep the newest lines: the end of the output is what explains a crash.
  std::size_t start = text.size() - cap;
  auto nl = text.find('\n', start);
  return nl == std::string::npos || nl + 1 >= text.size() ? text.substr(start) : text.substr(nl + 1);
}

std::optional<Attachment> file_attachment(const std::string& path, std::uint64_t cap) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::string data(static_cast<std::size_t>(std::min<std::uint64_t>(cap, 64ull << 20)), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got == 0) return std::nullopt;
  data.resize(got);
  auto slash = path.rfind('/');
  return Attachment{slash == std::string::npos ? path : path.substr(slash + 1), "text/plain", std::move(data)};
}

std::string level_of(const RunFacts& f, const parsers::CrashReport* r) {
  if (f.abandoned || !r) return f.running ? "error" : "fatal";
  return std::string(parsers::level_name(r->level));
}

// The report's exceptions and threads, or the exit's synthetic exception, with
// source context where the platform's SDK would send it.
void crash_values(const RunFacts& f, const parsers::CrashReport* r, const std::string& platform,
                  std::vector<parsers::Exception>& exceptions, std::vector<parsers::Thread>& threads) {
  if (r) {
    exceptions = r->exceptions;
    threads = r->threads;
  }
  if (exceptions.empty()) exceptions.push_back(synthesize(f));
  // A trace joined with a death by signal: the signal belongs to the final exception.
  parsers::Mechanism& last = exceptions.back().mechanism;
  if (r && !r->handled && f.exit.signal && !last.signal_number) {
    last.signal_number = f.exit.signal;
    last.signal_name = f.exit.signal_name;
  }
  if (wants_source_context(platform)) add_source_context(exceptions, threads);
}

json values_of(const std::vector<parsers::Exception>& exceptions) {
  json values = json::array();
  for (const parsers::Exception& x : exceptions) values.push_back(exception_json(x));
  return {{"values", std::move(values)}};
}

json values_of(const std::vector<parsers::Thread>& threads) {
  json values = json::array();
  for (const parsers::Thread& t : threads) values.push_back(thread_json(t));
  return {{"values", std::move(values)}};
}

parsers::Timestamp event_time(const RunFacts& f, const parsers::CrashReport* r) {
  if (f.ended.time_since_epoch().count() != 0) return f.ended;
  if (r && r->last_time.time_since_epoch().count() != 0) return r->last_time;
  return parsers::Clock::now();
}

}  // namespace

bool should_report(const config::Config& cfg, const parsers::ExitInfo& exit) {
  switch (exit.kind) {
    case ExitKind::Clean: return false;
    case ExitKind::Signal:
    case ExitKind::OomKilled:
    case ExitKind::Unknown: return true;
    case ExitKind::ErrorExit: return cfg.report_exit_codes && cfg.ignore_exit_codes.count(exit.code) == 0;
  }
  return false;
}

BuiltEvent build_event(const config::Config& cfg, const RunFacts& f, const parsers::CrashReport* r) {
  BuiltEvent b;
  b.event_id = new_event_id();
  std::string platform = event_platform(r ? r->platform : "");
  std::vector<parsers::Exception> exceptions;
  std::vector<parsers::Thread> threads;
  crash_values(f, r, platform, exceptions, threads);
  b.fingerprint = r ? parsers::fingerprint(*r) : parsers::fingerprint(f.exit, f.argv.empty() ? "" : f.argv[0]);
  const parsers::Exception& final_x = exceptions.back();
  b.title = truncate_utf8(valid_utf8(final_x.type + (final_x.value ? ": " + *final_x.value : "")), 200);

  json& e = b.event;
  e = {{"event_id", b.event_id},
       {"timestamp", format_rfc3339(event_time(f, r))},
       {"platform", platform},
       {"level", level_of(f, r)},
       {"logger", "crashwrap"},
       {"sdk", {{"name", "crashwrap"}, {"version", CRASHWRAP_VERSION}}},
       {"exception", values_of(exceptions)},
       {"contexts", contexts(f, r)},
       {"tags", tags(cfg, f, r, b.fingerprint)}};
  if (!threads.empty()) e["threads"] = values_of(threads);
  if (!cfg.server_name.empty()) e["server_name"] = cfg.server_name;
  if (!cfg.release.empty()) e["release"] = cfg.release;
  if (!cfg.environment.empty()) e["environment"] = cfg.environment;
  if (auto crumbs = breadcrumbs(f, r)) e["breadcrumbs"] = std::move(*crumbs);
  if (json x = extra(cfg, r); !x.empty()) e["extra"] = std::move(x);
  if (cfg.fingerprint_local) e["fingerprint"] = json::array({b.fingerprint});
  make_valid_utf8(e);
  trim_event(e);

  std::string tail = tail_text(f.tail, cfg.attachment_max_bytes);
  if (!tail.empty()) b.attachments.push_back({"output-tail.txt", "text/plain", std::move(tail)});
  if (r && !r->attachment_path.empty())
    if (auto a = file_attachment(r->attachment_path, cfg.attachment_max_bytes)) b.attachments.push_back(std::move(*a));
  return b;
}

std::string dump_event(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_rfc3339(parsers::Timestamp t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) frac += 1000, secs -= 1;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string new_event_id() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got < sizeof bytes) {  // no getrandom (old kernel, seccomp): still unique enough
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // UUID v4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    id[2 * i] = hex[bytes[i] >> 4];
    id[2 * i + 1] = hex[bytes[i] & 0xf];
  }
  return id;
}

}  // namespace crashwrap::sinks
