// Python: tracebacks as printed by sys.excepthook / traceback.print_exc (with
// "During handling…" / "direct cause" chains), PEP 654 exception groups (the
// "|"-boxed format), bare SyntaxError blocks, threading.excepthook output, and
// faulthandler / Py_FatalError dumps.
//
// Exception groups: every line inside a group carries a margin of 2*depth
// spaces and "| " (Lib/traceback.py, _ExceptionPrintContext). The "G" states
// strip that margin before classifying a line; the plain states never do, so
// a source line that happens to start with "|" in an ordinary traceback is not
// mistaken for a box. Per exception, Builder::marks keeps its box depth, which
// gives each sub-exception its parent group (mechanism parent_id/source) while
// lines stream by; finalize() then lists them as the corpus and Sentry's group
// view expect: sub-exceptions in printed order, each group after its members.
#include <algorithm>
#include <functional>

#include "parsers/detectors.h"
#include "parsers/in_app.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

enum class S {
  Start = 0,
  ThreadHeader,  // "Exception in thread NAME:" seen
  Frames, AfterExc, Gap, ChainMsg, ChainNext,       // plain traceback
  GFrames, GAfterExc, GGap, GChainMsg, GChainNext,  // inside an exception group box
  Fatal, FatalFrames,                               // faulthandler / Py_FatalError
};

constexpr std::string_view kTraceback = "Traceback (most recent call last):";
constexpr std::string_view kGroupTraceback = "Exception Group Traceback (most recent call last):";
constexpr std::string_view kContextMsg = "During handling of the above exception, another exception occurred:";
constexpr std::string_view kCauseMsg = "The above exception was the direct cause of the following exception:";
constexpr std::string_view kFatal = "Fatal Python error: ";
constexpr std::string_view kThread = "Exception in thread ";

// Pending chain link kept in Builder::counter between a chain message and the
// next exception: link kind + 4 * box depth.
constexpr int kLinkContext = 1;
constexpr int kLinkCause = 2;

struct Boxed {
  int depth = 0;
  std::string_view content;
};

Boxed unbox(std::string_view t) noexcept {
  std::size_t n = 0;
  while (n < t.size() && t[n] == ' ') ++n;
  if (n < 2 || n % 2 != 0 || n >= t.size() || (t[n] != '|' && t[n] != '+')) return {0, t};
  if (n + 1 < t.size() && t[n + 1] != ' ') return {0, t};  // "+-+----" separators are not margins
  return {static_cast<int>(n / 2), n + 2 <= t.size() ? t.substr(n + 2) : std::string_view{}};
}

template <bool G>
std::string_view body(std::string_view t) noexcept {
  if constexpr (G) return unbox(t).content;
  return t;
}

template <bool G>
int depth_of(std::string_view t) noexcept {
  if constexpr (G) return unbox(t).depth;
  return 0;
}

// ---- line classification ------------------------------------------------------

struct FileLine {
  std::string_view path;
  std::optional<std::uint32_t> line;
  std::optional<std::string_view> function;  // absent on a SyntaxError location
};

// `  File "PATH", line N, in FUNC` (traceback), `  File "PATH", line N in FUNC`
// (faulthandler) or `  File "PATH", line N` (SyntaxError location).
std::optional<FileLine> parse_file_line(std::string_view c) noexcept {
  auto rest = text::after(c, "  File \"");
  if (!rest) return std::nullopt;
  text::Split s = text::split_last(*rest, "\", line ");
  if (!s.found || s.left.empty()) return std::nullopt;
  FileLine f;
  f.path = s.left;
  std::string_view tail = s.right;
  std::size_t i = 0;
  while (i < tail.size() && tail[i] >= '0' && tail[i] <= '9') ++i;
  if (i > 0) f.line = static_cast<std::uint32_t>(text::parse_uint(tail.substr(0, i)).value_or(0));
  else if (text::starts_with(tail, "???")) i = 3;
  else return std::nullopt;
  tail = tail.substr(i);
  if (tail.empty()) return f;
  if (auto fn = text::after(tail, ", in ")) f.function = *fn;
  else if (auto fn2 = text::after(tail, " in ")) f.function = *fn2;
  else return std::nullopt;
  return f;
}

bool is_file_line(std::string_view c) noexcept {
  auto f = parse_file_line(c);
  return f && f->function;
}
bool is_syntax_location(std::string_view c) noexcept {
  auto f = parse_file_line(c);
  return f && !f->function;
}

struct ExcLine {
  std::string_view type;
  std::optional<std::string_view> value;
};

// "pkg.mod.Type: message", "Type: message" or "Type" alone, at column 0.
std::optional<ExcLine> parse_exc_line(std::string_view c) noexcept {
  if (c.empty()) return std::nullopt;
  char c0 = c[0];
  if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z') || c0 == '_')) return std::nullopt;
  std::size_t i = 0;
  while (i < c.size() && (text::is_identifier_char(c[i]) || c[i] == '.')) ++i;
  std::string_view type = c.substr(0, i);
  if (type.back() == '.' || text::contains(type, "..")) return std::nullopt;
  if (i == c.size()) return ExcLine{type, std::nullopt};
  if (c[i] != ':') return std::nullopt;
  if (i + 1 == c.size()) return ExcLine{type, std::string_view{}};
  if (c[i + 1] != ' ') return std::nullopt;
  return ExcLine{type, c.substr(i + 2)};
}

bool is_exc_line(std::string_view c) noexcept { return parse_exc_line(c).has_value(); }
bool is_source(std::string_view c) noexcept { return text::indent(c) >= 4 && !text::trim(c).empty(); }
bool is_repeat(std::string_view c) noexcept {
  return text::starts_with(text::trim_left(c), "[Previous line repeated ");
}
bool is_blank(std::string_view c) noexcept { return text::trim(c).empty(); }
// An indented line after the exception line continues its message, unless it
// is the start of the next report (a SyntaxError block).
bool is_continuation(std::string_view c) noexcept {
  return text::indent(c) > 0 && !is_blank(c) && !text::starts_with(c, "  File \"");
}

// Group separators: "+-+---------------- 1 ----------------" (first member),
// "  +---------------- 2 ----------------" (next ones; "..." when truncated),
// "+------------------------------------" (closing line).
struct Separator {
  int group_depth = 0;   // box depth of the group the members belong to
  int index = -1;        // 0-based member index; -1 = closing line or "..."
  bool closing = false;  // the line that closes the box
};

std::optional<Separator> parse_separator(std::string_view t) noexcept {
  std::size_t n = text::indent(t);
  std::string_view s = t.substr(n);
  Separator sep;
  if (text::starts_with(s, "+-+-")) {
    sep.group_depth = static_cast<int>(n / 2);
    s = s.substr(2);
  } else if (text::starts_with(s, "+---")) {
    sep.group_depth = static_cast<int>(n >= 2 ? (n - 2) / 2 : 0);
  } else {
    return std::nullopt;
  }
  std::size_t rule = 0;  // the "+-+----" drawing before the label
  while (rule < s.size() && (s[rule] == '+' || s[rule] == '-')) ++rule;
  std::string_view label = text::trim(s.substr(rule));
  while (!label.empty() && label.back() == '-') label.remove_suffix(1);
  label = text::trim(label);
  sep.closing = label.empty();
  if (auto v = text::parse_uint(label); v && *v > 0) sep.index = static_cast<int>(*v - 1);
  return sep;
}

bool is_separator(std::string_view t) noexcept {
  auto sep = parse_separator(t);
  return sep && !sep->closing;
}
bool is_closing(std::string_view t) noexcept {
  auto sep = parse_separator(t);
  return sep && sep->closing;
}
bool is_first_separator(std::string_view t) noexcept {
  return text::starts_with(text::trim_left(t), "+-+-") && is_separator(t);
}

bool is_group_header(std::string_view t) noexcept { return unbox(t).content == kGroupTraceback; }

bool is_thread_header(std::string_view t) noexcept {
  return text::starts_with(t, kThread) && t.size() > kThread.size() + 1 && t.back() == ':';
}

bool is_fatal(std::string_view t) noexcept { return text::starts_with(t, kFatal) && t.size() > kFatal.size(); }

// faulthandler thread headers: "Current thread 0x… (most recent call first):",
// "Thread 0x… (most recent call first):", "Stack (most recent call first):",
// "Traceback (most recent call first):".
bool is_dump_header(std::string_view t) noexcept {
  return text::ends_with(t, "(most recent call first):") &&
         (text::starts_with(t, "Current thread ") || text::starts_with(t, "Thread ") ||
          text::starts_with(t, "Stack ") || text::starts_with(t, "Traceback "));
}

// ---- building -------------------------------------------------------------------

Frame make_frame(const FileLine& fl) {
  Frame f;
  f.function = std::string(fl.function.value_or(""));
  f.abs_path = std::string(fl.path);
  f.lineno = fl.line;
  std::string_view path = fl.path;
  bool library = is_library_path(path);
  f.in_app = !library;
  // As the SDK does, name library files relative to their import root, which
  // also gives their module ("json/decoder.py" → "json.decoder").
  std::string_view rel;
  for (std::string_view marker : {"/site-packages/", "/dist-packages/"}) {
    std::size_t p = path.find(marker);
    if (p != std::string_view::npos) rel = path.substr(p + marker.size());
  }
  if (rel.empty()) {
    std::size_t p = text::find(path, "/lib/python");
    if (p != std::string_view::npos) {
      std::size_t slash = path.find('/', p + 11);
      if (slash != std::string_view::npos) rel = path.substr(slash + 1);
    }
  }
  if (!rel.empty() && text::ends_with(rel, ".py")) {
    f.filename = std::string(rel);
    std::string mod(rel.substr(0, rel.size() - 3));
    if (text::ends_with(mod, "/__init__")) mod.resize(mod.size() - 9);
    std::replace(mod.begin(), mod.end(), '/', '.');
    f.module = std::move(mod);
  } else if (!path.empty() && path[0] == '<') {
    f.filename = std::string(path);
  } else {
    f.filename = std::string(text::basename(path));
  }
  return f;
}

// A new exception at box `depth`, linked to a chain message or its group.
Exception& open_exception(Builder& b, int depth) {
  int index = static_cast<int>(b.report.exceptions.size());
  Exception& e = b.add_exception({}, std::nullopt);
  e.mechanism.type = "excepthook";
  e.mechanism.exception_id = index;
  b.marks.push_back(depth);
  if (b.counter != 0 && b.counter / 4 == depth) {
    // The previous exception at this depth is this one's cause or context.
    for (int i = index - 1; i >= 0; --i) {
      if (b.marks[static_cast<std::size_t>(i)] != depth) continue;
      Mechanism& m = b.report.exceptions[static_cast<std::size_t>(i)].mechanism;
      m.parent_id = index;
      m.source = b.counter % 4 == kLinkCause ? "__cause__" : "__context__";
      break;
    }
  }
  b.counter = 0;
  if (depth >= 2) {
    for (int i = index - 1; i >= 0; --i) {
      Exception& g = b.report.exceptions[static_cast<std::size_t>(i)];
      if (b.marks[static_cast<std::size_t>(i)] != depth - 1 || !g.mechanism.is_exception_group) continue;
      e.mechanism.parent_id = i;
      std::size_t slot = static_cast<std::size_t>(depth);
      int member = slot < b.scratch.size() ? static_cast<unsigned char>(b.scratch[slot]) : 0;
      e.mechanism.source = "exceptions[" + std::to_string(member) + "]";
      break;
    }
  }
  return b.report.exceptions.back();
}

template <bool G>
void on_traceback(Builder& b, std::string_view t) {
  open_exception(b, depth_of<G>(t));
}

void on_group_traceback(Builder& b, std::string_view t) { open_exception(b, unbox(t).depth); }

template <bool G>
void on_frame(Builder& b, std::string_view t) {
  if (auto fl = parse_file_line(body<G>(t))) b.add_frame(make_frame(*fl));
}

template <bool G>
void on_exception_line(Builder& b, std::string_view t) {
  auto x = parse_exc_line(body<G>(t));
  if (!x) return;
  Exception* e = b.current_exception();
  if (e == nullptr || !e->type.empty() || b.frames_to_thread) e = &open_exception(b, depth_of<G>(t));
  std::string_view type = x->type;
  text::Split s = text::split_last(type, ".");
  if (s.found) {
    e->module = std::string(s.left);
    type = s.right;
  }
  e->type = std::string(type);
  if (x->value) e->value = std::string(*x->value);
}

template <bool G>
void on_continuation(Builder& b, std::string_view t) {
  b.append_value(text::trim_right(body<G>(t)));
}

template <bool G>
void on_context(Builder& b, std::string_view t) {
  b.counter = kLinkContext + 4 * depth_of<G>(t);
}
template <bool G>
void on_cause(Builder& b, std::string_view t) {
  b.counter = kLinkCause + 4 * depth_of<G>(t);
}

void on_separator(Builder& b, std::string_view t) {
  auto sep = parse_separator(t);
  if (!sep) return;
  if (is_first_separator(t)) {
    // The exception printed last at the group's depth is the group.
    for (std::size_t i = b.marks.size(); i-- > 0;) {
      if (b.marks[i] != sep->group_depth) continue;
      b.report.exceptions[i].mechanism.is_exception_group = true;
      break;
    }
  }
  std::size_t slot = static_cast<std::size_t>(sep->group_depth + 1);
  if (sep->index >= 0 && slot < 64) {
    if (b.scratch.size() <= slot) b.scratch.resize(slot + 1, '\0');
    b.scratch[slot] = static_cast<char>(std::min(sep->index, 255));
  }
  b.counter = 0;
}

void on_thread_header(Builder& b, std::string_view t) {
  std::string_view name = t.substr(kThread.size(), t.size() - kThread.size() - 1);
  Thread& th = b.add_thread(std::string(name), std::string(name));
  th.crashed = true;
}

struct SignalText {
  std::string_view text, name;
  int number;
};
constexpr SignalText kSignals[] = {
    {"Segmentation fault", "SIGSEGV", 11}, {"Aborted", "SIGABRT", 6},
    {"Bus error", "SIGBUS", 7},            {"Illegal instruction", "SIGILL", 4},
    {"Floating-point exception", "SIGFPE", 8}, {"Floating point exception", "SIGFPE", 8},
};

void on_fatal(Builder& b, std::string_view t) {
  std::string_view msg = t.substr(kFatal.size());
  // A fault the handler caught names its signal; any other fatal error ends in abort().
  const SignalText* sig = nullptr;
  for (const SignalText& s : kSignals)
    if (msg == s.text) sig = &s;
  Exception& e = b.add_exception(sig ? std::string(sig->name) : "SIGABRT", std::string(msg));
  e.mechanism.type = "signalhandler";
  e.mechanism.synthetic = true;
  e.mechanism.signal_name = sig ? std::string(sig->name) : "SIGABRT";
  e.mechanism.signal_number = sig ? sig->number : 6;
}

void on_dump_header(Builder& b, std::string_view t) {
  std::string id;
  bool current = text::starts_with(t, "Current thread ") || text::starts_with(t, "Stack ") ||
                 text::starts_with(t, "Traceback ");
  if (auto rest = text::after(t, current ? "Current thread " : "Thread ")) id = std::string(rest->substr(0, rest->find(' ')));
  Thread& th = b.add_thread(std::move(id));
  th.crashed = current;
  th.current = current;
}

// ---- finishing --------------------------------------------------------------------

// Lists exceptions so that each one follows everything attached to it (its
// chained causes, a group's members), keeping printed order otherwise; ids are
// renumbered from the root (0) as the SDK does.
void order_group(std::vector<Exception>& ex) {
  const int n = static_cast<int>(ex.size());
  std::vector<std::vector<int>> children(static_cast<std::size_t>(n));
  std::vector<int> roots;
  for (int i = 0; i < n; ++i) {
    auto p = ex[static_cast<std::size_t>(i)].mechanism.parent_id;
    if (p && *p >= 0 && *p < n && *p != i)
      children[static_cast<std::size_t>(*p)].push_back(i);
    else
      roots.push_back(i);
  }
  std::vector<int> order;
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  std::function<void(int)> visit = [&](int i) {
    if (seen[static_cast<std::size_t>(i)]) return;
    seen[static_cast<std::size_t>(i)] = 1;
    for (int c : children[static_cast<std::size_t>(i)]) visit(c);
    order.push_back(i);
  };
  for (int r : roots) visit(r);
  std::vector<int> new_id(static_cast<std::size_t>(n));
  for (int pos = 0; pos < n; ++pos) new_id[static_cast<std::size_t>(order[static_cast<std::size_t>(pos)])] = n - 1 - pos;
  std::vector<Exception> out;
  out.reserve(ex.size());
  for (int i : order) {
    Exception e = std::move(ex[static_cast<std::size_t>(i)]);
    e.mechanism.exception_id = new_id[static_cast<std::size_t>(i)];
    if (e.mechanism.parent_id) e.mechanism.parent_id = new_id[static_cast<std::size_t>(*e.mechanism.parent_id)];
    out.push_back(std::move(e));
  }
  ex = std::move(out);
}

bool finalize(CrashReport& r) {
  std::erase_if(r.exceptions, [](const Exception& e) { return e.type.empty(); });
  if (r.exceptions.empty()) return false;
  bool dump = r.exceptions.back().mechanism.type == "signalhandler";
  for (Thread& t : r.threads) {
    if (dump) std::reverse(t.stacktrace.frames.begin(), t.stacktrace.frames.end());  // printed newest first
    if (!t.crashed) continue;
    Exception& last = r.exceptions.back();
    last.thread_id = t.id;
    if (dump && last.stacktrace.frames.empty()) last.stacktrace.frames = std::move(t.stacktrace.frames);
    t.stacktrace.frames.clear();
    if (!dump)
      for (Exception& e : r.exceptions) e.mechanism.type = "threading";
  }
  bool group = std::any_of(r.exceptions.begin(), r.exceptions.end(),
                           [](const Exception& e) { return e.mechanism.is_exception_group; });
  if (group) {
    order_group(r.exceptions);
  } else {
    for (Exception& e : r.exceptions) {
      e.mechanism.exception_id.reset();
      e.mechanism.parent_id.reset();
      e.mechanism.source.clear();
    }
  }
  return true;
}

// ---- the table ----------------------------------------------------------------------

template <bool G>
void add_trace_rules(std::vector<Rule>& rules) {
  const S F = G ? S::GFrames : S::Frames, A = G ? S::GAfterExc : S::AfterExc, Gp = G ? S::GGap : S::Gap;
  const S CM = G ? S::GChainMsg : S::ChainMsg, CN = G ? S::GChainNext : S::ChainNext;
  rules.insert(rules.end(), {
      {F, [](std::string_view t) { return is_file_line(body<G>(t)); }, F, &on_frame<G>},
      {F, [](std::string_view t) { return is_syntax_location(body<G>(t)); }, F},
      {F, [](std::string_view t) { return is_repeat(body<G>(t)); }, F},
      {F, [](std::string_view t) { return is_source(body<G>(t)); }, F},
      {F, [](std::string_view t) { return is_exc_line(body<G>(t)); }, A, &on_exception_line<G>},
  });
  if constexpr (G) {
    rules.insert(rules.end(), {
        {A, &is_separator, CN, &on_separator},
        {A, &is_closing, A},
        {A, [](std::string_view t) { return text::starts_with(body<G>(t), "and ") && text::contains(t, " more exception"); }, A},
    });
  }
  rules.insert(rules.end(), {
      {A, [](std::string_view t) { return is_blank(body<G>(t)); }, Gp},
      {A, [](std::string_view t) { return is_continuation(body<G>(t)); }, A, &on_continuation<G>},
      {Gp, [](std::string_view t) { return body<G>(t) == kContextMsg; }, CM, &on_context<G>},
      {Gp, [](std::string_view t) { return body<G>(t) == kCauseMsg; }, CM, &on_cause<G>},
      {CM, [](std::string_view t) { return is_blank(body<G>(t)); }, CN},
      {CN, [](std::string_view t) { return body<G>(t) == kTraceback; }, F, &on_traceback<G>},
      {CN, &is_group_header, S::GFrames, &on_group_traceback},
      {CN, [](std::string_view t) { return is_exc_line(body<G>(t)); }, A, &on_exception_line<G>},
  });
  if constexpr (G) rules.push_back({CN, [](std::string_view t) { return text::starts_with(body<G>(t), "... (max_group_depth"); }, A});
}

Spec python_spec() {
  Spec s;
  s.name = "python";
  s.runtime = "python";
  s.platform = "python";
  s.anchors = {kTraceback, "Exception Group Traceback", kThread, kFatal, "File \""};
  s.rules = {
      {S::Start, [](std::string_view t) { return t == kTraceback; }, S::Frames, &on_traceback<false>},
      {S::Start, [](std::string_view t) { return unbox(t).depth == 1 && is_group_header(t); }, S::GFrames,
       &on_group_traceback},
      {S::Start, &is_thread_header, S::ThreadHeader, &on_thread_header},
      {S::Start, &is_fatal, S::Fatal, &on_fatal},
      {S::Start, &is_syntax_location, S::Frames, &on_traceback<false>},
      {S::ThreadHeader, [](std::string_view t) { return t == kTraceback; }, S::Frames, &on_traceback<false>},
      {S::ThreadHeader, &is_group_header, S::GFrames, &on_group_traceback},
      {S::Fatal, &is_blank, S::Fatal},
      {S::Fatal, [](std::string_view t) { return text::starts_with(t, "Python runtime state: "); }, S::Fatal},
      {S::Fatal, &is_dump_header, S::FatalFrames, &on_dump_header},
      {S::FatalFrames, &is_file_line, S::FatalFrames, &on_frame<false>},
      {S::FatalFrames, [](std::string_view t) { return text::starts_with(t, "  <") || t == "  ..." || t == "  Garbage-collecting"; },
       S::FatalFrames},
      {S::FatalFrames, &is_blank, S::Fatal},
      {S::FatalFrames, &is_dump_header, S::FatalFrames, &on_dump_header},
      {S::Fatal, [](std::string_view t) { return text::starts_with(t, "Extension modules: "); }, kEmit},
      {S::FatalFrames, [](std::string_view t) { return text::starts_with(t, "Extension modules: "); }, kEmit},
  };
  add_trace_rules<false>(s.rules);
  add_trace_rules<true>(s.rules);
  s.tolerant_states = {static_cast<int>(S::Frames), static_cast<int>(S::GFrames), static_cast<int>(S::ThreadHeader),
                       static_cast<int>(S::FatalFrames)};
  s.tolerance = 8;
  s.finalize = &finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_python_detector() { return std::make_unique<TableDetector>(python_spec()); }

}  // namespace crashwrap::parsers
