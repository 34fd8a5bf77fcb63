// PHP: fatal errors as the engine reports them, with the "PHP " prefix of the
// error log (CLI stderr) or without it (display_errors): "Fatal error:
// Uncaught Ns\Cls: msg in FILE:LINE", "Stack trace:", "#N FILE(LINE): call",
// "#N {main}", chained "Next Ns\Cls: …" blocks and the closing "  thrown in
// FILE on line N"; and the other fatal kinds ("Allowed memory size … exhausted
// in FILE on line N", "Parse error: …"). Warnings, notices and deprecations
// are not crashes and never start a report.
//
// Laravel's log (Monolog with stack traces) carries a logged exception as
// 'local.ERROR: msg {"exception":"[object] (Cls(code: 0): msg at FILE:LINE)',
// "[stacktrace]", the same "#N" lines (JSON-escaped), "[previous exception]"
// blocks for the causes, and a closing '"} ' line.
//
// Frames are built as Sentry's PHP SDK builds them from a trace
// (StacktraceBuilder::buildFromBacktrace): PHP prints the CALLED function at
// the caller's line, so each frame pairs a location with the function of the
// trace line below it, and the throw site is the newest frame.
#include <algorithm>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

enum class S { Start = 0, Message, Head, Trace, Gap, LaravelHead, LaravelTrace };

constexpr std::string_view kInternal = "[internal]";

// "PHP Fatal error:  rest" / "Fatal error: rest" → rest.
std::optional<std::string_view> fatal_body(std::string_view t) noexcept {
  if (auto r = text::after(t, "PHP ")) t = *r;
  for (std::string_view kind : {"Fatal error:", "Parse error:", "Core error:", "Compile error:",
                                "Recoverable fatal error:"}) {
    if (auto r = text::after(t, kind)) {
      std::string_view rest = text::trim_left(*r);
      if (rest.empty() || rest.size() == r->size()) return std::nullopt;  // needs a space after the colon
      return rest;
    }
  }
  return std::nullopt;
}

std::string_view fatal_kind(std::string_view t) noexcept {
  if (auto r = text::after(t, "PHP ")) t = *r;
  return t.substr(0, t.find(':'));
}

// "… in FILE:LINE" at the end of a line (where an exception was thrown).
struct Where {
  std::string_view before, file;
  std::uint32_t line = 0;
};

std::optional<Where> throw_site(std::string_view t) noexcept {
  std::size_t in = text::rfind(t, " in ");
  while (in != std::string_view::npos) {
    std::string_view loc = t.substr(in + 4);
    text::Split s = text::split_last(loc, ":");
    if (s.found && !s.left.empty())
      if (auto n = text::parse_uint(s.right)) return Where{t.substr(0, in), s.left, static_cast<std::uint32_t>(*n)};
    if (in == 0) break;
    in = text::rfind(t, " in ", in - 1);
  }
  return std::nullopt;
}

// "… in FILE on line N" (errors without an exception).
std::optional<Where> error_site(std::string_view t) noexcept {
  std::size_t on = text::rfind(t, " on line ");
  if (on == std::string_view::npos) return std::nullopt;
  auto n = text::parse_uint(t.substr(on + 9));
  if (!n) return std::nullopt;
  std::size_t in = text::rfind(t, " in ", on);
  if (in == std::string_view::npos) return std::nullopt;
  return Where{t.substr(0, in), t.substr(in + 4, on - in - 4), static_cast<std::uint32_t>(*n)};
}

bool is_uncaught(std::string_view t) noexcept {
  auto b = fatal_body(t);
  return b && text::starts_with(*b, "Uncaught ") && b->size() > 9;
}
// The first line names the throw site, or the message goes on below.
bool is_uncaught_whole(std::string_view t) noexcept { return is_uncaught(t) && throw_site(t).has_value(); }
bool is_uncaught_open(std::string_view t) noexcept { return is_uncaught(t) && !throw_site(t).has_value(); }
bool is_other_fatal(std::string_view t) noexcept {
  auto b = fatal_body(t);
  return b && !text::starts_with(*b, "Uncaught ") && error_site(*b).has_value();
}

Frame make_frame(std::string_view file, std::uint32_t line, std::string function) {
  Frame f;
  // "FILE(N) : eval()'d code" names the file and line that ran the eval.
  if (text::ends_with(file, ") : eval()'d code") || text::ends_with(file, ") : runtime-created function")) {
    std::size_t open = file.rfind('(', text::rfind(file, ") : "));
    if (open != std::string_view::npos) {
      std::size_t close = file.find(')', open);
      if (auto n = text::parse_uint(file.substr(open + 1, close - open - 1))) {
        line = static_cast<std::uint32_t>(*n);
        file = file.substr(0, open);
      }
    }
  }
  f.function = std::move(function);
  if (file != kInternal) {
    f.filename = std::string(file);
    f.abs_path = std::string(file);
    if (line > 0) f.lineno = line;
  } else {
    f.filename = std::string(file);
  }
  f.in_app = file != kInternal && !is_library_path(file);
  return f;
}

// "Ns\Cls->method(args)" / "Cls::method(args)" / "func(args)" → "Ns\Cls::method" / "func".
std::string function_name(std::string_view call) {
  std::string_view name = call.substr(0, call.find('('));
  std::size_t arrow = text::find(name, "->");
  std::string out;
  if (arrow != std::string_view::npos) {
    out = std::string(name.substr(0, arrow)) + "::" + std::string(name.substr(arrow + 2));
  } else {
    out = std::string(name);
  }
  return out;
}

// Where the next frame's location comes from: the exception's throw site,
// then each trace line's FILE(LINE). Kept in the builder's scratch/counter.
void set_cursor(Builder& b, std::string_view file, std::uint32_t line) {
  b.scratch = std::string(file);
  b.counter = static_cast<int>(line);
}

void add_exception(Builder& b, std::string_view body) {
  // "Ns\Cls: message in FILE:LINE"; "Ns\Cls in FILE:LINE" for an empty
  // message; a message spanning lines names the throw site on its last line.
  std::size_t colon = text::find(body, ": ");
  std::optional<Where> whole = throw_site(body);
  if (whole && (colon == std::string_view::npos || colon > whole->before.size())) {
    b.add_exception(std::string(whole->before), std::nullopt);
    set_cursor(b, whole->file, whole->line);
    return;
  }
  std::string_view type = body.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? std::string_view{} : body.substr(colon + 2);
  Exception& e = b.add_exception(std::string(type), std::nullopt);
  if (auto w = throw_site(rest)) {
    if (!w->before.empty()) e.value = std::string(w->before);
    set_cursor(b, w->file, w->line);
  } else {
    e.value = std::string(rest);
  }
}

std::string_view uncaught_body(std::string_view t) noexcept { return fatal_body(t)->substr(9); }
void on_uncaught(Builder& b, std::string_view t) { add_exception(b, uncaught_body(t)); }
void on_next(Builder& b, std::string_view t) { add_exception(b, t.substr(5)); }

void on_message_line(Builder& b, std::string_view t) {
  if (auto w = throw_site(t)) {
    b.append_value(w->before);
    set_cursor(b, w->file, w->line);
  } else {
    b.append_value(t);
  }
}

// An error without an exception object becomes what Sentry's PHP SDK makes of
// it: an ErrorException whose message starts with the level's description.
std::string_view level_description(std::string_view kind) noexcept {
  if (kind == "Parse error") return "Parse Error";
  if (kind == "Core error") return "Core Error";
  if (kind == "Compile error") return "Compile Error";
  if (kind == "Recoverable fatal error") return "Catchable Fatal Error";
  return "Fatal Error";
}

void on_other_fatal(Builder& b, std::string_view t) {
  auto w = error_site(*fatal_body(t));
  std::string value = std::string(level_description(fatal_kind(t))) + ": " + std::string(w->before);
  b.add_exception("ErrorException", std::move(value));
  b.add_frame(make_frame(w->file, w->line, {}));
}

void on_trace_line(Builder& b, std::string_view t) {
  std::string_view entry = t.substr(t.find(' ') + 1);
  if (entry == "{main}") {
    b.add_frame(make_frame(b.scratch, static_cast<std::uint32_t>(b.counter), "{main}"));
    return;
  }
  std::string_view file = kInternal;
  std::uint32_t line = 0;
  std::string_view call;
  if (auto r = text::after(entry, "[internal function]: ")) {
    call = *r;
  } else {
    std::size_t colon = text::find(entry, "): ");
    if (colon == std::string_view::npos) return;
    std::string_view loc = entry.substr(0, colon);
    std::size_t open = loc.rfind('(');
    if (open == std::string_view::npos) return;
    file = loc.substr(0, open);
    line = static_cast<std::uint32_t>(text::parse_uint(loc.substr(open + 1)).value_or(0));
    call = entry.substr(colon + 3);
  }
  b.add_frame(make_frame(b.scratch, static_cast<std::uint32_t>(b.counter), function_name(call)));
  set_cursor(b, file, line);
}

bool is_trace_line(std::string_view t) noexcept {
  if (t.size() < 3 || t[0] != '#') return false;
  std::size_t sp = t.find(' ');
  return sp != std::string_view::npos && sp > 1 && text::parse_uint(t.substr(1, sp - 1)).has_value();
}
bool is_thrown_in(std::string_view t) noexcept { return text::starts_with(t, "  thrown in ") && error_site(t.substr(2)); }
bool is_next(std::string_view t) noexcept { return text::starts_with(t, "Next ") && t.size() > 5; }
bool is_next_whole(std::string_view t) noexcept { return is_next(t) && throw_site(t).has_value(); }
bool is_next_open(std::string_view t) noexcept { return is_next(t) && !throw_site(t).has_value(); }
bool is_stack_trace(std::string_view t) noexcept { return t == "Stack trace:"; }

// ---- Laravel / Monolog -------------------------------------------------------

constexpr std::string_view kLaravelObject = "{\"exception\":\"[object] (";
constexpr std::string_view kLaravelPrevious = "[previous exception] [object] (";

// Undoes the JSON string escapes Monolog leaves in the text (\\, \", \/).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == '"' || s[i + 1] == '/')) ++i;
    out.push_back(s[i]);
  }
  return out;
}

// "Cls(code: N): message at FILE:LINE)"
void add_laravel_exception(Builder& b, std::string_view obj) {
  std::size_t code = text::find(obj, "(code: ");
  std::size_t msg = text::find(obj, "): ", code == std::string_view::npos ? 0 : code);
  if (code == std::string_view::npos || msg == std::string_view::npos) return;
  std::string_view rest = obj.substr(msg + 3);
  if (!rest.empty() && rest.back() == ')') rest.remove_suffix(1);
  std::size_t at = text::rfind(rest, " at ");
  std::string_view message = at == std::string_view::npos ? rest : rest.substr(0, at);
  b.add_exception(unescape(obj.substr(0, code)), message.empty() ? std::nullopt : std::optional(unescape(message)));
  if (at != std::string_view::npos) {
    text::Split loc = text::split_last(rest.substr(at + 4), ":");
    if (auto n = text::parse_uint(loc.right); loc.found && n) set_cursor(b, unescape(loc.left), static_cast<std::uint32_t>(*n));
  }
}

bool is_laravel_head(std::string_view t) noexcept { return text::contains(t, kLaravelObject); }
void on_laravel_head(Builder& b, std::string_view t) {
  add_laravel_exception(b, t.substr(t.find(kLaravelObject) + kLaravelObject.size()));
}
bool is_laravel_previous(std::string_view t) noexcept { return text::starts_with(t, kLaravelPrevious); }
void on_laravel_previous(Builder& b, std::string_view t) { add_laravel_exception(b, t.substr(kLaravelPrevious.size())); }
void on_laravel_trace_line(Builder& b, std::string_view t) { on_trace_line(b, unescape(t)); }
bool is_laravel_end(std::string_view t) noexcept { return text::starts_with(t, "\"}"); }

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  // Laravel prints the exception first and its previous ones (causes) after.
  if (text::contains(std::string_view(r.raw).substr(0, r.raw.find('\n')), kLaravelObject))
    std::reverse(r.exceptions.begin(), r.exceptions.end());
  for (Exception& e : r.exceptions) std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  return true;
}

Spec php_spec() {
  Spec s;
  s.name = "php";
  s.runtime = "php";
  s.platform = "php";
  s.anchors = {"Fatal error:", "Parse error:", "Core error:", "Compile error:", kLaravelObject};
  s.rules = {
      {S::Start, &is_uncaught_whole, S::Head, &on_uncaught},
      {S::Start, &is_uncaught_open, S::Message, &on_uncaught},
      {S::Start, &is_other_fatal, kEmit, &on_other_fatal},
      {S::Message, [](std::string_view t) { return throw_site(t).has_value(); }, S::Head, &on_message_line},
      {S::Message, [](std::string_view t) { return !is_stack_trace(t) && !is_trace_line(t); }, S::Message,
       &on_message_line},
      {S::Head, &is_stack_trace, S::Trace},
      {S::Trace, &is_trace_line, S::Trace, &on_trace_line},
      {S::Trace, &is_thrown_in, kEmit},
      {S::Trace, [](std::string_view t) { return t.empty(); }, S::Gap},
      {S::Gap, &is_next_whole, S::Head, &on_next},
      {S::Gap, &is_next_open, S::Message, &on_next},
      {S::Start, &is_laravel_head, S::LaravelHead, &on_laravel_head},
      {S::LaravelHead, [](std::string_view t) { return t == "[stacktrace]"; }, S::LaravelTrace},
      {S::LaravelTrace, &is_trace_line, S::LaravelTrace, &on_laravel_trace_line},
      {S::LaravelTrace, &is_laravel_previous, S::LaravelHead, &on_laravel_previous},
      {S::LaravelTrace, &is_laravel_end, kEmit},
  };
  s.finalize = &finalize;
  s.max_lines = 2000;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_php_detector() { return std::make_unique<TableDetector>(php_spec()); }

}  // namespace crashwrap::parsers
