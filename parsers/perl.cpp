// Perl: die's "MESSAGE at FILE line N." (optionally ", <FH> line M."), with
// Carp's backtrace lines "\tmain::f(args) called at FILE line N" (confess,
// croak from main), "BEGIN failed--compilation aborted" after a failed use,
// and compile errors ("syntax error at FILE line N, near …" up to "Execution
// of FILE aborted due to compilation errors.").
//
// warn prints exactly what die prints, so a Perl report only stands for a
// crash when the process then fails: reports are marked fatal_only and the
// verdict drops them otherwise.
#include <algorithm>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

enum class S { Start = 0, Head, Frames, Compile };

struct Located {
  std::string_view message, file, rest;
  std::uint32_t line = 0;
};

// "MESSAGE at FILE line N<rest>": the last " at FILE line N" of the line.
std::optional<Located> parse_at(std::string_view t) noexcept {
  std::size_t at = text::rfind(t, " at ");
  while (at != std::string_view::npos && at > 0) {
    std::string_view after = t.substr(at + 4);
    std::size_t sp = text::find(after, " line ");
    if (sp != std::string_view::npos && sp > 0 && !text::contains(after.substr(0, sp), " ")) {
      std::string_view num = after.substr(sp + 6);
      std::size_t digits = 0;
      while (digits < num.size() && num[digits] >= '0' && num[digits] <= '9') ++digits;
      if (digits > 0)
        return Located{t.substr(0, at), after.substr(0, sp), num.substr(digits),
                       static_cast<std::uint32_t>(text::parse_uint(num.substr(0, digits)).value_or(0))};
    }
    at = text::rfind(t, " at ", at - 1);
  }
  return std::nullopt;
}

// die: the location ends the line with "." or ", <FH> line|chunk M.".
std::optional<Located> parse_die(std::string_view t) noexcept {
  if (t.empty() || t.back() != '.') return std::nullopt;
  auto loc = parse_at(t);
  if (!loc || loc->message.empty() || text::starts_with(loc->message, "\t")) return std::nullopt;
  std::string_view rest = loc->rest;
  if (rest == ".") return loc;
  if (text::starts_with(rest, ", <") && (text::contains(rest, "> line ") || text::contains(rest, "> chunk ")))
    return loc;
  return std::nullopt;
}

bool is_die(std::string_view t) noexcept { return parse_die(t).has_value(); }

bool is_syntax_error(std::string_view t) noexcept {
  auto loc = parse_at(t);
  return loc && text::starts_with(loc->rest, ", near ") &&
         (text::starts_with(t, "syntax error") || text::contains(loc->message, "error"));
}

bool is_aborted(std::string_view t) noexcept {
  return text::starts_with(t, "Execution of ") && text::ends_with(t, " aborted due to compilation errors.");
}
bool is_begin_failed(std::string_view t) noexcept {
  return text::starts_with(t, "BEGIN failed--compilation aborted at ");
}

// "\tmain::f(args) called at FILE line N"
bool is_called_at(std::string_view t) noexcept {
  if (t.empty() || t[0] != '\t') return false;
  auto loc = parse_at(t);
  return loc && text::ends_with(loc->message, " called") && loc->rest.empty();
}

Frame make_frame(std::string_view file, std::uint32_t line) {
  Frame f;
  f.filename = std::string(file);
  f.abs_path = std::string(file);
  f.lineno = line;
  f.in_app = !(is_library_path(file) || text::starts_with(file, "/usr/share/perl") ||
               text::starts_with(file, "/usr/lib/x86_64-linux-gnu/perl"));
  return f;
}

void open_report(Builder& b, const Located& loc, std::string value) {
  b.report.fatal_only = true;
  b.add_exception("die", std::move(value));
  b.add_frame(make_frame(loc.file, loc.line));
}

void on_die(Builder& b, std::string_view t) {
  auto loc = parse_die(t);
  open_report(b, *loc, std::string(loc->message));
}

void on_syntax_error(Builder& b, std::string_view t) {
  auto loc = parse_at(t);
  open_report(b, *loc, std::string(loc->message) + std::string(loc->rest));
}

// Each "called at" line names the sub the previous location was in.
void on_called_at(Builder& b, std::string_view t) {
  auto loc = parse_at(text::trim_left(t));
  Exception* e = b.current_exception();
  if (!loc || e == nullptr) return;
  std::string_view call = loc->message.substr(0, loc->message.size() - 7);  // without " called"
  std::string_view sub = text::starts_with(call, "eval {") ? call : call.substr(0, call.find('('));
  if (!e->stacktrace.frames.empty()) e->stacktrace.frames.back().function = std::string(sub);
  b.add_frame(make_frame(loc->file, loc->line));
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  for (Exception& e : r.exceptions) std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  return true;
}

Spec perl_spec() {
  Spec s;
  s.name = "perl";
  s.runtime = "perl";
  s.platform = "perl";
  s.anchors = {" line "};
  s.rules = {
      {S::Start, &is_syntax_error, S::Compile, &on_syntax_error},
      {S::Start, &is_die, S::Head, &on_die},
      {S::Head, &is_called_at, S::Frames, &on_called_at},
      {S::Head, &is_begin_failed, S::Head},
      {S::Head, &is_aborted, kEmit},
      {S::Frames, &is_called_at, S::Frames, &on_called_at},
      {S::Compile, &is_aborted, kEmit},
      {S::Compile, [](std::string_view t) { return parse_at(t).has_value(); }, S::Compile},
  };
  s.tolerant_states = {static_cast<int>(S::Compile)};
  s.tolerance = 4;
  s.finalize = &finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_perl_detector() { return std::make_unique<TableDetector>(perl_spec()); }

}  // namespace crashwrap::parsers
