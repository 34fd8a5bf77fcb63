// C and C++ programs that abort with a message from their runtime library:
// the C++ terminate handler (libstdc++, libc++abi) and glibc's own checks
// (malloc consistency, stack protector, fortify, assert()). Each prints one
// or two lines and raises SIGABRT; older glibc adds a backtrace and the map.
// Also the fatal messages and failure signal handlers of glog and absl.
//
//   terminate called after throwing an instance of 'std::runtime_error'
//     what():  no limit configured for 'disk'
//   libc++abi: terminating due to uncaught exception of type std::runtime_error: boom
//   free(): double free detected in tcache 2
//   *** stack smashing detected ***: terminated
//   app: main.c:5: ring_push: Assertion `*len < cap' failed.
//   *** Error in `./app': double free or corruption (fasttop): 0x0000000001c4f010 ***   (glibc < 2.26)
#include <algorithm>
#include <memory>

#include "parsers/detectors.h"
#include "parsers/native_frames.h"
#include "parsers/signal_names.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

constexpr int kSigabrt = 6;

Exception& abort_exception(Builder& b, std::string type, std::optional<std::string> value, std::string mechanism) {
  Exception& e = b.add_exception(std::move(type), std::move(value));
  e.mechanism.type = std::move(mechanism);
  e.mechanism.signal_name = "SIGABRT";
  e.mechanism.signal_number = kSigabrt;
  return e;
}

// ---- C++ terminate ------------------------------------------------------------------

enum class Cpp { Start = 0, AfterInstance, PureVirtual };

constexpr std::string_view kInstance = "terminate called after throwing an instance of '";
constexpr std::string_view kLibcxx[] = {
    "libc++abi: terminating due to uncaught exception of type ",
    "libc++abi: terminating with uncaught exception of type ",
};

bool is_instance(std::string_view t) { return starts_with(t, kInstance) && text::ends_with(t, "'"); }

void instance(Builder& b, std::string_view t) {
  std::string_view type = t.substr(kInstance.size(), t.size() - kInstance.size() - 1);
  abort_exception(b, std::string(type), std::nullopt, "terminate");
}

void what(Builder& b, std::string_view t) {
  std::string_view v = t.substr(text::find(t, "what():") + 7);
  if (starts_with(v, "  ")) v.remove_prefix(2);  // libstdc++ prints two spaces after "what():"
  else if (starts_with(v, " ")) v.remove_prefix(1);
  if (Exception* e = b.current_exception()) e->value = std::string(v);
}

bool is_libcxx(std::string_view t) {
  return std::any_of(std::begin(kLibcxx), std::end(kLibcxx), [&](std::string_view p) { return starts_with(t, p); });
}

void libcxx(Builder& b, std::string_view t) {
  for (std::string_view p : kLibcxx) {
    if (!starts_with(t, p)) continue;
    auto split = text::split_first(t.substr(p.size()), ": ");
    std::optional<std::string> value;
    if (split.found) value = std::string(split.right);
    abort_exception(b, std::string(split.left), std::move(value), "terminate");
    return;
  }
}

bool is_bare_terminate(std::string_view t) {
  return t == "terminate called without an active exception" || t == "terminate called recursively" ||
         t == "libc++abi: terminating" || starts_with(t, "libc++abi: terminating with uncaught foreign exception") ||
         starts_with(t, "libc++abi: terminating due to uncaught foreign exception");
}

void bare_terminate(Builder& b, std::string_view t) {
  if (Exception* e = b.current_exception()) {  // after "pure virtual method called"
    e->value = e->value.value_or("") + "\n" + std::string(t);
    return;
  }
  abort_exception(b, "SIGABRT", std::string(t), "terminate");
}

void pure_virtual(Builder& b, std::string_view t) { abort_exception(b, "SIGABRT", std::string(t), "terminate"); }

Spec cpp_spec() {
  Spec s;
  s.name = "cpp";
  s.runtime = "cpp";
  s.platform = "native";
  s.anchors = {"terminate called ", "libc++abi: terminating", "pure virtual method called"};
  s.rules = {
      {Cpp::Start, &is_instance, Cpp::AfterInstance, &instance},
      {Cpp::Start, &is_libcxx, kEmit, &libcxx},
      {Cpp::Start, &is_bare_terminate, kEmit, &bare_terminate},
      {Cpp::Start, [](std::string_view t) { return t == "pure virtual method called"; }, Cpp::PureVirtual, &pure_virtual},
      {Cpp::AfterInstance, [](std::string_view t) { return starts_with(t, "  what():"); }, kEmit, &what},
      {Cpp::PureVirtual, &is_bare_terminate, kEmit, &bare_terminate},
  };
  return s;
}

// ---- glibc --------------------------------------------------------------------------

enum class Glibc { Start = 0, OldError, OldBacktrace, OldMap };

constexpr std::string_view kMallocPrefixes[] = {
    "malloc(): ", "free(): ", "realloc(): ", "calloc(): ", "munmap_chunk(): ", "mremap_chunk(): ",
    "malloc_consolidate(): ", "tcache_thread_shutdown(): ", "double free or corruption", "corrupted size vs. prev_size",
    "corrupted double-linked list", "invalid fastbin entry", "malloc_check_get_size", "_int_malloc(): ",
    "_int_free(): ", "memalign(): ", "aligned_alloc(): ", "posix_memalign(): ",
};
constexpr std::string_view kMallocWords[] = {"invalid", "corrupt", "double", "unaligned", "mismatching", "too many",
                                             "detected"};

bool is_malloc_check(std::string_view t) {
  if (t.size() > 120) return false;
  if (!std::any_of(std::begin(kMallocPrefixes), std::end(kMallocPrefixes),
                   [&](std::string_view p) { return starts_with(t, p); }))
    return false;
  return std::any_of(std::begin(kMallocWords), std::end(kMallocWords),
                     [&](std::string_view w) { return text::contains(t, w); });
}

// "*** stack smashing detected ***: terminated", "*** buffer overflow detected ***: ./app terminated"
bool is_fortify(std::string_view t) {
  return starts_with(t, "*** ") && !starts_with(t, "*** Error in `") && text::contains(t, " ***: ") &&
         text::ends_with(t, "terminated");
}

bool is_fatal_glibc(std::string_view t) { return starts_with(t, "Fatal glibc error: "); }

void whole_line(Builder& b, std::string_view t) { abort_exception(b, "SIGABRT", std::string(t), "glibc"); }

// "app: main.c:5: ring_push: Assertion `x' failed." (the program name and the function are optional)
struct Assertion {
  std::string_view file, function, message;
  std::uint32_t line = 0;
};

std::optional<Assertion> parse_assert(std::string_view t) {
  std::size_t at = text::find(t, ": Assertion `");
  if (at == std::string_view::npos || !text::ends_with(t, "' failed.")) return std::nullopt;
  Assertion a;
  a.message = t.substr(at + 2);
  std::string_view left = t.substr(0, at);
  auto last = text::split_last(left, ": ");
  auto try_location = [&](std::string_view s) -> bool {
    std::string_view loc = s.substr(text::rfind(s, ": ") == std::string_view::npos ? 0 : text::rfind(s, ": ") + 2);
    auto fl = text::parse_file_line_col(loc);
    if (!fl || fl->col || !fl->line) return false;
    a.file = fl->file;
    a.line = *fl->line;
    return true;
  };
  if (last.found && try_location(last.left)) {
    a.function = last.right;
    return a;
  }
  if (try_location(left)) return a;  // no function name
  return std::nullopt;
}

// musl: "Assertion failed: x (main.c: ring_push: 5)"
std::optional<Assertion> parse_musl_assert(std::string_view t) {
  if (!starts_with(t, "Assertion failed: ") || !text::ends_with(t, ")")) return std::nullopt;
  std::size_t open = text::rfind(t, " (");
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inside = t.substr(open + 2, t.size() - open - 3);
  auto line = text::split_last(inside, ": ");
  auto file = text::split_first(line.left, ": ");
  auto n = text::parse_uint(line.right);
  if (!line.found || !file.found || !n || *n > UINT32_MAX) return std::nullopt;
  return Assertion{file.left, file.right, t.substr(0, open), static_cast<std::uint32_t>(*n)};
}

bool is_assert(std::string_view t) { return parse_assert(t) || parse_musl_assert(t); }

void assertion(Builder& b, std::string_view t) {
  Assertion a = parse_assert(t) ? *parse_assert(t) : *parse_musl_assert(t);
  abort_exception(b, "SIGABRT", std::string(a.message), "glibc");
  Frame f;
  f.function = std::string(a.function);
  f.filename = std::string(a.file);
  f.abs_path = f.filename;
  f.lineno = a.line;
  f.in_app = !native::is_system_frame(f);
  b.add_frame(std::move(f));
}

// glibc < 2.26: "*** Error in `./app': free(): invalid pointer: 0x00007ffd1c2b3c40 ***"
bool is_old_error(std::string_view t) { return starts_with(t, "*** Error in `") && text::ends_with(t, " ***"); }

void old_error(Builder& b, std::string_view t) {
  std::string_view msg = t.substr(text::find(t, "': ") == std::string_view::npos ? 0 : text::find(t, "': ") + 3);
  msg = msg.substr(0, msg.size() - 4);
  auto addr = text::split_last(msg, ": 0x");
  if (addr.found && text::is_hex(addr.right)) msg = addr.left;
  abort_exception(b, "SIGABRT", std::string(msg), "glibc");
}

// backtrace_symbols(): "/lib/x86_64-linux-gnu/libc.so.6(+0x777e5)[0x7f3b8a2a07e5]", "./app(main+0x1d)[0x400a2d]"
bool is_symbols_line(std::string_view t) {
  return !t.empty() && t[0] != ' ' && text::ends_with(t, "]") && text::contains(t, "[0x");
}

void symbols_line(Builder& b, std::string_view t) {
  Frame f;
  std::size_t bracket = text::rfind(t, "[0x");
  f.instruction_addr = std::string(t.substr(bracket + 1, t.size() - bracket - 2));
  std::string_view left = t.substr(0, bracket);
  if (text::ends_with(left, ")") && left.find('(') != std::string_view::npos) {
    std::size_t open = left.rfind('(');
    std::string_view sym = left.substr(open + 1, left.size() - open - 2);
    f.function = std::string(text::split_last(sym, "+").left);
    left = left.substr(0, open);
  }
  f.package = std::string(left);
  f.in_app = !native::is_system_frame(f);
  b.add_frame(std::move(f));
}

bool is_map_line(std::string_view t) {
  auto dash = t.find('-');
  auto space = t.find(' ');
  return dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
         text::is_hex(t.substr(0, dash)) && text::is_hex(t.substr(dash + 1, space - dash - 1));
}

bool finalize_glibc(CrashReport& r) {
  for (Exception& e : r.exceptions)  // backtrace_symbols() prints the newest frame first
    if (e.stacktrace.frames.size() > 1) std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  return !r.exceptions.empty();
}

Spec glibc_spec() {
  Spec s;
  s.name = "glibc";
  s.runtime = "glibc";
  s.platform = "native";
  s.anchors = {"malloc", "free(): ", "realloc(): ", "munmap_chunk(): ", "mremap_chunk(): ", "tcache_thread_shutdown",
               "double free or corruption", "corrupted size vs. prev_size", "corrupted double-linked list",
               "invalid fastbin entry", "*** ", "Fatal glibc error: ", ": Assertion `", "Assertion failed: "};
  s.rules = {
      {Glibc::Start, &is_malloc_check, kEmit, &whole_line},
      {Glibc::Start, &is_fortify, kEmit, &whole_line},
      {Glibc::Start, &is_fatal_glibc, kEmit, &whole_line},
      {Glibc::Start, &is_assert, kEmit, &assertion},
      {Glibc::Start, &is_old_error, Glibc::OldError, &old_error},
      {Glibc::OldError, [](std::string_view t) { return t == "======= Backtrace: ========="; }, Glibc::OldBacktrace},
      {Glibc::OldBacktrace, &is_symbols_line, Glibc::OldBacktrace, &symbols_line},
      {Glibc::OldBacktrace, [](std::string_view t) { return t == "======= Memory map: ========"; }, Glibc::OldMap},
      {Glibc::OldMap, &is_map_line, Glibc::OldMap},
  };
  s.finalize = &finalize_glibc;
  return s;
}

// ---- glog / absl fatal messages ---------------------------------------------------------
//
//   F0501 10:00:00.123456 12345 main.cc:42] Check failed: n < 4 (5 vs. 4)
//   *** Check failure stack trace: ***
//       @     0x7f8b2c5b7e8d  google::LogMessage::Fail()          ← newest first
//   *** Aborted at 1714557600 (unix time) try "date -d @1714557600" if you are using GNU date ***
//   *** SIGSEGV (@0x0) received by PID 17711 (TID 0x7f893090a6f0) from PID 0; stack trace: ***
//   PC: @           0x412eb1 TestWaitingLogSink::send()
//   *** SIGABRT received at time=1714557600 on cpu 3 ***          ← absl's handler

enum class Glog { Start = 0, AfterCheck, Signal, Stack, SecondStack };

constexpr std::string_view kCheckLocation = "check.location";

// "F0501 10:00:00.123456 12345 main.cc:42] Check failed: …" (glog, absl; MMDD or YYYYMMDD)
bool is_check_line(std::string_view t) {
  std::size_t i = 1;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  return t.size() > 6 && t[0] == 'F' && (i == 5 || i == 9) && t[i] == ' ' && text::contains(t, "] Check failed");
}

void check_line(Builder& b, std::string_view t) {
  auto split = text::split_first(t, "] ");
  std::string_view head = split.left;
  std::string_view location = head.substr(head.rfind(' ') + 1);
  if (text::parse_file_line_col(location)) b.report.extra.emplace_back(kCheckLocation, std::string(location));
  abort_exception(b, "SIGABRT", std::string(split.right), "glog");
}

bool is_check_trace(std::string_view t) { return t == "*** Check failure stack trace: ***"; }

void check_trace(Builder& b, std::string_view) {
  if (b.current_exception() == nullptr) abort_exception(b, "SIGABRT", std::nullopt, "glog");
}

bool is_aborted_at(std::string_view t) { return starts_with(t, "*** Aborted at ") && text::ends_with(t, "***"); }

// "*** SIGSEGV (@0x0) received by PID 17711 (TID 0x7f8…) from PID 0; stack trace: ***",
// "*** SIGABRT received at time=1714557600 on cpu 3 ***"
bool is_signal_received(std::string_view t) {
  return starts_with(t, "*** SIG") && text::contains(t, " received ") && text::ends_with(t, "***");
}

void signal_received(Builder& b, std::string_view t) {
  std::string_view body = text::trim(t.substr(4, t.size() - 7));
  if (auto st = text::find(body, "; stack trace:"); st != std::string_view::npos) body = body.substr(0, st);
  std::string_view name = body.substr(0, body.find(' '));
  if (Exception* e = b.current_exception()) {  // the SIGABRT of a failed CHECK: keep its message
    e->mechanism.signal_name = std::string(name);
    e->mechanism.signal_number = signal_number(name);
    return;
  }
  Exception& e = b.add_exception(std::string(name), std::string(body));
  e.mechanism.type = "glog";
  e.mechanism.signal_name = std::string(name);
  e.mechanism.signal_number = signal_number(name);
}

// "    @     0x7f8b2c5b7e8d  google::LogMessage::Fail()", absl: "    @ 0x55d2c2a6b1a5  32  main"
bool is_at_frame(std::string_view t) {
  std::string_view s = text::trim_left(t);
  return s.size() > 3 && s.size() < t.size() && s[0] == '@' && starts_with(text::trim_left(s.substr(1)), "0x");
}

bool is_pc_line(std::string_view t) { return starts_with(t, "PC: @"); }

void at_frame(Builder& b, std::string_view t) {
  std::string_view s = text::trim_left(text::trim_left(t).substr(1));
  Frame f;
  std::string_view addr = s.substr(0, s.find(' '));
  f.instruction_addr = std::string(addr);
  s = text::trim_left(s.substr(addr.size()));
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits > 0 && digits < s.size() && s[digits] == ' ') s = text::trim_left(s.substr(digits));  // absl frame size
  s = text::trim_right(s);
  if (s != "(unknown)") f.function = std::string(s);
  f.in_app = !native::is_system_frame(f) && !starts_with(f.function, "google::") && !starts_with(f.function, "absl::") &&
             !f.function.empty();
  b.add_frame(std::move(f));
}

// Frames are printed newest first; the CHECK's file:line belongs to the newest frame outside glog.
bool finalize_glog(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  auto& frames = r.exceptions.back().stacktrace.frames;
  for (const auto& [key, location] : r.extra) {
    if (key != kCheckLocation) continue;
    auto fl = text::parse_file_line_col(location);
    for (Frame& f : frames)
      if (fl && f.in_app == true && f.abs_path.empty()) {
        f.filename = std::string(fl->file);
        f.lineno = fl->line;
        break;
      }
  }
  std::reverse(frames.begin(), frames.end());
  return true;
}

Spec glog_spec() {
  Spec s;
  s.name = "glog";
  s.runtime = "cpp";
  s.platform = "native";
  s.anchors = {"] Check failed", "*** Check failure stack trace", "*** Aborted at ", "*** SIG"};
  s.rules = {
      {Glog::Start, &is_check_line, Glog::AfterCheck, &check_line},
      {Glog::Start, &is_check_trace, Glog::Stack, &check_trace},
      {Glog::Start, &is_aborted_at, Glog::Signal},
      {Glog::Start, &is_signal_received, Glog::Stack, &signal_received},
      {Glog::AfterCheck, &is_check_trace, Glog::Stack, &check_trace},
      {Glog::AfterCheck, &is_aborted_at, Glog::Signal},
      {Glog::AfterCheck, &is_signal_received, Glog::Stack, &signal_received},
      {Glog::Signal, &is_signal_received, Glog::Stack, &signal_received},
      {Glog::Signal, &is_pc_line, Glog::Signal},
      {Glog::Stack, &is_at_frame, Glog::Stack, &at_frame},
      {Glog::Stack, &is_pc_line, Glog::Stack},
      // After a failed CHECK's trace the failure signal handler prints the same stack again.
      {Glog::Stack, &is_aborted_at, Glog::SecondStack},
      {Glog::SecondStack, &is_signal_received, Glog::SecondStack, &signal_received},
      {Glog::SecondStack, &is_pc_line, Glog::SecondStack},
      {Glog::SecondStack, &is_at_frame, Glog::SecondStack},
  };
  s.finalize = &finalize_glog;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_glog_detector() { return std::make_unique<TableDetector>(glog_spec()); }

std::unique_ptr<Detector> make_cpp_detector() { return std::make_unique<TableDetector>(cpp_spec()); }
std::unique_ptr<Detector> make_glibc_detector() { return std::make_unique<TableDetector>(glibc_spec()); }

}  // namespace crashwrap::parsers
