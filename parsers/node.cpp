// Node.js: what the process prints when an error ends it, and error stacks
// logged with console.error(err).
//
//   /app/main.js:5                                  ← where it was thrown
//       throw new Error(`malformed record`);        ← the source line
//       ^                                           ← the caret
//                                                   ← blank
//   Error: malformed record                         ← "Name [CODE]: message"
//       at parseRecord (/app/main.js:5:11)          ← frames, newest first
//       at node:internal/main/run_main_module:28:49 {
//     code: 'E_X',                                  ← the error's properties
//     [cause]: Error: … (with its own frames and properties)
//   }
//
//   Node.js v20.20.2                                ← ends the report
//
// Also: thrown non-errors (the value is printed right under the caret),
// unhandled rejections (Node ≥ 15 prints them the same way, from
// node:internal/process/promises), and V8's fatal errors ("FATAL ERROR: …
// JavaScript heap out of memory" after the "<--- Last few GCs --->" block,
// "# Fatal error in …" checks) with their native stack, type FatalError.
//
// Decisions: causes come first in the chain. Node abbreviates the frames an
// error shares with its cause ("... 6 lines matching cause stack trace ...");
// Sentry's SDK sends every error's complete stack, so those frames are copied
// back from the cause.
#include <algorithm>
#include <string>

#include "parsers/detectors.h"
#include "parsers/exception_tree.h"
#include "parsers/node_frames.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S {
  Start = 0, Loc, Source, Caret, AwaitError, Header, HeaderGap, Thrown, Bare, BareMore,
  Frames, EmitSite, Props, Errors, MemberFrames, MemberProps, After, GcLog, Fatal, V8Check,
};

constexpr std::string_view kUncaught = "onuncaughtexception";
constexpr std::string_view kRejection = "onunhandledrejection";
constexpr std::string_view kMatchMarker = "\x01" "cause-match";  // Frame::instruction_addr of a placeholder
constexpr std::size_t kMaxProperties = 20;

// "/app/main.js:5", "file:///app/main.mjs:5", "node:internal/process/promises:288".
bool is_location_line(std::string_view t) {
  if (t.empty() || t.front() == ' ' || t.front() == '\t') return false;
  auto fl = text::parse_file_line_col(t);
  if (!fl || fl->col) return false;
  std::string_view f = fl->file;
  return starts_with(f, "/") || starts_with(f, "file://") || starts_with(f, "node:") ||
         (f.size() > 2 && f[1] == ':' && (f[2] == '\\' || f[2] == '/'));
}
bool any_line(std::string_view) { return true; }
bool is_caret(std::string_view t) {
  std::string_view s = text::trim(t);
  return !s.empty() && s.find_first_not_of('^') == std::string_view::npos;
}
bool is_blank(std::string_view t) { return text::trim(t).empty(); }
bool is_trailer(std::string_view t) { return starts_with(t, "Node.js v"); }
bool is_trace_uncaught_hint(std::string_view t) { return starts_with(t, "(Use `node --trace-uncaught"); }

bool is_error_header(std::string_view t) { return node::parse_error_header(t, false).has_value(); }
bool is_bare_header(std::string_view t) { return node::parse_error_header(t, true).has_value(); }
bool opens_props_header(std::string_view t, bool bare) {
  auto h = node::parse_error_header(t, bare);
  return h && h->opens_properties;
}
bool is_frame_props(std::string_view t) {
  bool props = false;
  return node::is_frame(t, &props) && props;
}
bool is_any_frame(std::string_view t) { return node::is_frame(t); }
bool is_frame_plain(std::string_view t) {
  bool props = false;
  return node::is_frame(t, &props) && !props;
}
bool is_cause_match(std::string_view t) { return node::cause_match_count(t).has_value(); }
bool is_closing_brace(std::string_view t) { return t == "}"; }
// "Emitted 'error' event on ClientRequest instance at:" / "Emitted 'error' event at:".
bool is_emit_site(std::string_view t) { return starts_with(t, "Emitted 'error' event ") && text::ends_with(t, " at:"); }
bool is_original_stack_match(std::string_view t) {
  return text::trim(t) == "[... lines matching original stack trace ...]";
}
bool is_indented(std::string_view t) { return text::indent(t) > 0; }
std::optional<std::string_view> cause_header(std::string_view t) {
  auto rest = text::after(text::trim_left(t), "[cause]: ");
  if (!rest || !is_error_header(*rest)) return std::nullopt;
  return rest;
}
// Inside "[errors]: [ … ]": members are indented error lines, their frames
// end with "," when another member follows.
bool is_errors_open(std::string_view t) { return text::trim(t) == "[errors]: ["; }
bool is_list_close(std::string_view t) { return starts_with(text::trim(t), "]"); }
std::string_view without_comma(std::string_view t) {
  t = text::trim_right(t);
  if (text::ends_with(t, ",")) t.remove_suffix(1);
  return t;
}
bool is_member(std::string_view t) { return is_indented(t) && is_error_header(without_comma(text::trim(t))); }
bool is_member_frame(std::string_view t) { return node::is_frame(without_comma(t)) && !is_frame_props(t); }

bool is_continuation(std::string_view t) {
  return !is_blank(t) && !node::is_frame(t) && !is_cause_match(t) && !is_trailer(t);
}

// ---- actions ---------------------------------------------------------------

// Builder::marks holds, per exception, the indentation of the line that
// introduced it; an exception is held (as cause or group member) by the
// latest one introduced at a smaller indentation than `holder_below`.
Exception& add_error(Builder& b, std::string_view line, std::string_view mechanism, int indent, int holder_below) {
  auto h = node::parse_error_header(line, false);
  std::optional<std::string> value;
  if (h->message) value = std::string(*h->message);
  int parent = -1;
  for (std::size_t j = b.marks.size(); j-- > 0;)
    if (b.marks[j] < holder_below) {
      parent = static_cast<int>(j);
      break;
    }
  Exception& e = b.add_exception(std::string(h->name), std::move(value));
  b.marks.push_back(indent);
  link_last(b.report.exceptions, parent);
  if (!mechanism.empty()) e.mechanism.type = std::string(mechanism);
  if (h->name == "UnhandledPromiseRejection" || h->code == "ERR_UNHANDLED_REJECTION") e.mechanism.type = kRejection;
  return e;
}

// Builder::scratch keeps the location line: it tells a rejection from an
// uncaught exception, and is the only frame of a thrown non-error.
void on_location(Builder& b, std::string_view t) { b.scratch = std::string(t); }
std::string_view uncaught_mechanism(const Builder& b) {
  return text::contains(b.scratch, "internal/process/promises") ? kRejection : kUncaught;
}
void on_uncaught_header(Builder& b, std::string_view t) { add_error(b, t, uncaught_mechanism(b), 0, 0); }
void on_bare_header(Builder& b, std::string_view t) { add_error(b, t, {}, 0, 0); }
void on_cause(Builder& b, std::string_view t) {
  int indent = static_cast<int>(text::indent(t));
  Exception& e = add_error(b, *cause_header(t), "chained", indent, indent);
  e.mechanism.source = "cause";
}
// A member of an AggregateError's "[errors]: [" list, two columns deeper than the list.
void on_member(Builder& b, std::string_view t) {
  int indent = static_cast<int>(text::indent(t));
  std::string_view line = text::trim(t);
  if (text::ends_with(line, ",")) line.remove_suffix(1);
  Exception& e = add_error(b, line, "chained", indent, indent - 2);
  auto& ex = b.report.exceptions;
  if (!e.mechanism.parent_id) return;
  int parent = *e.mechanism.parent_id;
  ex[static_cast<std::size_t>(parent)].mechanism.is_exception_group = true;
  int members = 0;
  for (const Exception& x : ex)
    if (x.mechanism.parent_id == parent) ++members;
  ex.back().mechanism.source = "errors[" + std::to_string(members - 1) + "]";
}

// `throw "text"` / `throw {…}`: Node prints the value itself under the caret.
void on_thrown(Builder& b, std::string_view t) {
  Exception& e = b.add_exception("Error", std::string(t));
  e.mechanism.type = std::string(uncaught_mechanism(b));
  e.mechanism.synthetic = true;
  if (auto fl = text::parse_file_line_col(b.scratch)) {
    Frame f;
    std::string_view file = fl->file;
    if (auto local = text::after(file, "file://")) file = *local;
    f.filename = std::string(file);
    f.abs_path = std::string(file);
    f.lineno = fl->line;
    f.in_app = starts_with(file, "/") && !text::contains(file, "/node_modules/");
    b.add_frame(std::move(f));
  }
}
void on_value_line(Builder& b, std::string_view t) { b.append_value(t); }
void on_value_blank(Builder& b, std::string_view) { b.append_value(""); }

void on_frame(Builder& b, std::string_view t) {
  if (auto f = node::parse_frame(t)) b.add_frame(std::move(*f));
}
void on_member_frame(Builder& b, std::string_view t) { on_frame(b, without_comma(t)); }
void on_cause_match(Builder& b, std::string_view t) {
  Frame marker;
  marker.instruction_addr = std::string(kMatchMarker);
  marker.lineno = node::cause_match_count(t);
  b.add_frame(std::move(marker));
}

// First-level properties of the final error ("  code: 'ENOENT',") as extra data.
void on_property(Builder& b, std::string_view t) {
  if (text::indent(t) != 2 || b.report.exceptions.size() != 1 || b.report.extra.size() >= kMaxProperties) return;
  auto kv = text::split_first(text::trim(t), ": ");
  if (!kv.found || kv.left.empty() || kv.left.front() == '[') return;
  std::string_view v = kv.right;
  if (text::ends_with(v, ",")) v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
  b.report.extra.emplace_back("error." + std::string(kv.left), std::string(v));
  if (kv.left == "code" && v == "ERR_UNHANDLED_REJECTION") b.report.exceptions.front().mechanism.type = kRejection;
}

void on_fatal(Builder& b, std::string_view t) {
  std::string_view msg = text::trim(t.substr(std::string_view("FATAL ERROR:").size()));
  if (Exception* e = b.current_exception()) {  // after a "# Fatal error in" block
    e->value = std::string(msg);
    return;
  }
  Exception& e = b.add_exception("FatalError", std::string(msg));
  e.mechanism.synthetic = true;
}
void on_native_frame(Builder& b, std::string_view t) {
  if (!b.current_exception()) b.add_exception("FatalError", std::nullopt).mechanism.synthetic = true;
  if (auto f = node::parse_native_frame(t)) b.add_frame(std::move(*f));
}
// "# Fatal error in ../deps/v8/src/api.cc, line 123" then "# Check failed: …".
void on_v8_check(Builder& b, std::string_view t) {
  std::string_view c = text::trim(t.substr(1));
  Exception* e = b.current_exception();
  if (e == nullptr) {
    e = &b.add_exception("FatalError", std::string(c));
    e->mechanism.synthetic = true;
    return;
  }
  if (c.empty() || starts_with(c, "FailureMessage")) return;
  if (b.counter++ == 0)
    e->value = std::string(c);  // the check that failed says more than "Fatal error in , line 0"
  else
    b.append_value(c);
}

// ---- finalize ----------------------------------------------------------------

bool same_frame(const Frame& a, const Frame& b) {
  return a.function == b.function && a.filename == b.filename && a.lineno == b.lineno && a.colno == b.colno;
}

// Replaces "... N lines matching cause stack trace ..." by the N frames of
// the cause that follow the frame printed just before the marker. Frames are
// still in printed order (newest first), exceptions too; causes are restored
// innermost first so that theirs are complete when copied.
void restore_cause_frames(std::vector<Exception>& ex) {
  for (std::size_t i = ex.size(); i-- > 0;) {
    const Exception* cause = nullptr;
    for (std::size_t c = i + 1; c < ex.size() && cause == nullptr; ++c)
      if (ex[c].mechanism.parent_id == static_cast<int>(i) && ex[c].mechanism.source == "cause") cause = &ex[c];
    auto& frames = ex[i].stacktrace.frames;
    for (std::size_t k = 0; k < frames.size(); ++k) {
      if (frames[k].instruction_addr != kMatchMarker) continue;
      std::uint32_t n = frames[k].lineno.value_or(0);
      frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(k));
      if (cause == nullptr || k == 0) continue;
      const auto& cf = cause->stacktrace.frames;
      auto it = std::find_if(cf.begin(), cf.end(), [&](const Frame& f) { return same_frame(f, frames[k - 1]); });
      if (it == cf.end()) continue;
      auto from = it + 1;
      auto to = from + std::min<std::ptrdiff_t>(n, cf.end() - from);
      frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(k), from, to);
      k += static_cast<std::size_t>(to - from);
      --k;
    }
  }
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  std::size_t frames = 0;
  for (const Exception& e : r.exceptions) frames += e.stacktrace.frames.size();
  // A logged error is only an error report when its stack follows.
  const Mechanism& top = r.exceptions.front().mechanism;
  if (frames == 0 && top.type == "generic" && !top.synthetic && !top.is_exception_group) return false;
  restore_cause_frames(r.exceptions);
  for (Exception& e : r.exceptions) {
    // Blank lines before the first frame belong to the message; without
    // frames they only separate it from "Node.js v…".
    if (e.stacktrace.frames.empty())
      while (e.value && !e.value->empty() && e.value->back() == '\n') e.value->pop_back();
    std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  }
  order_oldest_first(r.exceptions);
  return true;
}

// ---- the table -------------------------------------------------------------

std::vector<Rule> error_rules() {
  return {
      {S::Start, is_location_line, S::Loc, on_location},
      {S::Start, [](std::string_view t) { return opens_props_header(t, true); }, S::Props, on_bare_header},
      {S::Start, is_bare_header, S::Bare, on_bare_header},
      {S::Loc, any_line, S::Source},
      {S::Source, is_caret, S::Caret},
      // Errors come after a blank line (right under the caret when a worker's
      // error is re-thrown in its parent); a thrown non-error right under the caret.
      {S::Caret, is_blank, S::AwaitError},
      {S::Caret, [](std::string_view t) { return opens_props_header(t, true); }, S::Props, on_uncaught_header},
      {S::Caret, is_bare_header, S::Header, on_uncaught_header},
      {S::Caret, any_line, S::Thrown, on_thrown},
      {S::AwaitError, is_trailer, kEmit},
      {S::AwaitError, is_blank, S::AwaitError},
      {S::AwaitError, [](std::string_view t) { return opens_props_header(t, false); }, S::Props, on_uncaught_header},
      {S::AwaitError, is_error_header, S::Header, on_uncaught_header},
      {S::AwaitError, any_line, S::Thrown, on_thrown},
      {S::Thrown, is_trailer, kEmit},
      {S::Thrown, is_trace_uncaught_hint, S::Thrown},
      {S::Thrown, is_blank, S::After},
      {S::Thrown, any_line, S::Thrown, on_value_line},
      // An uncaught error's message may span lines, blank ones included.
      {S::Header, is_frame_props, S::Props, on_frame},
      {S::Header, is_any_frame, S::Frames, on_frame},
      {S::Header, is_cause_match, S::Frames, on_cause_match},
      {S::Header, is_trailer, kEmit},
      {S::Header, is_blank, S::HeaderGap, on_value_blank},
      {S::Header, any_line, S::Header, on_value_line},
      {S::HeaderGap, is_frame_props, S::Props, on_frame},
      {S::HeaderGap, is_any_frame, S::Frames, on_frame},
      {S::HeaderGap, is_trailer, kEmit},
      {S::HeaderGap, is_blank, S::HeaderGap, on_value_blank},
      {S::HeaderGap, any_line, S::Header, on_value_line},
      // A logged error: at most one continuation line before its stack.
      {S::Bare, is_frame_props, S::Props, on_frame},
      {S::Bare, is_any_frame, S::Frames, on_frame},
      {S::Bare, is_continuation, S::BareMore, on_value_line},
      {S::BareMore, is_frame_props, S::Props, on_frame},
      {S::BareMore, is_any_frame, S::Frames, on_frame},

      {S::Frames, is_frame_props, S::Props, on_frame},
      {S::Frames, is_frame_plain, S::Frames, on_frame},
      {S::Frames, is_cause_match, S::Frames, on_cause_match},
      {S::Frames, is_emit_site, S::EmitSite},
      {S::Frames, is_closing_brace, S::After},
      {S::Frames, is_trailer, kEmit},
      {S::Frames, is_blank, S::After},
      // Where an unhandled 'error' event was emitted: another stack, not this error's.
      {S::EmitSite, is_frame_props, S::Props},
      {S::EmitSite, is_any_frame, S::EmitSite},
      {S::EmitSite, is_original_stack_match, S::EmitSite},
      {S::EmitSite, is_trailer, kEmit},
      {S::EmitSite, is_blank, S::After},
      {S::Props, [](std::string_view t) { return cause_header(t) && !opens_props_header(*cause_header(t), false); },
       S::Frames, on_cause},
      {S::Props, [](std::string_view t) { return cause_header(t).has_value(); }, S::Props, on_cause},
      {S::Props, is_errors_open, S::Errors},
      {S::Props, is_closing_brace, S::After},
      {S::Props, is_trailer, kEmit},
      {S::Props, is_indented, S::Props, on_property},
      {S::Errors, is_member, S::MemberFrames, on_member},
      {S::Errors, is_list_close, S::Props},
      {S::Errors, is_indented, S::Errors},
      {S::MemberFrames, is_frame_props, S::MemberProps, on_frame},
      {S::MemberFrames, is_member_frame, S::MemberFrames, on_member_frame},
      {S::MemberFrames, is_member, S::MemberFrames, on_member},
      {S::MemberFrames, is_list_close, S::Props},
      {S::MemberProps, is_member, S::MemberFrames, on_member},
      {S::MemberProps, is_list_close, S::Props},
      {S::MemberProps, is_indented, S::MemberProps},
      {S::After, is_trailer, kEmit},
      {S::After, is_blank, S::After},
  };
}

bool is_fatal_line(std::string_view t) { return starts_with(t, "FATAL ERROR: "); }
bool is_gc_log_start(std::string_view t) { return starts_with(t, "<--- Last few GCs --->"); }
// Between the GC log header and FATAL ERROR: GC lines "[pid:0x…] 143 ms: Mark-Compact …",
// "<--- JS stacktrace --->", and (older Node) the JS stack section.
bool is_gc_log_line(std::string_view t) {
  return is_blank(t) || starts_with(t, "[") || starts_with(t, "<---") || starts_with(t, "====") ||
         starts_with(t, "Security context") || is_indented(t);
}
bool is_native_stack_header(std::string_view t) { return starts_with(t, "----- Native stack trace -----"); }
bool is_v8_check_start(std::string_view t) { return starts_with(t, "# Fatal error in "); }
bool is_hash_line(std::string_view t) { return starts_with(t, "#"); }

std::vector<Rule> fatal_rules() {
  return {
      {S::Start, is_gc_log_start, S::GcLog},
      {S::Start, is_fatal_line, S::Fatal, on_fatal},
      {S::Start, is_v8_check_start, S::V8Check, on_v8_check},
      {S::GcLog, is_fatal_line, S::Fatal, on_fatal},
      {S::GcLog, is_gc_log_line, S::GcLog},
      {S::V8Check, is_hash_line, S::V8Check, on_v8_check},
      {S::V8Check, is_fatal_line, S::Fatal, on_fatal},
      {S::V8Check, is_native_stack_header, S::Fatal},
      {S::V8Check, is_blank, S::V8Check},
      {S::Fatal, is_native_stack_header, S::Fatal},
      {S::Fatal, node::is_native_frame, S::Fatal, on_native_frame},
      {S::Fatal, is_blank, S::Fatal},
  };
}

Spec node_spec() {
  Spec s;
  s.name = "node";
  s.runtime = "node";
  s.platform = "node";
  // Location lines name a script ("main.js:5", "x.mjs:5", "x.ts:5") or a
  // built-in module ("node:fs:573"); error lines name an Error or Exception.
  s.anchors = {"js:", "ts:", "sx:", "node:", "Error", "Exception", "FATAL ERROR:", "<--- Last few GCs",
               "# Fatal error in"};
  s.rules = error_rules();
  for (Rule& r : fatal_rules()) s.rules.push_back(r);
  // Frame lines are unambiguous: a few lines of other output in between are skipped.
  s.tolerant_states = {static_cast<int>(S::Frames)};
  s.tolerance = 3;
  s.finalize = finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_node_detector() { return std::make_unique<TableDetector>(node_spec()); }

}  // namespace crashwrap::parsers
