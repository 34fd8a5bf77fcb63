// Java (and every JVM language printing Throwable.printStackTrace()):
//
//   Exception in thread "main" java.lang.IllegalStateException: request 42 failed
//   	at Main.handleRequest(Main.java:27)
//   	at java.base/java.lang.Thread.run(Thread.java:840)
//   	Suppressed: java.io.IOException: close failed
//   		at Main.close(Main.java:40)
//   		... 2 more
//   Caused by: java.io.UncheckedIOException: repository failure
//   	at Main$Service.find(Main.java:18)
//   	... 1 more
//
// and the same trace without the "Exception in thread" header when a
// logging framework prints it ("pkg.SomeException: msg" + "\tat" lines;
// logback writes "... N common frames omitted" instead of "... N more").
//
// Decisions:
// - Printed order is outermost exception first, frames newest first; the
//   report holds the chain root cause first and frames oldest first (Sentry).
// - "... N more" stands for the N oldest frames of the enclosing trace.
//   Sentry's Java SDK sends every cause with its complete stack
//   (Throwable.getStackTrace()), so those frames are copied from the
//   enclosing exception.
// - "Suppressed:" blocks are not part of the cause chain and are skipped.
// - The JVM prints at most 1024 frames per trace (MaxJavaStackTraceDepth);
//   the frame cap is raised to that so a StackOverflowError keeps them all.
#include <algorithm>

#include "parsers/detectors.h"
#include "parsers/exception_tree.h"
#include "parsers/jvm_frames.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S { Start = 0, Header, Frames, Suppressed };

constexpr std::string_view kThreadHeader = "Exception in thread \"";
constexpr std::size_t kJvmMaxDepth = 1024;

// `Exception in thread "NAME" java.lang.X: msg` → {NAME, throwable part}.
struct ThreadHeader {
  std::string_view thread;
  std::string_view throwable;
};
std::optional<ThreadHeader> parse_thread_header(std::string_view t) {
  auto rest = text::after(t, kThreadHeader);
  if (!rest) return std::nullopt;
  auto q = text::find(*rest, "\" ");
  if (q == std::string_view::npos) return std::nullopt;
  return ThreadHeader{rest->substr(0, q), rest->substr(q + 2)};
}

bool is_thread_header(std::string_view t) {
  auto h = parse_thread_header(t);
  return h && jvm::parse_throwable(h->throwable, false);
}

// `Exception: java.lang.X thrown from the UncaughtExceptionHandler in thread "NAME"`
struct HandlerFailure {
  std::string_view cls;
  std::string_view thread;
};
std::optional<HandlerFailure> parse_handler_failure(std::string_view t) {
  auto rest = text::after(t, "Exception: ");
  if (!rest) return std::nullopt;
  auto split = text::split_first(*rest, " thrown from the UncaughtExceptionHandler in thread \"");
  if (!split.found || !jvm::is_class_name(split.left) || !text::ends_with(split.right, "\"")) return std::nullopt;
  return HandlerFailure{split.left, split.right.substr(0, split.right.size() - 1)};
}

// -XX:+ExitOnOutOfMemoryError announces the error and ends the JVM without a
// stack trace. (+CrashOnOutOfMemoryError's "Aborting due to …" is followed by
// the fatal error banner, which is the report.)
std::optional<std::string_view> oom_exit_throwable(std::string_view t) {
  auto rest = text::after(t, "Terminating due to ");
  if (rest && starts_with(*rest, "java.lang.OutOfMemoryError")) return rest;
  return std::nullopt;
}

std::optional<std::string_view> caused_by(std::string_view t) {
  auto rest = text::after(text::trim_left(t), "Caused by: ");
  if (!rest || !jvm::parse_throwable(*rest, false)) return std::nullopt;
  return rest;
}

bool is_more(std::string_view t) { return jvm::more_count(t).has_value(); }
bool is_suppressed(std::string_view t) {
  return text::indent(t) > 0 && starts_with(text::trim_left(t), "Suppressed: ");
}
// An indented line between a header and the first frame continues the
// message (e.g. PostgreSQL's "  Position: 15").
bool is_value_continuation(std::string_view t) {
  if (text::indent(t) == 0 || text::trim(t).empty()) return false;
  return !jvm::is_frame(t) && !is_more(t) && !caused_by(t) && !is_suppressed(t);
}

Exception& add_throwable(Builder& b, std::string_view throwable) {
  auto th = jvm::parse_throwable(throwable, false);
  b.max_frames = kJvmMaxDepth;
  if (!th) return b.add_exception(std::string(throwable), std::nullopt);
  auto [module, type] = jvm::split_class(th->cls);
  std::optional<std::string> value;
  if (th->message) value = std::string(*th->message);
  return b.add_exception(std::string(type), std::move(value), std::string(module));
}

void add_thread_exception(Builder& b, std::string_view thread, std::string_view throwable) {
  Thread& t = b.add_thread(std::string(thread), std::string(thread));
  t.crashed = true;
  t.current = true;
  Exception& e = add_throwable(b, throwable);
  e.mechanism.type = "UncaughtExceptionHandler";
  e.thread_id = std::string(thread);
}

void on_thread_header(Builder& b, std::string_view t) {
  auto h = parse_thread_header(t);
  add_thread_exception(b, h->thread, h->throwable);
}

void on_handler_failure(Builder& b, std::string_view t) {
  auto h = parse_handler_failure(t);
  add_thread_exception(b, h->thread, h->cls);
}

void on_oom_exit(Builder& b, std::string_view t) {
  add_throwable(b, *oom_exit_throwable(t)).mechanism.type = "UncaughtExceptionHandler";
}

void on_bare_header(Builder& b, std::string_view t) { add_throwable(b, t); }

void on_caused_by(Builder& b, std::string_view t) {
  Exception& e = add_throwable(b, *caused_by(t));
  e.mechanism.type = "chained";
  e.mechanism.source = "cause";
}

void on_frame(Builder& b, std::string_view t) {
  if (auto f = jvm::parse_frame(t)) b.add_frame(std::move(*f));
}

void on_value_continuation(Builder& b, std::string_view t) { b.append_value(t); }

// "... N more": the N oldest frames of the enclosing exception (printed just
// before, frames still newest first) complete this one.
void on_more(Builder& b, std::string_view t) {
  auto& ex = b.report.exceptions;
  if (ex.size() < 2) return;
  std::size_t n = static_cast<std::size_t>(*jvm::more_count(t));
  const std::vector<Frame> enclosing = ex[ex.size() - 2].stacktrace.frames;
  std::size_t from = enclosing.size() > n ? enclosing.size() - n : 0;
  for (std::size_t i = from; i < enclosing.size(); ++i) b.add_frame(enclosing[i]);
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  std::size_t frames = 0;
  for (const Exception& e : r.exceptions) frames += e.stacktrace.frames.size();
  // Without the "Exception in thread" header only the frames prove a trace.
  if (frames == 0 && r.threads.empty() && r.exceptions.front().mechanism.type == "generic") return false;
  for (Exception& e : r.exceptions) std::reverse(e.stacktrace.frames.begin(), e.stacktrace.frames.end());
  // Each "Caused by:" is held by the exception printed before it.
  for (std::size_t i = 0; i < r.exceptions.size(); ++i) {
    Mechanism& m = r.exceptions[i].mechanism;
    m.exception_id = static_cast<int>(i);
    if (i > 0) m.parent_id = static_cast<int>(i) - 1;
  }
  order_oldest_first(r.exceptions);
  return true;
}

Spec java_spec() {
  Spec s;
  s.name = "java";
  s.runtime = "java";
  s.platform = "java";
  // Every start line names its throwable class, and JVM throwables are
  // Exceptions, Errors or Throwables by convention.
  s.anchors = {"Exception", "Error", "Throwable"};
  s.rules = {
      {S::Start, is_thread_header, S::Header, on_thread_header},
      {S::Start, [](std::string_view t) { return parse_handler_failure(t).has_value(); }, kEmit, on_handler_failure},
      {S::Start, [](std::string_view t) { return oom_exit_throwable(t).has_value(); }, kEmit, on_oom_exit},
      {S::Start, [](std::string_view t) { return jvm::parse_throwable(t, true).has_value(); }, S::Header, on_bare_header},

      {S::Header, jvm::is_frame, S::Frames, on_frame},
      {S::Header, [](std::string_view t) { return caused_by(t).has_value(); }, S::Header, on_caused_by},
      {S::Header, is_suppressed, S::Suppressed},
      {S::Header, is_value_continuation, S::Header, on_value_continuation},

      {S::Frames, jvm::is_frame, S::Frames, on_frame},
      {S::Frames, is_more, S::Frames, on_more},
      {S::Frames, [](std::string_view t) { return caused_by(t).has_value(); }, S::Header, on_caused_by},
      {S::Frames, is_suppressed, S::Suppressed},

      // Inside a suppressed block everything is indented; an unindented
      // "Caused by:" continues the main chain.
      {S::Suppressed, [](std::string_view t) { return text::indent(t) == 0 && caused_by(t).has_value(); }, S::Header,
       on_caused_by},
      {S::Suppressed,
       [](std::string_view t) {
         return text::indent(t) > 0 && (jvm::is_frame(t) || is_more(t) || caused_by(t) || is_suppressed(t));
       },
       S::Suppressed},
  };
  // Frame lines are unambiguous: a few lines of other output in between are skipped.
  s.tolerant_states = {static_cast<int>(S::Frames), static_cast<int>(S::Suppressed)};
  s.tolerance = 3;
  s.finalize = finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_java_detector() { return std::make_unique<TableDetector>(java_spec()); }

}  // namespace crashwrap::parsers
