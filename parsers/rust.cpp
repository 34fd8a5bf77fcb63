// Rust: panics from std's default hook (every format since 1.0), their
// backtraces (RUST_BACKTRACE=1 and =full) and the runtime's fatal errors.
//
//   thread 'main' (22441) panicked at src/main.rs:8:9:      ← 1.73+ ((TID) in newer toolchains)
//   account 2 overdrawn                                      ← the message, possibly several lines
//   thread 'main' panicked at 'message', src/main.rs:5:9    ← before 1.73
//   stack backtrace:
//      0: __rustc::rust_begin_unwind                         ← newest first
//                at /rustc/…/library/std/src/panicking.rs:689:5
//     19:     0x55c7034b601d - app::lookup::h32d0a0e944e154ba   ← RUST_BACKTRACE=full
//   note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.
//   thread 'main' has overflowed its stack
//   fatal runtime error: stack overflow, aborting
#include <algorithm>
#include <memory>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/native_frames.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S {
  Start = 0,
  Message,      // the line after a 1.73+ header is the message
  MessageMore,  // further message lines (assert_eq!'s left/right, pretty Debug output)
  OldMessage,   // a pre-1.73 quoted message that spans lines, up to "', FILE:L:C"
  AfterMessage,
  Overflow,     // after "has overflowed its stack"
  Backtrace,
  ErrorHead,    // "Error: …" printed by main() returning an anyhow::Error
  ErrorBlank,
  Causes,       // "Caused by:" and its indented causes
  AfterCauses,
  OldMore,      // OldMore + i: the i-th further line of a quoted message (last: the range follows)
};

constexpr int kOldMore = static_cast<int>(S::OldMore);
constexpr int kOldMessageLines = 32;

constexpr std::string_view kLocationKey = "panic.location";

struct Header {
  std::string_view name, tid, rest;  // rest: after "panicked at " / "has overflowed its stack"
  bool overflow = false;
};

// "thread 'NAME' (TID) panicked at …" / "thread 'NAME' has overflowed its stack"
std::optional<Header> parse_header(std::string_view t) {
  auto rest = text::after(t, "thread '");
  if (!rest) return std::nullopt;
  Header h;
  for (std::size_t q = rest->find('\''); q != std::string_view::npos; q = rest->find('\'', q + 1)) {
    std::string_view after = rest->substr(q + 1);
    std::string_view tid;
    if (starts_with(after, " (")) {
      std::size_t close = text::find(after, ") ");
      if (close == std::string_view::npos) continue;
      tid = after.substr(2, close - 2);
      after = after.substr(close + 1);
    }
    if (auto p = text::after(after, " panicked at ")) {
      h.rest = *p;
    } else if (starts_with(after, " has overflowed its stack")) {
      h.overflow = true;
    } else {
      continue;
    }
    h.name = rest->substr(0, q);
    h.tid = tid;
    return h;
  }
  return std::nullopt;
}

bool is_new_header(std::string_view t) {
  auto h = parse_header(t);
  return h && !h->overflow && !starts_with(h->rest, "'") && text::ends_with(h->rest, ":");
}

// Pre-1.73: "'message', src/main.rs:5:9" — the message may span lines.
std::optional<std::string_view> old_location(std::string_view t) {
  auto split = text::split_last(t, "', ");
  if (!split.found || !text::parse_file_line_col(split.right)) return std::nullopt;
  return split.right;
}

bool is_old_header(std::string_view t) {
  auto h = parse_header(t);
  return h && !h->overflow && starts_with(h->rest, "'");
}

bool is_overflow_header(std::string_view t) {
  auto h = parse_header(t);
  return h && h->overflow;
}

bool is_backtrace_note(std::string_view t) {
  return (starts_with(t, "note: run with `RUST_BACKTRACE") || starts_with(t, "note: Run with `RUST_BACKTRACE")) &&
         text::contains(t, "backtrace");
}

// "   3: app::settle" / "  19:     0x55c7034b601d - app::lookup::h32d0a0e944e154ba"
bool is_frame_line(std::string_view t) {
  std::string_view s = text::trim_left(t);
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > 0 && i + 1 < s.size() && s[i] == ':' && s[i + 1] == ' ' && text::indent(t) > 0;
}

bool is_location_line(std::string_view t) { return text::indent(t) >= 4 && starts_with(text::trim_left(t), "at "); }

// ---- symbols and frames ----------------------------------------------------------

// Drops the legacy "::h<16 hex>" hash and v0 crate disambiguators ("std[e28293b1aa0f68bd]::").
std::string clean_symbol(std::string_view sym) {
  if (sym.size() > 19 && sym.substr(sym.size() - 19, 3) == "::h" && text::is_hex(sym.substr(sym.size() - 16)))
    sym = sym.substr(0, sym.size() - 19);
  std::string out;
  out.reserve(sym.size());
  std::size_t kept = 0;  // start of the text not yet copied
  for (std::size_t i = sym.find('['); i != std::string_view::npos; i = sym.find('[', i + 1)) {
    if (i == 0 || !text::is_identifier_char(sym[i - 1])) continue;
    std::size_t close = sym.find(']', i);
    if (close != std::string_view::npos && close - i > 4 && text::is_hex(sym.substr(i + 1, close - i - 1)) &&
        sym.substr(close + 1, 2) == "::") {
      out.append(sym.substr(kept, i - kept));
      kept = close + 1;
      i = close;
    }
  }
  out.append(sym.substr(kept));
  return out;
}

constexpr std::string_view kLibraryPrefixes[] = {
    "std::", "core::", "alloc::", "<std::", "<core::", "<alloc::", "__rust", "rust_begin_unwind", "rust_panic",
    "backtrace::", "panic_unwind::", "panic_abort::", "<&dyn core::", "<F as core::", "<&F as core::", "test::",
};

bool rust_in_app(const Frame& f) {
  if (!f.abs_path.empty() && is_library_path(f.abs_path)) return false;
  if (native::is_system_frame(f)) return false;
  for (std::string_view p : kLibraryPrefixes)
    if (starts_with(f.function, p)) return false;
  // A symbol with neither a path nor a Rust path (main, _start, __libc_start_main, clone).
  if (f.abs_path.empty() && !text::contains(f.function, "::")) return false;
  return true;
}

// Frames that belong to the panic machinery itself (Sentry's Rust SDK trims through the last one).
constexpr std::string_view kBorderFrames[] = {
    "rust_begin_unwind", "__rustc::rust_begin_unwind", "core::panicking::", "std::panicking::",
    "core::result::unwrap_failed", "core::option::expect_failed", "core::option::unwrap_failed",
    "std::sys::backtrace::__rust_end_short_backtrace", "std::sys_common::backtrace::__rust_end_short_backtrace",
    "std::rt::begin_panic", "rust_panic",
};

bool is_border(const Frame& f) {
  for (std::string_view b : kBorderFrames)
    if (starts_with(f.function, b)) return true;
  return false;
}

// ---- actions -----------------------------------------------------------------------

void open_report(Builder& b, const Header& h, std::string type, std::optional<std::string> value) {
  Exception& e = b.add_exception(std::move(type), std::move(value));
  e.mechanism.type = "panic";
  std::string id(h.tid.empty() ? h.name : h.tid);
  e.thread_id = id;
  Thread& th = b.add_thread(std::move(id), std::string(h.name));
  th.crashed = true;
  th.current = true;
  b.frames_to_thread = false;  // the stack belongs to the exception
}

void new_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  std::string_view loc = h.rest.substr(0, h.rest.size() - 1);
  b.report.extra.emplace_back(kLocationKey, std::string(loc));
  open_report(b, h, "panic", std::nullopt);
}

void first_message_line(Builder& b, std::string_view t) {
  if (Exception* e = b.current_exception()) e->value = std::string(t);
}

void more_message(Builder& b, std::string_view t) { b.append_value(t); }

void old_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  std::string_view msg = h.rest.substr(1);
  if (auto loc = old_location(msg)) {
    b.report.extra.emplace_back(kLocationKey, std::string(*loc));
    msg = msg.substr(0, msg.size() - loc->size() - 3);
  }
  open_report(b, h, "panic", std::string(msg));
}

void old_message_line(Builder& b, std::string_view t) {
  if (auto loc = old_location(t)) {
    b.report.extra.emplace_back(kLocationKey, std::string(*loc));
    t = t.substr(0, t.size() - loc->size() - 3);
  }
  b.append_value(t);
}

void overflow_header(Builder& b, std::string_view t) {
  Header h = *parse_header(t);
  open_report(b, h, "fatal runtime error", std::nullopt);
}

void fatal_runtime_error(Builder& b, std::string_view t) {
  std::string value(t.substr(std::string_view("fatal runtime error: ").size()));
  if (Exception* e = b.current_exception(); e && e->type == "fatal runtime error" && !e->value) {
    e->value = std::move(value);
    return;
  }
  Exception& e = b.add_exception("fatal runtime error", std::move(value));
  e.mechanism.type = "panic";
}

void frame_line(Builder& b, std::string_view t) {
  std::string_view s = text::trim_left(t);
  std::size_t colon = text::find(s, ": ");
  s = colon == std::string_view::npos ? std::string_view() : s.substr(colon + 2);
  Frame f;
  std::string_view sym = text::trim_left(s);
  if (starts_with(sym, "0x")) {
    auto split = text::split_first(sym, " - ");
    f.instruction_addr = std::string(text::trim(split.left));
    sym = split.found ? split.right : std::string_view();
  }
  sym = text::trim(sym);
  if (sym != "<unknown>") f.function = clean_symbol(sym);
  f.in_app = rust_in_app(f);
  Exception* e = b.current_exception();
  std::size_t before = e ? e->stacktrace.frames.size() : 0;
  b.add_frame(std::move(f));
  b.counter = (e && e->stacktrace.frames.size() > before) ? 1 : 0;  // 1: the last frame was kept
}

void location_line(Builder& b, std::string_view t) {
  Exception* e = b.current_exception();
  if (e == nullptr || b.counter != 1 || e->stacktrace.frames.empty()) return;
  Frame& f = e->stacktrace.frames.back();
  std::string_view loc = text::trim(t);
  loc.remove_prefix(std::min<std::size_t>(loc.size(), 3));  // "at "
  if (auto fl = text::parse_file_line_col(loc)) {
    f.abs_path = std::string(fl->file);
    f.lineno = fl->line;
    f.colno = fl->col;
  } else {
    f.abs_path = std::string(loc);
  }
  if (starts_with(f.abs_path, "./")) f.abs_path.erase(0, 2);
  f.filename = f.abs_path;
  f.in_app = rust_in_app(f);
  b.counter = 0;
}

// ---- finishing -----------------------------------------------------------------------

bool at_location(const Frame& f, std::string_view loc) {
  auto fl = text::parse_file_line_col(loc);
  if (!fl || !f.lineno || *f.lineno != fl->line) return false;
  std::string_view file = fl->file;
  if (starts_with(file, "./")) file.remove_prefix(2);
  std::string_view path = f.abs_path;
  return path == file || (text::ends_with(path, file) && path.size() > file.size() && path[path.size() - file.size() - 1] == '/');
}

// Frames are printed newest first; Sentry wants the panic machinery gone and the oldest first.
void trim_and_order(std::vector<Frame>& frames, std::string_view location) {
  std::size_t cut = 0;
  auto at = std::find_if(frames.begin(), frames.end(), [&](const Frame& f) { return at_location(f, location); });
  if (at != frames.end()) {
    cut = static_cast<std::size_t>(at - frames.begin());
  } else {
    for (std::size_t i = 0; i < frames.size(); ++i)
      if (is_border(frames[i])) cut = i + 1;
    if (cut == frames.size()) cut = 0;  // nothing but machinery: keep it all
  }
  frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(cut));
  std::reverse(frames.begin(), frames.end());
}

// ---- main() returning an anyhow::Error -----------------------------------------------
//
//   Error: failed to load config          ← the error's Display, then its chain (Debug of anyhow::Error)
//
//   Caused by:
//       0: reading /etc/app.toml           ← numbered only when there are several causes
//       1: No such file or directory (os error 2)
//
//   Stack backtrace:                        ← std's backtrace format, when captured

constexpr std::string_view kErrorMechanism = "anyhow";

void error_head(Builder& b, std::string_view t) {
  Exception& e = b.add_exception("Error", std::string(t.substr(7)));
  e.mechanism.type = std::string(kErrorMechanism);
}

bool is_cause(std::string_view t) { return text::indent(t) >= 4 && !text::trim(t).empty(); }

void cause(Builder& b, std::string_view t) {
  std::string_view c = text::trim(t);
  std::size_t digits = 0;
  while (digits < c.size() && c[digits] >= '0' && c[digits] <= '9') ++digits;
  if (digits > 0 && c.substr(digits, 2) == ": ") c.remove_prefix(digits + 2);
  Exception& e = b.add_exception("Error", std::string(c));
  e.mechanism.type = std::string(kErrorMechanism);
}

bool is_anyhow_frame(const Frame& f) {
  return text::contains(f.function, "anyhow::") || starts_with(f.function, "std::backtrace");
}

// Printed: the error, then its causes outermost first, then the backtrace
// (which the builder hung on the last cause). Sentry: root cause first.
bool finalize_error(CrashReport& r) {
  std::vector<Frame> frames;
  for (Exception& e : r.exceptions)
    if (!e.stacktrace.frames.empty()) frames = std::move(e.stacktrace.frames);
  if (r.exceptions.size() < 2 && frames.empty()) return false;  // a bare "Error: …" line proves nothing
  std::rotate(r.exceptions.begin(), r.exceptions.begin() + 1, r.exceptions.end());
  std::reverse(r.exceptions.begin(), r.exceptions.end() - 1);
  std::size_t cut = 0;
  while (cut < frames.size() && (is_anyhow_frame(frames[cut]) || frames[cut].in_app == false)) ++cut;
  if (cut == frames.size()) cut = 0;
  frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(cut));
  std::reverse(frames.begin(), frames.end());
  for (Exception& e : r.exceptions) e.stacktrace.frames.clear();
  r.exceptions.back().stacktrace.frames = std::move(frames);
  return true;
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  if (r.exceptions.front().mechanism.type == kErrorMechanism) return finalize_error(r);
  std::string location;
  for (auto it = r.extra.begin(); it != r.extra.end(); ++it)
    if (it->first == kLocationKey) location = it->second;
  for (Exception& e : r.exceptions) trim_and_order(e.stacktrace.frames, location);
  // Without a backtrace the header's location is the one frame there is.
  Exception& last = r.exceptions.back();
  if (auto fl = text::parse_file_line_col(location); fl && last.stacktrace.frames.empty()) {
    Frame f;
    f.abs_path = std::string(starts_with(fl->file, "./") ? fl->file.substr(2) : fl->file);
    f.filename = f.abs_path;
    f.lineno = fl->line;
    f.colno = fl->col;
    f.in_app = rust_in_app(f);
    last.stacktrace.frames.push_back(std::move(f));
  }
  return true;
}

bool is_any(std::string_view) { return true; }

bool is_message_more(std::string_view t) {
  if (t.empty()) return false;
  // assert_eq!/assert_ne! ("  left: 1", " right: 2") and pretty-printed Debug values.
  return t[0] == ' ' || t[0] == '\t' || t[0] == '}' || t[0] == ']' || t[0] == ')' || starts_with(t, "left:") ||
         starts_with(t, "right:");
}

Spec rust_spec() {
  Spec s;
  s.name = "rust";
  s.runtime = "rust";
  s.platform = "native";
  s.anchors = {"thread '", "fatal runtime error: ", "Error: "};
  s.rules = {
      {S::Start, &is_new_header, S::Message, &new_header},
      {S::Start, &is_old_header, S::OldMessage, &old_header},
      {S::Start, &is_overflow_header, S::Overflow, &overflow_header},
      {S::Start, [](std::string_view t) { return starts_with(t, "fatal runtime error: "); }, kEmit, &fatal_runtime_error},
      {S::Message, &is_any, S::MessageMore, &first_message_line},
      {S::MessageMore, &is_backtrace_note, kEmit},
      {S::MessageMore, [](std::string_view t) { return t == "stack backtrace:"; }, S::Backtrace},
      {S::MessageMore, &is_message_more, S::MessageMore, &more_message},
      {S::OldMessage, &is_backtrace_note, kEmit},
      {S::OldMessage, [](std::string_view t) { return t == "stack backtrace:"; }, S::Backtrace},
      {S::AfterMessage, &is_backtrace_note, kEmit},
      {S::AfterMessage, [](std::string_view t) { return t == "stack backtrace:"; }, S::Backtrace},
      {S::Overflow, [](std::string_view t) { return starts_with(t, "fatal runtime error: "); }, kEmit,
       &fatal_runtime_error},
      {S::Backtrace, &is_frame_line, S::Backtrace, &frame_line},
      {S::Backtrace, &is_location_line, S::Backtrace, &location_line},
      {S::Backtrace, [](std::string_view t) { return starts_with(t, "note: Some details are omitted"); }, kEmit},
      {S::Start, [](std::string_view t) { return starts_with(t, "Error: ") && t.size() > 7; }, S::ErrorHead, &error_head},
      {S::ErrorHead, [](std::string_view t) { return t.empty(); }, S::ErrorBlank},
      {S::ErrorBlank, [](std::string_view t) { return t == "Caused by:"; }, S::Causes},
      {S::ErrorBlank, [](std::string_view t) { return t == "Stack backtrace:"; }, S::Backtrace},
      {S::Causes, &is_cause, S::Causes, &cause},
      {S::Causes, [](std::string_view t) { return t.empty(); }, S::AfterCauses},
      {S::AfterCauses, [](std::string_view t) { return t == "Stack backtrace:"; }, S::Backtrace},
  };
  // A quoted message that spans lines closes within a bounded number of them.
  for (int i = 0; i < kOldMessageLines; ++i) {
    S from = i == 0 ? S::OldMessage : static_cast<S>(kOldMore + i - 1);
    s.rules.push_back({from, [](std::string_view t) { return old_location(t).has_value(); }, S::AfterMessage,
                       &old_message_line});
    if (i + 1 < kOldMessageLines)
      s.rules.push_back({from, [](std::string_view t) { return !starts_with(t, "thread '"); }, static_cast<S>(kOldMore + i),
                         &more_message});
  }
  s.tolerant_states = {static_cast<int>(S::Backtrace), static_cast<int>(S::Overflow)};
  s.tolerance = 2;
  s.max_lines = 4000;
  s.finalize = &finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_rust_detector() { return std::make_unique<TableDetector>(rust_spec()); }

}  // namespace crashwrap::parsers
