// Go: panics, runtime fatal errors, fatal signals and the goroutine dumps that
// follow them (any GOTRACEBACK level), plus net/http's logged "panic serving".
//
// Shape of the output (runtime/panic.go printpanics, runtime/traceback.go):
//   panic: first [recovered]          ← older panics first, each later one after a tab
//   	panic: second
//   [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4827bb]
//                                     ← blank
//   goroutine 1 [running]:            ← the goroutine that crashed comes first
//   main.(*Config).Addr(...)          ← function with its arguments
//   	/tmp/app/main.go:15 +0x1d fp=… sp=… pc=…
//   created by main.main in goroutine 1   ← where it was started: not a frame
//   	/tmp/app/main.go:20 +0x3c
#include <algorithm>
#include <memory>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/signal_names.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S {
  Start = 0,
  Preamble,      // "runtime: …" lines before a fatal error
  PanicValue,    // after "panic: …": nested panics, continuation lines of the value
  PanicMore1,    // continuation lines of a pre-1.23 multi-line value (bounded)
  PanicMore2,
  PanicMore3,
  PanicMore4,
  AfterHeader,   // after the header: [signal …], blank lines, the first dump
  SigPC,         // after "SIGQUIT: quit": expects "PC=0x… m=0 sigcode=0"
  Dump,          // goroutine dumps
  AfterFunc,     // a function line was read; its location comes next
  AfterCreated,  // "created by …": its location line is skipped
  NextM,         // after "-----": the same signal seen by the next thread of the process
};

constexpr int kDropThread = 1;     // Builder::counter bit: beyond the thread cap
constexpr std::size_t kMaxThreads = 1000;
constexpr std::size_t kMaxValueLines = 64;

// ---- line shapes ---------------------------------------------------------------

bool is_blank(std::string_view t) { return text::trim(t).empty(); }

// "goroutine 18 [chan receive, 2 minutes]:" or "goroutine 1 gp=0xc0… m=0 mp=0x… [running]:"
bool is_goroutine_header(std::string_view t) {
  auto rest = text::after(t, "goroutine ");
  if (!rest) return false;
  std::size_t i = 0;
  while (i < rest->size() && (*rest)[i] >= '0' && (*rest)[i] <= '9') ++i;
  if (i == 0 || i == rest->size() || (*rest)[i] != ' ') return false;
  return text::ends_with(*rest, "]:") && rest->find('[') != std::string_view::npos;
}

// "panic(…)"-style name before a balanced argument list at the end of the line.
std::string_view strip_args(std::string_view t) {
  if (!text::ends_with(t, ")")) return t;
  int depth = 0;
  for (std::size_t i = t.size(); i-- > 0;) {
    if (t[i] == ')') ++depth;
    if (t[i] == '(' && --depth == 0) return t.substr(0, i);
  }
  return t;
}

bool is_function_line(std::string_view t) {
  if (t.empty() || t[0] == ' ' || t[0] == '\t') return false;
  if (starts_with(t, "goroutine ") || starts_with(t, "created by ")) return false;
  std::string_view name = strip_args(t);
  if (name.empty()) return false;
  if (name.find(' ') != std::string_view::npos) return false;
  // Either "pkg.fn(args)" or, as some loggers print stacks, a bare "pkg.fn".
  return name.size() != t.size() || name.find('.') != std::string_view::npos;
}

bool is_location_line(std::string_view t) { return t.size() > 1 && t[0] == '\t' && t.find(':') != std::string_view::npos; }

// "rax    0xca" in the register dump of a fatal signal.
bool is_register_line(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9'))) ++i;
  if (i == 0 || i > 8) return false;
  std::string_view v = text::trim_left(t.substr(i));
  return v.size() < t.size() - i && starts_with(v, "0x") && text::is_hex(v.substr(2));
}

bool is_elided(std::string_view t) { return starts_with(t, "...") && text::ends_with(t, "elided..."); }

constexpr std::string_view kSignalHeaders[] = {
    "SIGQUIT: quit", "SIGABRT: abort", "SIGSEGV: segmentation violation", "SIGBUS: bus error",
    "SIGILL: illegal instruction", "SIGFPE: floating-point exception", "SIGTRAP: trace trap",
    "SIGSYS: bad system call", "SIGTERM: terminated",
};

bool is_signal_header(std::string_view t) {
  for (std::string_view h : kSignalHeaders)
    if (t == h) return true;
  return false;
}

bool is_preamble(std::string_view t) {
  return starts_with(t, "runtime: goroutine stack exceeds ") || starts_with(t, "runtime: out of memory") ||
         starts_with(t, "unexpected fault address ") || starts_with(t, "runtime: program exceeds ");
}

// A line that continues a pre-1.23 multi-line panic value: anything that is
// not itself the start of something else.
bool is_value_continuation(std::string_view t) {
  return !t.empty() && !is_blank(t) && !starts_with(t, "panic: ") && !starts_with(t, "fatal error: ") &&
         !is_goroutine_header(t) && !starts_with(t, "[signal ");
}

// ---- values and frames ---------------------------------------------------------

std::string panic_value(std::string_view v) {
  for (std::string_view suffix : {std::string_view(" [recovered, repanicked]"), std::string_view(" [recovered]")})
    if (text::ends_with(v, suffix)) return std::string(v.substr(0, v.size() - suffix.size()));
  return std::string(v);
}

// Sentry's Go SDK: the package is everything up to the first '.' after the last '/'.
void split_go_function(std::string_view name, Frame& f) {
  std::size_t slash = name.rfind('/');
  std::size_t from = slash == std::string_view::npos ? 0 : slash;
  std::size_t dot = name.find('.', from);
  if (dot == std::string_view::npos || dot == 0) {
    f.function = std::string(name);
    return;
  }
  f.module = std::string(name.substr(0, dot));
  f.function = std::string(name.substr(dot + 1));
}

bool is_std_package(std::string_view module, std::string_view path) {
  if (module.empty() || module == "main") return false;
  std::string_view first = module.substr(0, module.find('/'));
  if (first.find('.') != std::string_view::npos) return false;  // github.com/…, example.org/…
  std::string marker = "/src/" + std::string(module) + "/";
  return text::contains(path, marker);
}

bool go_in_app(const Frame& f) {
  const std::string& p = f.abs_path;
  if (is_library_path(p) || text::contains(p, "/src/runtime/") || starts_with(p, "runtime/")) return false;
  if (f.module == "runtime" || starts_with(f.module, "runtime/") || starts_with(f.module, "internal/")) return false;
  if (text::contains(f.module, "vendor/") || text::contains(f.module, "third_party")) return false;
  if (f.module.empty() && (f.function == "panic" || f.function == "goexit")) return false;
  return !is_std_package(f.module, p);
}

Frame make_frame(std::string_view function_line, std::string_view location_line) {
  Frame f;
  split_go_function(strip_args(function_line), f);
  std::string_view loc = location_line.substr(1);
  if (auto pc = text::find(loc, " pc=0x"); pc != std::string_view::npos) {
    std::string_view addr = loc.substr(pc + 4);
    addr = addr.substr(0, addr.find(' '));
    f.instruction_addr = std::string(addr);
  }
  std::size_t end = text::find(loc, " +0x");
  if (end == std::string_view::npos) end = text::find(loc, " fp=");
  loc = loc.substr(0, end);
  auto split = text::split_last(loc, ":");
  std::string_view path = split.found ? split.left : loc;
  if (split.found)
    if (auto n = text::parse_uint(split.right); n && *n > 0 && *n <= UINT32_MAX) f.lineno = static_cast<std::uint32_t>(*n);
  if (path != "?") {
    f.abs_path = std::string(path);
    f.filename = f.abs_path;
  }
  f.in_app = go_in_app(f);
  return f;
}

// ---- actions -------------------------------------------------------------------

void start_panic(Builder& b, std::string_view t) {
  Exception& e = b.add_exception("panic", panic_value(t.substr(7)));
  e.mechanism.type = "panic";
}

void nested_panic(Builder& b, std::string_view t) {
  Exception& e = b.add_exception("panic", panic_value(text::trim_left(t).substr(7)));
  e.mechanism.type = "panic";
}

void start_fatal(Builder& b, std::string_view t) {
  std::string value(t.substr(13));
  if (Exception* cur = b.current_exception(); cur && cur->type == "fatal error" && cur->value == value) return;
  Exception& e = b.add_exception("fatal error", std::move(value));
  e.mechanism.type = "panic";
}

void start_http_panic(Builder& b, std::string_view t) {
  // "http: panic serving 10.0.0.1:5000: message" — the address has no ": ".
  std::string_view rest = t.substr(text::find(t, "http: panic serving ") + 20);
  auto split = text::split_first(rest, ": ");
  Exception& e = b.add_exception("panic", panic_value(split.found ? split.right : rest));
  e.mechanism.type = "panic";
}

void start_signal(Builder& b, std::string_view t) {
  auto split = text::split_first(t, ": ");
  Exception& e = b.add_exception(std::string(split.left), std::string(split.right));
  e.mechanism.type = "signalhandler";
  e.mechanism.signal_name = std::string(split.left);
  e.mechanism.signal_number = signal_number(split.left);
}

void continue_value(Builder& b, std::string_view t) {
  Exception* e = b.current_exception();
  if (e == nullptr || b.report.threads.size() > 0) return;
  if (e->value && static_cast<std::size_t>(std::count(e->value->begin(), e->value->end(), '\n')) >= kMaxValueLines)
    return;
  b.append_value(panic_value(!t.empty() && t[0] == '\t' ? t.substr(1) : t));  // " [recovered]" ends the last line
}

// "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4827bb]"
void signal_line(Builder& b, std::string_view t) {
  Exception* e = b.current_exception();
  if (e == nullptr) return;
  std::string_view name = t.substr(8);
  name = name.substr(0, name.find(':'));
  e->mechanism.signal_name = std::string(name);
  e->mechanism.signal_number = signal_number(name);
}

void open_thread(Builder& b, std::string id, std::string name, std::string state) {
  if (b.report.threads.size() >= kMaxThreads) {
    b.counter |= kDropThread;
    return;
  }
  b.counter &= ~kDropThread;
  Thread& th = b.add_thread(std::move(id), std::move(name));
  th.state = std::move(state);
}

void goroutine(Builder& b, std::string_view t) {
  std::string_view rest = t.substr(10);
  std::string_view id = rest.substr(0, rest.find(' '));
  std::string_view state = rest.substr(rest.find('[') + 1);
  state = state.substr(0, state.size() - 2);  // "]:"
  state = state.substr(0, state.find(','));    // drop ", 2 minutes" / ", locked to thread"
  open_thread(b, std::string(id), "goroutine " + std::string(id), std::string(state));
}

void runtime_stack(Builder& b, std::string_view) { open_thread(b, "runtime", "runtime stack", "running"); }

void function_line(Builder& b, std::string_view t) { b.scratch.assign(t); }

void location_line(Builder& b, std::string_view t) {
  if (b.counter & kDropThread) return;
  b.add_frame(make_frame(b.scratch, t));
}

// ---- finishing -----------------------------------------------------------------

// A goroutine can be printed twice (two threads detected the same fault):
// keep one entry per id, the one with the stack.
void dedupe_threads(std::vector<Thread>& threads) {
  std::vector<Thread> out;
  for (Thread& t : threads) {
    auto same = std::find_if(out.begin(), out.end(), [&](const Thread& o) { return o.id == t.id; });
    if (same == out.end())
      out.push_back(std::move(t));
    else if (t.stacktrace.frames.size() > same->stacktrace.frames.size())
      same->stacktrace = std::move(t.stacktrace);
  }
  threads = std::move(out);
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  // The runtime follows its header with a dump, or at least a "[signal …]"
  // line (GOTRACEBACK=none); a lone "panic: …" is someone's log line.
  bool runtime_shape = !r.threads.empty() || !r.exceptions.back().mechanism.signal_name.empty();
  if (!runtime_shape) return false;
  dedupe_threads(r.threads);
  for (Thread& t : r.threads) std::reverse(t.stacktrace.frames.begin(), t.stacktrace.frames.end());
  Thread* crashed = nullptr;
  // The system stack and goroutine 0 (the scheduler, printed first in a SIGQUIT dump) are not the crash.
  for (Thread& t : r.threads)
    if (t.id != "runtime" && t.id != "0") {
      crashed = &t;
      break;
    }
  if (crashed == nullptr && !r.threads.empty()) crashed = &r.threads.front();
  if (crashed != nullptr) {
    crashed->crashed = true;
    crashed->current = true;
    r.exceptions.back().stacktrace = crashed->stacktrace;
    r.exceptions.back().thread_id = crashed->id;
  }
  return true;
}

// Goroutine dumps: headers, frame pairs, and what the runtime prints between them.
void add_dump_rules(std::vector<Rule>& r) {
  const Rule dump[] = {
      {S::Dump, &is_goroutine_header, S::Dump, &goroutine},
      {S::Dump, [](std::string_view t) { return t == "runtime stack:"; }, S::Dump, &runtime_stack},
      {S::Dump, &is_blank, S::Dump},
      {S::Dump, [](std::string_view t) { return starts_with(t, "created by "); }, S::AfterCreated},
      {S::Dump, [](std::string_view t) { return starts_with(t, "\tgoroutine running on other thread"); }, S::Dump},
      {S::Dump, &is_elided, S::Dump},
      {S::Dump, &is_register_line, S::Dump},
      // GOTRACEBACK=crash: each further thread (M) of the process after "-----".
      {S::Dump, [](std::string_view t) { return t == "-----"; }, S::NextM},
      {S::NextM, &is_blank, S::NextM},
      {S::NextM, &is_signal_header, S::SigPC},
      {S::Dump, [](std::string_view t) { return starts_with(t, "exit status "); }, kEmit},
      {S::Dump, &is_function_line, S::AfterFunc, &function_line},
      {S::AfterFunc, &is_location_line, S::Dump, &location_line},
      {S::AfterCreated, &is_location_line, S::Dump},
  };
  r.insert(r.end(), std::begin(dump), std::end(dump));
}

Spec go_spec() {
  Spec s;
  s.name = "go";
  s.runtime = "go";
  s.platform = "go";
  s.anchors = {"panic: ", "fatal error: ", "http: panic serving ", "runtime: ", "unexpected fault address",
               "SIGQUIT: ", "SIGABRT: ", "SIGSEGV: ", "SIGBUS: ", "SIGILL: ", "SIGFPE: ", "SIGTRAP: ", "SIGSYS: ",
               "SIGTERM: "};
  auto& r = s.rules;
  r = {
      {S::Start, [](std::string_view t) { return starts_with(t, "panic: "); }, S::PanicValue, &start_panic},
      {S::Start, [](std::string_view t) { return starts_with(t, "fatal error: "); }, S::AfterHeader, &start_fatal},
      {S::Start, [](std::string_view t) { return starts_with(t, "http: panic serving "); }, S::AfterHeader,
       &start_http_panic},
      {S::Start, &is_preamble, S::Preamble},
      {S::Start, &is_signal_header, S::SigPC, &start_signal},
      {S::Preamble, [](std::string_view t) { return starts_with(t, "runtime: "); }, S::Preamble},
      {S::Preamble, [](std::string_view t) { return starts_with(t, "fatal error: "); }, S::AfterHeader, &start_fatal},
      {S::Preamble, [](std::string_view t) { return starts_with(t, "panic: "); }, S::PanicValue, &start_panic},
      {S::SigPC, [](std::string_view t) { return starts_with(t, "PC=0x"); }, S::AfterHeader},
  };
  // A multi-line panic value: indented (Go 1.23+) lines freely, bare lines (older Go) a few.
  const S chain[] = {S::PanicValue, S::PanicMore1, S::PanicMore2, S::PanicMore3, S::PanicMore4};
  for (std::size_t i = 0; i < std::size(chain); ++i) {
    S next = i + 1 < std::size(chain) ? chain[i + 1] : S::AfterHeader;
    r.push_back({chain[i], [](std::string_view t) { return starts_with(t, "[signal "); }, S::AfterHeader, &signal_line});
    r.push_back({chain[i], [](std::string_view t) { return starts_with(t, "\tpanic: "); }, S::PanicValue, &nested_panic});
    r.push_back({chain[i], &is_blank, S::AfterHeader});
    r.push_back({chain[i], &is_goroutine_header, S::Dump, &goroutine});
    r.push_back({chain[i], [](std::string_view t) { return t.size() > 1 && t[0] == '\t'; }, chain[i], &continue_value});
    if (chain[i] != S::PanicMore4) r.push_back({chain[i], &is_value_continuation, next, &continue_value});
  }
  const Rule after_header[] = {
      {S::AfterHeader, &is_blank, S::AfterHeader},
      {S::AfterHeader, [](std::string_view t) { return starts_with(t, "[signal "); }, S::AfterHeader, &signal_line},
      {S::AfterHeader, [](std::string_view t) { return starts_with(t, "fatal error: "); }, S::AfterHeader, &start_fatal},
      {S::AfterHeader, [](std::string_view t) { return starts_with(t, "PC=0x"); }, S::AfterHeader},
      {S::AfterHeader, [](std::string_view t) { return t == "signal arrived during cgo execution"; }, S::AfterHeader},
      {S::AfterHeader, [](std::string_view t) { return t == "runtime stack:"; }, S::Dump, &runtime_stack},
      {S::AfterHeader, &is_goroutine_header, S::Dump, &goroutine},
  };
  r.insert(r.end(), std::begin(after_header), std::end(after_header));
  add_dump_rules(r);
  s.tolerant_states = {static_cast<int>(S::Dump), static_cast<int>(S::AfterFunc), static_cast<int>(S::AfterCreated)};
  s.tolerance = 2;
  s.finalize = &finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_go_detector() { return std::make_unique<TableDetector>(go_spec()); }

}  // namespace crashwrap::parsers
