// Streaming crash detection: the interface every runtime detector implements,
// and the table-driven engine most of them are built from.
//
// A detector sees the child's lines one by one (event loop only, no I/O, no
// clock but the one passed in) and emits finished CrashReports. It keeps
// separate state per stream, so interleaved stdout/stderr never mix.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/model.h"

namespace crashwrap::parsers {

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view name() const noexcept = 0;
  // Literal substrings (≥ 2 bytes), one of which every line that can START a
  // report contains. The registry feeds an idle detector only lines that
  // contain one of its anchors: this is the no-crash fast path.
  virtual std::span<const std::string_view> anchors() const noexcept = 0;
  // Line number of the first line of the report in progress on `stream`.
  virtual std::optional<std::uint64_t> active_since(Stream stream) const noexcept = 0;
  virtual void feed(const Line& line, std::vector<CrashReport>& out) = 0;
  // Ends reports whose last line is older than `quiet` at `now`.
  virtual void flush(Timestamp now, std::chrono::milliseconds quiet, std::vector<CrashReport>& out) = 0;
  // Ends every report in progress (EOF, child exit).
  virtual void finish(std::vector<CrashReport>& out) = 0;
};

// ---------------------------------------------------------------------------
// The rule engine. A runtime is described as data: states, transitions
// {from, matcher, to, action} and a finalizer. The engine owns what is common
// to all runtimes: per-stream state, ANSI stripping, logging prefixes, caps on
// lines/bytes/frames, tolerance of interleaved lines, quiet-timeout and EOF.

// The report under construction, with the cursors rules write through.
class Builder {
 public:
  CrashReport report;
  bool frames_to_thread = false;  // add_frame goes to the current thread instead of the exception
  int counter = 0;                // free for a runtime's own bookkeeping
  std::string scratch;            // idem
  std::vector<int> marks;         // idem (e.g. one entry per exception added)

  Exception& add_exception(std::string type, std::optional<std::string> value, std::string module = {});
  Exception* current_exception() noexcept;  // the most recently added
  Thread& add_thread(std::string id, std::string name = {});
  Thread* current_thread() noexcept;
  // Adds to the current exception (creating none) or thread; ignored beyond the frame cap.
  void add_frame(Frame&& f);
  void add_frame(const Frame& f) { add_frame(Frame(f)); }
  // Appends a continuation line to the current exception's value.
  void append_value(std::string_view more);

  std::size_t max_frames = 512;   // per stack
  std::size_t dropped_frames = 0;
};

using Matcher = bool (*)(std::string_view text);
using Action = void (*)(Builder& b, std::string_view text);
// Optional second condition of a rule that needs the report so far (e.g. "this
// headline repeats one already in the report, so it starts a new report").
using Guard = bool (*)(const Builder& b, std::string_view text);

inline constexpr int kStart = 0;  // every runtime's state enum has Start = 0
inline constexpr int kEmit = -1;  // rule target: take this line, then end the report

struct Rule {
  int from;
  Matcher match;
  int to;
  Action apply = nullptr;
  Guard guard = nullptr;

  template <typename S>
  Rule(S from_state, Matcher m, S to_state, Action a = nullptr, Guard g = nullptr)
      : from(static_cast<int>(from_state)), match(m), to(static_cast<int>(to_state)), apply(a), guard(g) {}
  template <typename S>
  Rule(S from_state, Matcher m, int to_state, Action a = nullptr, Guard g = nullptr)
      : from(static_cast<int>(from_state)), match(m), to(to_state), apply(a), guard(g) {}
};

struct Spec {
  std::string_view name;        // detector name ("python")
  std::string_view runtime;     // CrashReport::runtime
  std::string_view platform;    // Sentry platform ("python")
  std::vector<std::string_view> anchors;
  std::vector<Rule> rules;
  // States where a line no rule matches is skipped (up to `tolerance` lines in
  // a row) instead of ending the report: formats whose continuation lines are
  // unambiguous survive interleaved output of other threads.
  std::vector<int> tolerant_states;
  int tolerance = 0;
  // Called once when a report ends; fixes frame order, in_app, types.
  // Returns false to discard an incomplete report.
  bool (*finalize)(CrashReport& r) = nullptr;
  std::size_t max_lines = 20000;      // lines per report (dumps of many goroutines)
  std::size_t max_raw_bytes = 512 * 1024;
};

class TableDetector final : public Detector {
 public:
  explicit TableDetector(Spec spec);

  std::string_view name() const noexcept override { return spec_.name; }
  std::span<const std::string_view> anchors() const noexcept override { return spec_.anchors; }
  std::optional<std::uint64_t> active_since(Stream stream) const noexcept override;
  void feed(const Line& line, std::vector<CrashReport>& out) override;
  void flush(Timestamp now, std::chrono::milliseconds quiet, std::vector<CrashReport>& out) override;
  void finish(std::vector<CrashReport>& out) override;

 private:
  struct PerStream {
    int state = kStart;
    Builder builder;
    std::string prefix_shape;   // logging prefix to strip from continuation lines
    std::size_t lines = 0;
    int skipped = 0;            // consecutive tolerated lines
    Timestamp last{};
  };

  PerStream& of(Stream s) noexcept { return streams_[s == Stream::Stdout ? 0 : 1]; }
  const Rule* match(int state, std::string_view text, const Builder& b) const noexcept;
  bool try_start(PerStream& ps, const Line& line, std::string_view text, std::vector<CrashReport>& out);
  void take(PerStream& ps, const Rule& rule, const Line& line, std::string_view text, std::vector<CrashReport>& out);
  void end(PerStream& ps, std::vector<CrashReport>& out);
  bool tolerant(int state) const noexcept;

  Spec spec_;
  std::vector<std::vector<std::size_t>> by_state_;  // indices of spec_.rules grouped by `from`, in table order
  PerStream streams_[2];
};

}  // namespace crashwrap::parsers
