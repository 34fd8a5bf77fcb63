// .NET: the runtime's report of an unhandled exception, as .NET (Core) and
// Mono print it, and Exception.ToString() text logged without a header.
//
//   Unhandled exception. System.InvalidOperationException: outer      (.NET Core 3+)
//    ---> System.IO.FileNotFoundException: Could not find file '/x'.
//      at Ns.Type.Method(String path) in /src/File.cs:line 12
//      --- End of inner exception stack trace ---
//      at Ns.Program.Main(String[] args) in /src/Program.cs:line 5
//
//   Unhandled Exception:                                               (Mono)
//   System.ApplicationException: outer ---> System.Exception: inner
//     at Ns.Type.Method (System.String p) [0x00003] in /src/File.cs:4
//      --- End of inner exception stack trace ---
//     at Ns.Program.Main () [0x0001b] in /src/Program.cs:8
//   [ERROR] FATAL UNHANDLED EXCEPTION: System.ApplicationException: outer ---> …
//     (the same trace again)
//
// Decisions: Mono's second print replaces the first (it is the same
// exception, and for a stack overflow only the second one has the frames and
// the full type name): one report. Inner exceptions come first in the chain;
// the frames printed before an "--- End of inner exception stack trace ---"
// belong to the innermost open exception. AggregateException's
// "---> (Inner Exception #N)" blocks are further inner exceptions; Mono's
// "#0" repeats the InnerException already printed and is skipped.
#include <algorithm>
#include <string>

#include "parsers/detectors.h"
#include "parsers/exception_tree.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S { Start = 0, MonoWait, Header, Bare, BareMore, Frames, Gap, SkipInner, Overflow };

constexpr std::string_view kCoreHeader = "Unhandled exception. ";
constexpr std::string_view kFrameworkHeader = "Unhandled Exception: ";
constexpr std::string_view kMonoHeader = "Unhandled Exception:";
constexpr std::string_view kMonoRepeat = "[ERROR] FATAL UNHANDLED EXCEPTION: ";
constexpr std::string_view kEndOfInner = "--- End of inner exception stack trace ---";
constexpr std::string_view kInnerNumbered = "(Inner Exception #";
constexpr std::string_view kUnhandledMechanism = "AppDomain.UnhandledException";

bool is_type_char(char c) {
  return text::is_identifier_char(c) || c == '.' || c == '+' || c == '`' || c == '<' || c == '>' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// "Ns.SomeException: message" / "Ns.SomeException". Logged lines without a
// runtime header must name a namespaced "…Exception" type.
struct Header {
  std::string_view type;
  std::optional<std::string_view> message;
};
std::optional<Header> parse_header(std::string_view s, bool bare) {
  // The type starts the line and ends at ": ", " (" or the end: most lines
  // fail these tests before any search.
  if (s.empty() || s.front() == '.' || !is_type_char(s.front())) return std::nullopt;
  std::size_t end = 0;
  while (end < s.size() && is_type_char(s[end])) ++end;
  if (end < s.size() && !starts_with(s.substr(end), ": ") && !starts_with(s.substr(end), " (")) return std::nullopt;
  Header h;
  auto split = text::split_first(s, ": ");
  h.type = split.found ? split.left : s;
  if (split.found) h.message = split.right;
  // Exceptions with an error code print it after the type: "SocketException (111): …".
  if (auto code = text::split_last(h.type, " ("); code.found && text::ends_with(code.right, ")") &&
      text::parse_uint(code.right.substr(0, code.right.size() - 1)))
    h.type = code.left;
  if (h.type.empty() || h.type.front() == '.' || h.type.back() == '.') return std::nullopt;
  if (!std::all_of(h.type.begin(), h.type.end(), is_type_char)) return std::nullopt;
  if (bare && (h.type.find('.') == std::string_view::npos || !text::ends_with(h.type, "Exception")))
    return std::nullopt;
  return h;
}

// Mono and .NET Framework put inner exceptions on the header line:
// "A: outer ---> B: inner".
std::vector<std::string_view> split_inner(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto split = text::split_first(s, " ---> ");
    parts.push_back(split.left);
    if (!split.found) return parts;
    s = split.right;
  }
}

std::string_view outermost(std::string_view s) { return text::split_first(s, " ---> ").left; }

bool is_bare_header(std::string_view t) { return parse_header(outermost(text::trim_left(t)), true).has_value(); }

// Starts of the runtime's own report, with what follows the marker.
std::optional<std::string_view> runtime_header(std::string_view t) {
  for (std::string_view p : {kCoreHeader, kFrameworkHeader, kMonoRepeat})
    if (auto rest = text::after(t, p); rest && parse_header(outermost(*rest), false)) return rest;
  return std::nullopt;
}
bool is_runtime_header(std::string_view t) { return runtime_header(t).has_value(); }
bool is_mono_repeat(std::string_view t) { return starts_with(t, kMonoRepeat) && is_runtime_header(t); }
bool is_mono_wait(std::string_view t) { return text::trim_right(t) == kMonoHeader; }

// " ---> Ns.Inner: msg" and " ---> (Inner Exception #1) Ns.Inner: msg".
std::optional<std::string_view> inner_line(std::string_view t) {
  auto rest = text::after(text::trim_left(t), "---> ");
  if (!rest) return std::nullopt;
  if (starts_with(*rest, kInnerNumbered)) {
    auto close = text::find(*rest, ") ");
    if (close == std::string_view::npos) return std::nullopt;
    rest = rest->substr(close + 2);
  }
  if (!parse_header(outermost(*rest), false)) return std::nullopt;
  return rest;
}
bool is_inner(std::string_view t) { return inner_line(t).has_value() && !text::contains(t, "(Inner Exception #0) "); }
bool is_inner_zero(std::string_view t) { return inner_line(t).has_value() && text::contains(t, "(Inner Exception #0) "); }
bool is_end_of_inner(std::string_view t) { return text::trim(t) == kEndOfInner; }
// Async methods: "--- End of stack trace from previous location [where exception was thrown] ---".
bool is_async_boundary(std::string_view t) {
  return starts_with(text::trim(t), "--- End of stack trace from previous location");
}

// ---- frames -------------------------------------------------------------------

bool is_library_type(std::string_view module) {
  static constexpr std::string_view kLibraries[] = {
      "System",  "Microsoft", "Mono",    "MS",      "Internal", "Interop",  "FSharp", "Newtonsoft", "Serilog",
      "NLog",    "Npgsql",    "Polly",   "Dapper",  "AutoMapper", "Grpc",   "Google", "MongoDB",    "StackExchange",
      "Sentry",  "Castle",    "Autofac", "MediatR", "Swashbuckle", "Xamarin",
  };
  for (std::string_view p : kLibraries)
    if (starts_with(module, p) && (module.size() == p.size() || module[p.size()] == '.')) return true;
  return false;
}

// Parameter lists never hold a path, a line number or a JavaScript location.
bool is_parameter_list(std::string_view p) {
  if (p == "Native Method" || starts_with(p, "Unknown Source") || starts_with(p, "<") || starts_with(p, "index "))
    return false;
  return std::none_of(p.begin(), p.end(), [](char c) { return c == ':' || c == '/' || c == '\\'; });
}

// "Ns.Type`1[T].Method[U]" → {"Ns.Type`1[T]", "Method[U]"}; "Ns.Type..ctor" → {"Ns.Type", ".ctor"}.
std::pair<std::string_view, std::string_view> split_method(std::string_view name) {
  int depth = 0;
  std::size_t dot = std::string_view::npos;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '[' || c == '<') ++depth;
    if ((c == ']' || c == '>') && depth > 0) --depth;
    if (c == '.' && depth == 0) dot = i;
  }
  if (dot == std::string_view::npos || dot == 0) return {std::string_view(), name};
  if (name[dot - 1] == '.') return {name.substr(0, dot - 1), name.substr(dot)};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

struct FrameParts {
  std::string_view name, location;
  bool closes_inner = false;  // AggregateException's "<---" after the last frame
};

std::optional<FrameParts> split_frame(std::string_view line) {
  auto rest = text::after(text::trim_left(line), "at ");
  if (!rest) return std::nullopt;
  std::string_view r = text::trim_right(*rest);
  FrameParts p;
  if (text::ends_with(r, "<---")) {
    p.closes_inner = true;
    r = text::trim_right(r.substr(0, r.size() - 4));
  }
  if (starts_with(r, "(wrapper ")) {  // Mono: "(wrapper managed-to-native) Ns.Type.Method(args)"
    auto close = text::find(r, ") ");
    if (close == std::string_view::npos) return std::nullopt;
    r = r.substr(close + 2);
  }
  auto open = r.find('(');
  auto close = open == std::string_view::npos ? open : r.find(')', open);
  if (close == std::string_view::npos || open == 0) return std::nullopt;
  p.name = text::trim_right(r.substr(0, open));
  if (p.name.empty() || p.name.find(' ') != std::string_view::npos) return std::nullopt;
  if (!is_parameter_list(r.substr(open + 1, close - open - 1))) return std::nullopt;
  std::string_view after = text::trim_left(r.substr(close + 1));
  // Mono: IL offset "[0x0001c]" or native offset "<0x41b6b3c + 0x0002f>" before " in ".
  if (starts_with(after, "[0x")) after = text::trim_left(after.substr(std::min(after.find(']') + 1, after.size())));
  if (starts_with(after, "<0x")) after = text::trim_left(after.substr(std::min(after.find('>') + 1, after.size())));
  if (after.empty()) return p;
  auto loc = text::after(after, "in ");
  if (!loc) return std::nullopt;
  p.location = *loc;
  return p;
}

bool is_frame(std::string_view t) { return split_frame(t).has_value(); }

Frame make_frame(const FrameParts& p) {
  Frame f;
  auto [module, method] = split_method(p.name);
  f.module = std::string(module);
  f.function = std::string(method);
  std::string_view file = p.location;
  std::optional<std::uint64_t> line;
  if (auto core = text::split_last(file, ":line "); core.found) {  // .NET Core
    file = core.left;
    line = text::parse_uint(core.right);
  } else if (auto mono = text::split_last(file, ":"); mono.found && text::parse_uint(mono.right)) {
    file = mono.left;
    line = text::parse_uint(mono.right);
  }
  if (!file.empty() && file.front() != '<') {  // "<filename unknown>", "<b2ea…>": no source file
    f.abs_path = std::string(file);
    f.filename = std::string(file);
    if (line && *line > 0 && *line <= UINT32_MAX) f.lineno = static_cast<std::uint32_t>(*line);
  }
  f.in_app = !is_library_type(module);
  return f;
}

// ---- actions --------------------------------------------------------------------
// Builder::counter is the index of the exception that receives frames.

// Opens an exception held by the printed exception `parent` (-1: none).
// AggregateException holds its inner exceptions as a group.
void open_exception(Builder& b, std::string_view header, bool uncaught, int parent) {
  auto h = parse_header(header, false);
  std::optional<std::string> value;
  if (h && h->message) value = std::string(*h->message);
  auto& ex = b.report.exceptions;
  Exception& e = b.add_exception(std::string(h ? h->type : header), std::move(value));
  if (uncaught) e.mechanism.type = kUnhandledMechanism;
  link_last(ex, parent);
  if (parent >= 0 && text::ends_with(ex[static_cast<std::size_t>(parent)].type, "AggregateException")) {
    Mechanism& group = ex[static_cast<std::size_t>(parent)].mechanism;
    group.is_exception_group = true;
    int members = 0;
    for (const Exception& x : ex)
      if (x.mechanism.parent_id == parent) ++members;
    ex.back().mechanism.source = "InnerExceptions[" + std::to_string(members - 1) + "]";
  }
  b.counter = static_cast<int>(ex.size()) - 1;
}

void open_chain(Builder& b, std::string_view line, bool uncaught, int parent) {
  for (std::string_view part : split_inner(line)) {
    open_exception(b, part, uncaught, parent);
    uncaught = false;
    parent = b.counter;
  }
}

void on_runtime_header(Builder& b, std::string_view t) {
  b.report.exceptions.clear();  // Mono's repeat replaces the first print
  open_chain(b, *runtime_header(t), true, -1);
}
void on_mono_header(Builder& b, std::string_view t) { open_chain(b, text::trim(t), true, -1); }
void on_bare_header(Builder& b, std::string_view t) { open_chain(b, text::trim_left(t), false, -1); }
void on_inner(Builder& b, std::string_view t) {
  open_chain(b, *inner_line(t), false, b.report.exceptions.empty() ? -1 : b.counter);
}
void on_value_line(Builder& b, std::string_view t) {
  if (b.counter >= 0 && static_cast<std::size_t>(b.counter) < b.report.exceptions.size()) {
    auto& v = b.report.exceptions[static_cast<std::size_t>(b.counter)].value;
    if (!v) v.emplace();
    if (!v->empty()) v->push_back('\n');
    v->append(t);
  }
}
// Frames that follow belong to the exception holding the one just ended.
void on_end_of_inner(Builder& b, std::string_view) {
  const auto& ex = b.report.exceptions;
  if (b.counter < 0 || static_cast<std::size_t>(b.counter) >= ex.size()) return;
  b.counter = ex[static_cast<std::size_t>(b.counter)].mechanism.parent_id.value_or(0);
}

void on_frame(Builder& b, std::string_view t) {
  auto p = split_frame(t);
  auto& ex = b.report.exceptions;
  if (ex.empty()) return;
  auto& frames = ex[static_cast<std::size_t>(std::clamp(b.counter, 0, static_cast<int>(ex.size()) - 1))].stacktrace.frames;
  if (frames.size() < b.max_frames)
    frames.push_back(make_frame(*p));
  else
    ++b.dropped_frames;
  if (p->closes_inner) on_end_of_inner(b, t);
}

void on_overflow(Builder& b, std::string_view) {
  b.add_exception("System.StackOverflowException", std::string("Stack overflow.")).mechanism.type =
      kUnhandledMechanism;
  b.counter = 0;
}

bool is_value_line(std::string_view t) {
  return !text::trim(t).empty() && !is_frame(t) && !is_inner(t) && !is_end_of_inner(t) && !is_mono_repeat(t);
}
bool is_blank(std::string_view t) { return text::trim(t).empty(); }
bool is_overflow_start(std::string_view t) { return text::trim(t) == "Stack overflow."; }
// "Repeat 24033 times:" and the "-----" lines around the repeated frames.
bool is_overflow_marker(std::string_view t) {
  std::string_view s = text::trim(t);
  return (starts_with(s, "Repeat ") && text::ends_with(s, " times:")) ||
         (s.size() >= 8 && s.find_first_not_of('-') == std::string_view::npos);
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  std::size_t frames = 0;
  for (const Exception& e : r.exceptions) frames += e.stacktrace.frames.size();
  if (frames == 0 && r.exceptions.front().mechanism.type != kUnhandledMechanism) return false;
  for (Exception& e : r.exceptions) {
    std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
    Mechanism& m = e.mechanism;
    if (!m.parent_id) continue;
    if (m.type == "generic") m.type = "chained";
    if (m.source.empty()) m.source = "InnerException";
  }
  order_oldest_first(r.exceptions);
  return true;
}

Spec dotnet_spec() {
  Spec s;
  s.name = "dotnet";
  s.runtime = "dotnet";
  s.platform = "csharp";
  s.anchors = {"Unhandled", "UNHANDLED", "Exception", "Stack overflow."};
  s.rules = {
      {S::Start, is_runtime_header, S::Header, on_runtime_header},
      {S::Start, is_mono_wait, S::MonoWait},
      {S::Start, is_overflow_start, S::Overflow, on_overflow},
      {S::Start, is_bare_header, S::Bare, on_bare_header},
      {S::MonoWait, [](std::string_view t) { return parse_header(outermost(text::trim(t)), false).has_value(); },
       S::Header, on_mono_header},

      // The runtime's report: lines before the first frame continue the message.
      {S::Header, is_mono_repeat, S::Header, on_runtime_header},
      {S::Header, is_frame, S::Frames, on_frame},
      {S::Header, is_inner, S::Header, on_inner},
      {S::Header, is_end_of_inner, S::Frames, on_end_of_inner},
      {S::Header, is_value_line, S::Header, on_value_line},
      // A logged trace: one continuation line at most ("Parameter name: x").
      {S::Bare, is_frame, S::Frames, on_frame},
      {S::Bare, is_inner, S::Bare, on_inner},
      {S::Bare, is_value_line, S::BareMore, on_value_line},
      {S::BareMore, is_frame, S::Frames, on_frame},
      {S::BareMore, is_inner, S::Bare, on_inner},

      {S::Frames, is_frame, S::Frames, on_frame},
      {S::Frames, is_inner, S::Header, on_inner},
      {S::Frames, is_inner_zero, S::SkipInner},
      {S::Frames, is_end_of_inner, S::Frames, on_end_of_inner},
      {S::Frames, is_async_boundary, S::Frames},
      {S::Frames, is_mono_repeat, S::Header, on_runtime_header},
      {S::Frames, is_blank, S::Gap},
      // AggregateException separates its inner exceptions with blank lines.
      {S::Gap, is_inner, S::Header, on_inner},
      {S::Gap, is_inner_zero, S::SkipInner},
      {S::Gap, is_mono_repeat, S::Header, on_runtime_header},
      {S::SkipInner, is_frame, S::SkipInner},
      {S::SkipInner, is_value_line, S::SkipInner},
      {S::SkipInner, is_blank, S::Gap},

      {S::Overflow, is_overflow_marker, S::Overflow},
      {S::Overflow, is_frame, S::Overflow, on_frame},
  };
  // Frame lines are unambiguous: a few lines of other output in between are skipped.
  s.tolerant_states = {static_cast<int>(S::Frames)};
  s.tolerance = 3;
  s.finalize = finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_dotnet_detector() { return std::make_unique<TableDetector>(dotnet_spec()); }

}  // namespace crashwrap::parsers
