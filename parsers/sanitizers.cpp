// The compiler sanitizers' reports (compiler-rt / libsanitizer, GCC and clang):
// AddressSanitizer (and HWASan, MemorySanitizer), LeakSanitizer,
// ThreadSanitizer and UndefinedBehaviorSanitizer.
//
//   ==24037==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6030… at pc …
//   READ of size 4 at 0x603000000060 thread T0
//       #0 0x558900c2c223 in sum_window /tmp/app/main.cpp:7      ← newest first; the first stack is the crash
//   allocated by thread T0 here:                                 ← every further stack → a thread
//       #0 0x7f13600b9628 in operator new[](unsigned long) …
//   SUMMARY: AddressSanitizer: heap-buffer-overflow /tmp/app/main.cpp:7 in sum_window
//   Shadow bytes around the buggy address: …
//   ==24037==ABORTING
//
//   WARNING: ThreadSanitizer: data race (pid=24082)   … SUMMARY … "==================" closes it
//   main.cpp:6:16: runtime error: signed integer overflow: …   (UBSan: one line, maybe a stack and a SUMMARY)
#include <algorithm>
#include <memory>

#include "parsers/detectors.h"
#include "parsers/native_frames.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S {
  Start = 0,
  Body,         // description lines and stacks
  AfterSummary, // shadow bytes, legend, "==N==ABORTING"
  UbAfter,      // after a UBSan "runtime error" line: its stack, notes, SUMMARY
};

// ---- line shapes ---------------------------------------------------------------------

// "==24037==ERROR: AddressSanitizer: …" → the part after "==24037=="
std::optional<std::string_view> after_pid(std::string_view t) {
  if (!starts_with(t, "==")) return std::nullopt;
  std::size_t i = 2;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  if (i == 2 || t.substr(i, 2) != "==") return std::nullopt;
  return t.substr(i + 2);
}

struct Header {
  std::string_view sanitizer, rest;
};

std::optional<Header> parse_header(std::string_view t) {
  std::string_view s = t;
  if (auto a = after_pid(t)) s = *a;
  std::string_view body;
  if (auto e = text::after(s, "ERROR: ")) body = *e;
  else if (auto w = text::after(s, "WARNING: ")) body = *w;
  else return std::nullopt;
  auto split = text::split_first(body, ": ");
  if (!split.found || !text::ends_with(split.left, "Sanitizer") || split.left.find(' ') != std::string_view::npos)
    return std::nullopt;
  return Header{split.left, split.right};
}

bool header_of(std::string_view t, std::initializer_list<std::string_view> names) {
  auto h = parse_header(t);
  return h && std::find(names.begin(), names.end(), h->sanitizer) != names.end();
}

bool is_asan_header(std::string_view t) {
  return header_of(t, {"AddressSanitizer", "HWAddressSanitizer", "MemorySanitizer"});
}
bool is_lsan_header(std::string_view t) { return header_of(t, {"LeakSanitizer"}); }
bool is_tsan_header(std::string_view t) { return header_of(t, {"ThreadSanitizer"}); }
bool is_ubsan_error_header(std::string_view t) { return header_of(t, {"UndefinedBehaviorSanitizer"}); }

bool is_separator(std::string_view t) {
  return t.size() >= 10 && std::all_of(t.begin(), t.end(), [](char c) { return c == '='; });
}

bool is_aborting(std::string_view t) {
  auto a = after_pid(t);
  return a && *a == "ABORTING";
}

bool is_register_line(std::string_view t) {  // "rax = 0x0000000000000000  rbx = …"
  auto eq = text::find(t, " = 0x");
  return eq != std::string_view::npos && eq >= 2 && eq <= 3;
}

constexpr std::string_view kBodyPrefixes[] = {
    "READ of size", "WRITE of size", "0x", "Address ", "HINT:", "AddressSanitizer", "Shadow byte", "=>",
    "Direct leak", "Indirect leak", "Objects leaked", "Thread T", "Register values", "LeakSanitizer",
    "ThreadSanitizer", "MemorySanitizer", "HWAddressSanitizer", "Uninitialized value", "freed by", "previously",
    "allocated by", "Cause:", "Potential", "Invalid access", "Tags for", "Memory tags", "Note:", "---",
    "Suppressions used", "Exiting", "This frame", "Location is", "UndefinedBehaviorSanitizer",
};

// A line of a sanitizer report body (stacks, descriptions), but never the start of the next report.
bool is_body_line(std::string_view t) {
  if (parse_header(t)) return false;
  if (t.empty() || t[0] == ' ' || t[0] == '\t') return true;
  if (after_pid(t) || text::ends_with(t, ":") || is_register_line(t)) return true;
  return std::any_of(std::begin(kBodyPrefixes), std::end(kBodyPrefixes),
                     [&](std::string_view p) { return starts_with(t, p); });
}

bool is_frame(std::string_view t) { return native::is_sanitizer_frame_line(t); }
bool is_summary(std::string_view t) { return starts_with(t, "SUMMARY: "); }

// "main.cpp:6:16: runtime error: signed integer overflow: …" / "<unknown>: runtime error: …"
struct UbLine {
  std::string_view location, message;
};

std::optional<UbLine> parse_ub_line(std::string_view t) {
  std::size_t at = text::find(t, ": runtime error: ");
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  std::string_view loc = t.substr(0, at);
  if (loc != "<unknown>") {
    auto fl = text::parse_file_line_col(loc);
    if (!fl || loc.find(' ') != std::string_view::npos) return std::nullopt;
  }
  return UbLine{loc, t.substr(at + 17)};
}

bool is_ub_line(std::string_view t) { return parse_ub_line(t).has_value(); }

// "main.cpp:3:5: note: object is of type 'Base'", "0x7ffe95c714bc: note: pointer points here"
bool is_ub_note(std::string_view t) {
  std::size_t at = text::find(t, ": note: ");
  return at != std::string_view::npos && at > 0 && t.substr(0, at).find(' ') == std::string_view::npos;
}

// ---- actions ---------------------------------------------------------------------------

// The bug kind: "heap-buffer-overflow on address …" → "heap-buffer-overflow".
std::string kind_of(std::string_view rest) {
  std::size_t end = rest.size();
  for (std::string_view stop : {" on ", " (", ": "}) end = std::min(end, rest.find(stop));
  return std::string(text::trim(rest.substr(0, end)));
}

std::string runtime_of(std::string_view sanitizer) {
  if (sanitizer == "MemorySanitizer") return "msan";
  if (sanitizer == "HWAddressSanitizer") return "hwasan";
  if (sanitizer == "LeakSanitizer") return "lsan";
  if (sanitizer == "ThreadSanitizer") return "tsan";
  if (sanitizer == "UndefinedBehaviorSanitizer") return "ubsan";
  return "asan";
}

void open(Builder& b, std::string type, std::optional<std::string> value) {
  Exception& e = b.add_exception(std::move(type), std::move(value));
  e.mechanism.type = b.report.runtime;
}

// ASan, MSan, HWASan, and UBSan's own fatal signals: the value is the header's text.
void asan_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  b.report.runtime = runtime_of(h.sanitizer);
  std::string_view value = h.rest;
  if (text::ends_with(value, ":")) value.remove_suffix(1);  // "attempting double-free on 0x… in thread T0:"
  open(b, kind_of(h.rest), std::string(value));
}

void lsan_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  b.report.runtime = "lsan";
  open(b, std::string(h.rest), std::nullopt);
}

// "data race (pid=24082)": the value comes from the first access line.
void tsan_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  b.report.runtime = "tsan";
  std::string_view kind = h.rest;
  if (auto pid = text::rfind(kind, " (pid="); pid != std::string_view::npos) kind = kind.substr(0, pid);
  open(b, std::string(kind), std::nullopt);
}

std::string describe(std::string_view t) {
  std::string_view s = text::trim(t);
  if (auto a = after_pid(s)) s = *a;
  if (text::ends_with(s, ":")) s.remove_suffix(1);
  return std::string(s);
}

void body_line(Builder& b, std::string_view t) {
  if (!text::trim(t).empty()) b.scratch = describe(t);
}

// "#0" opens a stack: the first one is the crash, each further one a thread named by the line before it.
void frame(Builder& b, std::string_view t) {
  auto f = native::parse_sanitizer_frame(t);
  if (!f) return;
  std::string_view s = text::trim_left(t);
  bool first_of_stack = starts_with(s, "#0 ");
  Exception* e = b.current_exception();
  if (first_of_stack && e != nullptr) {
    if (e->stacktrace.frames.empty() && b.report.threads.empty() && !b.frames_to_thread) {
      bool access = starts_with(b.scratch, "READ ") || starts_with(b.scratch, "WRITE ") ||
                    starts_with(b.scratch, "The signal is caused by");
      if (!e->value)
        e->value = b.scratch;
      else if (access)
        *e->value += "\n" + b.scratch;
    } else {
      b.add_thread(std::to_string(b.report.threads.size() + 1), b.scratch);
    }
  }
  b.add_frame(std::move(*f));
}

void asan_summary(Builder& b, std::string_view t) {
  auto split = text::split_first(t.substr(9), ": ");
  Exception* e = b.current_exception();
  if (!split.found || e == nullptr) return;
  std::string kind(split.right.substr(0, split.right.find(' ')));
  if (!kind.empty() && !(kind[0] >= '0' && kind[0] <= '9')) e->type = kind;
}

void lsan_summary(Builder& b, std::string_view t) {
  auto split = text::split_first(t.substr(9), ": ");
  if (Exception* e = b.current_exception(); e && split.found) e->value = std::string(split.right);
}

void ub_line(Builder& b, std::string_view t) {
  UbLine u = *parse_ub_line(t);
  open(b, "runtime error", std::string(u.message));
  if (u.location == "<unknown>") return;
  auto fl = text::parse_file_line_col(u.location);
  Frame f;
  f.filename = std::string(fl->file);
  f.abs_path = f.filename;
  f.lineno = fl->line;
  f.colno = fl->col;
  f.in_app = !native::is_system_frame(f);
  b.add_frame(std::move(f));
}

// With print_stacktrace=1 the stack replaces the one frame taken from the line's prefix.
void ub_frame(Builder& b, std::string_view t) {
  auto f = native::parse_sanitizer_frame(t);
  Exception* e = b.current_exception();
  if (!f || e == nullptr) return;
  if (starts_with(text::trim_left(t), "#0 ")) e->stacktrace.frames.clear();
  b.add_frame(std::move(*f));
}

// ---- finishing -----------------------------------------------------------------------------

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  for (Exception& e : r.exceptions) std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  for (Thread& t : r.threads) std::reverse(t.stacktrace.frames.begin(), t.stacktrace.frames.end());
  return true;
}

Spec base(std::string_view name) {
  Spec s;
  s.name = name;
  s.runtime = name;
  s.platform = "native";
  s.tolerant_states = {static_cast<int>(S::Body)};
  s.tolerance = 3;
  s.max_lines = 5000;
  s.finalize = &finalize;
  return s;
}

void add_body(Spec& s) {
  s.rules.push_back({S::Body, &is_frame, S::Body, &frame});
  s.rules.push_back({S::Body, &is_aborting, kEmit});
  s.rules.push_back({S::Body, &is_body_line, S::Body, &body_line});
}

// After SUMMARY: the shadow memory dump and its legend, then "==N==ABORTING" (none in recover mode).
void add_after_summary(Spec& s) {
  s.rules.push_back({S::AfterSummary, &is_aborting, kEmit});
  s.rules.push_back({S::AfterSummary, [](std::string_view t) { return t == "Exiting"; }, kEmit});
  s.rules.push_back({S::AfterSummary,
                     [](std::string_view t) {
                       return t.empty() || t[0] == ' ' || starts_with(t, "=>0x") || starts_with(t, "Shadow byte");
                     },
                     S::AfterSummary});
}

Spec asan_spec() {
  Spec s = base("asan");
  s.anchors = {"ERROR: AddressSanitizer", "ERROR: HWAddressSanitizer", "WARNING: MemorySanitizer",
               "ERROR: MemorySanitizer"};
  s.rules = {{S::Start, &is_asan_header, S::Body, &asan_header},
             {S::Body, &is_summary, S::AfterSummary, &asan_summary}};
  add_body(s);
  add_after_summary(s);
  return s;
}

Spec lsan_spec() {
  Spec s = base("lsan");
  s.anchors = {"ERROR: LeakSanitizer"};
  s.rules = {{S::Start, &is_lsan_header, S::Body, &lsan_header}, {S::Body, &is_summary, kEmit, &lsan_summary}};
  add_body(s);
  return s;
}

Spec tsan_spec() {
  Spec s = base("tsan");
  s.anchors = {"WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer"};
  s.rules = {{S::Start, &is_tsan_header, S::Body, &tsan_header},
             {S::Body, &is_separator, kEmit},
             {S::Body, &is_summary, S::Body},
             {S::AfterSummary, &is_separator, kEmit}};
  add_body(s);
  add_after_summary(s);
  return s;
}

Spec ubsan_spec() {
  Spec s = base("ubsan");
  s.anchors = {": runtime error: ", "ERROR: UndefinedBehaviorSanitizer"};
  s.rules = {
      {S::Start, &is_ub_line, S::UbAfter, &ub_line},
      {S::Start, &is_ubsan_error_header, S::Body, &asan_header},
      {S::Body, &is_summary, S::AfterSummary, &asan_summary},
      {S::UbAfter, &is_frame, S::UbAfter, &ub_frame},
      {S::UbAfter, &is_summary, kEmit},
      {S::UbAfter, &is_ub_note, S::UbAfter},
      {S::UbAfter, [](std::string_view t) { return t.empty() || t[0] == ' '; }, S::UbAfter},
  };
  add_body(s);
  add_after_summary(s);
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_asan_detector() { return std::make_unique<TableDetector>(asan_spec()); }
std::unique_ptr<Detector> make_lsan_detector() { return std::make_unique<TableDetector>(lsan_spec()); }
std::unique_ptr<Detector> make_tsan_detector() { return std::make_unique<TableDetector>(tsan_spec()); }
std::unique_ptr<Detector> make_ubsan_detector() { return std::make_unique<TableDetector>(ubsan_spec()); }

}  // namespace crashwrap::parsers
