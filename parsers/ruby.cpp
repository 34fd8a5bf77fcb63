// Ruby: the interpreter's report of an uncaught exception (error.c,
// rb_ec_error_print): "FILE:LINE:in `meth': message (Class)" — or 'meth'
// since Ruby 3.4 — then "\tfrom FILE:LINE:in `meth'" lines, newest first;
// error_highlight's blank/source/caret block and did_you_mean's suggestions
// between them; the cause printed after in the same form; a thread's death
// announced by "#<Thread:…> terminated with exception"; and the VM's own
// "[BUG] Segmentation fault" report with its Ruby-level backtrace; and the
// reversed form Ruby 2.5-2.7 printed on a terminal ("Traceback (most recent
// call last):", "\tN: from …", the headline last).
#include <algorithm>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

enum class S { Start = 0, ThreadHead, Head, Suggest, Highlight, Caret, Frames, Bug, BugRuby, Reversed };

// "FILE:LINE:in `label'" / "FILE:LINE:in 'label'" / "FILE:LINE".
struct Location {
  std::string_view path;
  std::uint32_t line = 0;
  std::string_view label;
  std::string_view rest;  // after the location and its ": "
};

std::optional<Location> parse_location(std::string_view t) noexcept {
  Location loc;
  std::size_t in = text::find(t, ":in ");
  std::string_view head = in == std::string_view::npos ? t : t.substr(0, in);
  if (in != std::string_view::npos) {
    std::string_view q = t.substr(in + 4);
    if (q.empty() || (q[0] != '`' && q[0] != '\'')) return std::nullopt;
    std::size_t close = q.find('\'', 1);
    if (close == std::string_view::npos) return std::nullopt;
    loc.label = q.substr(1, close - 1);
    q = q.substr(close + 1);
    if (!q.empty()) {
      auto r = text::after(q, ": ");
      if (!r) return std::nullopt;
      loc.rest = *r;
    }
  } else {
    // No method: "FILE:LINE" or "FILE:LINE: rest".
    std::size_t sep = text::find(t, ": ");
    head = sep == std::string_view::npos ? t : t.substr(0, sep);
    if (sep != std::string_view::npos) loc.rest = t.substr(sep + 2);
  }
  text::Split s = text::split_last(head, ":");
  if (!s.found || s.left.empty()) return std::nullopt;
  auto n = text::parse_uint(s.right);
  if (!n) return std::nullopt;
  loc.path = s.left;
  loc.line = static_cast<std::uint32_t>(*n);
  if (text::contains(loc.path, " ")) return std::nullopt;  // paths in traces have no spaces, log lines do
  return loc;
}

bool is_constant(std::string_view s) noexcept {
  if (s.empty() || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s)
    if (!text::is_identifier_char(c) && c != ':') return false;
  return true;
}

struct Headline {
  Location loc;
  std::string_view type;
  std::optional<std::string_view> value;
};

// "LOCATION: message (Class)" or, for an empty message, "LOCATION: Class".
std::optional<Headline> parse_headline(std::string_view t) noexcept {
  auto loc = parse_location(t);
  if (!loc || loc->rest.empty()) return std::nullopt;
  std::string_view rest = loc->rest;
  if (is_constant(rest)) return Headline{*loc, rest, std::nullopt};
  if (rest.back() != ')') return std::nullopt;
  std::size_t open = text::rfind(rest, " (");
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view type = rest.substr(open + 2, rest.size() - open - 3);
  if (!is_constant(type)) return std::nullopt;
  return Headline{*loc, type, rest.substr(0, open)};
}

bool is_headline(std::string_view t) noexcept { return parse_headline(t).has_value(); }
bool is_from(std::string_view t) noexcept {
  auto r = text::after(t, "\tfrom ");
  return r && parse_location(*r).has_value();
}
bool is_levels(std::string_view t) noexcept { return text::starts_with(t, "\t ... ") && text::contains(t, " levels"); }
bool is_blank(std::string_view t) noexcept { return text::trim(t).empty(); }
bool is_caret(std::string_view t) noexcept {
  std::string_view s = text::trim(t);
  return !s.empty() && s.find_first_not_of('^') == std::string_view::npos;
}
bool is_suggestion(std::string_view t) noexcept { return text::starts_with(t, "Did you mean?"); }
bool is_indented(std::string_view t) noexcept { return !t.empty() && t[0] == ' ' && !is_blank(t); }
bool is_thread_header(std::string_view t) noexcept {
  return text::starts_with(t, "#<Thread:") && text::contains(t, "> terminated with exception");
}
bool is_bug(std::string_view t) noexcept {
  if (text::starts_with(t, "[BUG] ")) return true;
  std::size_t p = text::find(t, ": [BUG] ");
  return p != std::string_view::npos && parse_location(t.substr(0, p)).has_value();
}

Frame make_frame(const Location& loc) {
  Frame f;
  f.abs_path = std::string(loc.path);
  f.lineno = loc.line;
  std::string_view label = loc.label;
  // Ruby 3.4 labels carry the owner ("Deployer#push", "Integer.sqrt"); the SDK
  // splits them into module and method.
  std::size_t sep = text::find_either(label, '#', '.');
  if (sep != std::string_view::npos && sep > 0 && !text::contains(label.substr(0, sep), " ") &&
      is_constant(label.substr(0, sep))) {
    f.module = std::string(label.substr(0, sep));
    label = label.substr(sep + 1);
  }
  f.function = std::string(label);
  std::string_view path = loc.path;
  std::size_t gems = text::rfind(path, "/gems/");
  if (gems != std::string_view::npos) {
    f.filename = std::string(path.substr(gems + 6));
  } else {
    f.filename = std::string(path);
  }
  f.in_app = !(is_library_path(path) || text::starts_with(path, "<internal:"));
  return f;
}

void on_headline(Builder& b, std::string_view t) {
  auto h = parse_headline(t);
  if (!h) return;
  Exception& e = b.add_exception(std::string(h->type), h->value ? std::optional<std::string>(std::string(*h->value))
                                                                 : std::nullopt);
  (void)e;
  b.add_frame(make_frame(h->loc));
}

// A headline that repeats one already in the report (same class, message and
// place) is not a cause but the next report: a thread's death reported again
// by the joining thread, or a restarted process.
bool is_cause(const Builder& b, std::string_view t) {
  auto h = parse_headline(t);
  if (!h) return false;
  for (const Exception& e : b.report.exceptions) {
    bool same_value = h->value ? e.value && text::starts_with(*e.value, *h->value) : !e.value;
    if (e.type != h->type || !same_value) continue;
    if (!e.stacktrace.frames.empty() && e.stacktrace.frames.front().abs_path == h->loc.path &&
        e.stacktrace.frames.front().lineno == h->loc.line)
      return false;
  }
  return true;
}

void on_from(Builder& b, std::string_view t) {
  if (auto loc = parse_location(t.substr(6))) b.add_frame(make_frame(*loc));
}

// Ruby 2.5-2.7 on a terminal: "Traceback (most recent call last):", then
// "\tN: from LOCATION" oldest first, then the headline. Frames are kept newest
// first like the usual form, so that finalize() treats both alike.
bool is_reversed_from(std::string_view t) noexcept {
  if (t.size() < 4 || t[0] != '\t') return false;
  std::size_t colon = text::find(t, ": from ");
  return colon != std::string_view::npos && colon > 1 && text::parse_uint(t.substr(1, colon - 1)) &&
         parse_location(t.substr(colon + 7)).has_value();
}

void on_reversed_header(Builder& b, std::string_view) { b.add_exception({}, std::nullopt); }

void on_reversed_from(Builder& b, std::string_view t) {
  Exception* e = b.current_exception();
  auto loc = parse_location(t.substr(text::find(t, ": from ") + 7));
  if (e != nullptr && loc && e->stacktrace.frames.size() < b.max_frames)
    e->stacktrace.frames.insert(e->stacktrace.frames.begin(), make_frame(*loc));
}

void on_reversed_headline(Builder& b, std::string_view t) {
  auto h = parse_headline(t);
  Exception* e = b.current_exception();
  if (!h || e == nullptr) return;
  e->type = std::string(h->type);
  if (h->value) e->value = std::string(*h->value);
  e->stacktrace.frames.insert(e->stacktrace.frames.begin(), make_frame(h->loc));
}

void on_thread_header(Builder& b, std::string_view t) {
  // "#<Thread:0x00007f…@name file.rb:3 run>" — the name follows '@' when set.
  std::string_view inner = t.substr(9, t.find('>') - 9);
  std::string_view id = inner.substr(0, text::find_either(inner, '@', ' '));
  std::string name;
  if (std::size_t at = inner.find('@'); at != std::string_view::npos) {
    std::string_view n = inner.substr(at + 1);
    name = std::string(n.substr(0, n.find(' ')));
  }
  Thread& th = b.add_thread(std::string(id), std::move(name));
  th.crashed = true;
}

struct SignalText {
  std::string_view text, name;
  int number;
};
constexpr SignalText kSignals[] = {
    {"Segmentation fault", "SIGSEGV", 11}, {"Bus Error", "SIGBUS", 7}, {"Bus error", "SIGBUS", 7},
    {"Illegal instruction", "SIGILL", 4},  {"Floating point exception", "SIGFPE", 8},
};

void on_bug(Builder& b, std::string_view t) {
  std::string_view msg = t.substr(text::find(t, "[BUG] ") + 6);
  const SignalText* sig = nullptr;
  for (const SignalText& s : kSignals)
    if (text::starts_with(msg, s.text)) sig = &s;
  // rb_bug() ends in abort(); a fault it reports names its signal.
  std::string type = sig ? std::string(sig->name) : "SIGABRT";
  Exception& e = b.add_exception(type, std::string(msg));
  e.mechanism.type = "signalhandler";
  e.mechanism.synthetic = true;
  e.mechanism.signal_name = type;
  e.mechanism.signal_number = sig ? sig->number : 6;
  b.counter = 1;  // frames of this report are printed oldest first
}

void on_bug_frame(Builder& b, std::string_view t) {
  if (auto loc = parse_location(t)) b.add_frame(make_frame(*loc));
}

bool is_section(std::string_view t) noexcept { return text::starts_with(t, "-- ") && text::ends_with(t, "---"); }
bool is_ruby_section(std::string_view t) noexcept {
  return is_section(t) && text::starts_with(t, "-- Ruby level backtrace");
}
bool is_last_section(std::string_view t) noexcept {
  return is_section(t) && text::starts_with(t, "-- Other runtime information");
}
// Lines of the other sections: version, control frames, registers, C backtrace.
bool is_bug_body(std::string_view t) noexcept {
  return is_blank(t) || (is_section(t) && !is_last_section(t)) || text::starts_with(t, "c:") ||
         text::starts_with(t, " ") || text::starts_with(t, "ruby ") ||
         (text::contains(t, " [0x") && text::ends_with(t, "]"));
}

bool finalize(CrashReport& r) {
  std::erase_if(r.exceptions, [](const Exception& e) { return e.type.empty(); });
  if (r.exceptions.empty()) return false;
  bool bug = r.exceptions.back().mechanism.type == "signalhandler";
  if (!bug) {
    for (Exception& e : r.exceptions)
      std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());  // printed newest first
    std::reverse(r.exceptions.begin(), r.exceptions.end());                    // the cause is printed after
  }
  for (Thread& t : r.threads)
    if (t.crashed) r.exceptions.back().thread_id = t.id;
  return true;
}

Spec ruby_spec() {
  Spec s;
  s.name = "ruby";
  s.runtime = "ruby";
  s.platform = "ruby";
  s.anchors = {":in `", ":in '", "#<Thread:", "[BUG] ", "Traceback (most recent call last):"};
  s.rules = {
      {S::Start, &is_headline, S::Head, &on_headline},
      {S::Start, &is_thread_header, S::ThreadHead, &on_thread_header},
      {S::Start, &is_bug, S::Bug, &on_bug},
      {S::Start, [](std::string_view t) { return t == "Traceback (most recent call last):"; }, S::Reversed,
       &on_reversed_header},
      {S::Reversed, &is_reversed_from, S::Reversed, &on_reversed_from},
      {S::Reversed, &is_headline, kEmit, &on_reversed_headline},
      {S::ThreadHead, &is_headline, S::Head, &on_headline},
      {S::Head, &is_from, S::Frames, &on_from},
      {S::Head, &is_levels, S::Frames},
      {S::Head, &is_blank, S::Highlight},
      {S::Head, &is_suggestion, S::Suggest},
      {S::Head, &is_indented, S::Head, [](Builder& b, std::string_view t) { b.append_value(t); }},
      {S::Head, &is_headline, S::Head, &on_headline, &is_cause},
      {S::Suggest, &is_indented, S::Suggest},
      {S::Suggest, &is_from, S::Frames, &on_from},
      {S::Suggest, &is_blank, S::Highlight},
      {S::Suggest, &is_headline, S::Head, &on_headline, &is_cause},
      {S::Highlight, [](std::string_view t) { return !is_blank(t) && !is_from(t); }, S::Caret},
      {S::Caret, &is_caret, S::Head},
      {S::Frames, &is_from, S::Frames, &on_from},
      {S::Frames, &is_levels, S::Frames},
      {S::Frames, &is_headline, S::Head, &on_headline, &is_cause},
      // The VM's crash report: sections until "-- Other runtime information".
      {S::Bug, &is_ruby_section, S::BugRuby},
      {S::Bug, &is_last_section, kEmit},
      {S::Bug, &is_bug_body, S::Bug},
      {S::BugRuby, [](std::string_view t) { return parse_location(t).has_value(); }, S::BugRuby, &on_bug_frame},
      {S::BugRuby, &is_blank, S::Bug},
      {S::BugRuby, &is_last_section, kEmit},
      {S::BugRuby, &is_section, S::Bug},
  };
  s.tolerant_states = {static_cast<int>(S::Frames)};
  s.tolerance = 4;
  s.finalize = &finalize;
  s.max_lines = 400;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_ruby_detector() { return std::make_unique<TableDetector>(ruby_spec()); }

}  // namespace crashwrap::parsers
