// The shared data model of crashwrap: what flows from the child's output and
// its ending into events. Plain values, no I/O, safe to copy between stages.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashwrap::parsers {

using Clock = std::chrono::system_clock;
using Timestamp = Clock::time_point;

enum class Stream : std::uint8_t { Stdout = 1, Stderr = 2 };

std::string_view stream_name(Stream s) noexcept;  // "stdout" | "stderr"

// One line of child output as the analysis sees it. `text` excludes the LF and
// a trailing CR, and is cut at the analysis cap; `cut_bytes` counts what was
// cut (passthrough never loses those bytes). `text` is only valid for the
// duration of the call that receives the Line.
struct Line {
  Stream stream = Stream::Stderr;
  Timestamp time{};
  std::string_view text;
  std::uint64_t number = 0;     // 1-based, per stream
  std::size_t cut_bytes = 0;    // bytes beyond the analysis cap
};

// A line kept after the call that saw it (output tail, breadcrumbs, flight recorder).
struct LogLine {
  Stream stream = Stream::Stderr;
  Timestamp time{};
  std::string text;             // analysis copy: no LF/CR, cut at the cap
};

struct Frame {
  std::string function;
  std::string module;           // module / package / class, runtime-specific
  std::string filename;
  std::string abs_path;
  std::optional<std::uint32_t> lineno;
  std::optional<std::uint32_t> colno;
  std::string instruction_addr; // "0x…" when known
  std::string package;          // native: the binary/library (e.g. /lib/x86_64-linux-gnu/libc.so.6)
  std::optional<bool> in_app;
  // Source context, filled by the event builder where the file is readable.
  std::vector<std::string> pre_context;
  std::optional<std::string> context_line;
  std::vector<std::string> post_context;
};

// Member by member (every member above): what std::reverse and std::sort use,
// cheaper than the three moves of the generic swap.
void swap(Frame& a, Frame& b) noexcept;

struct Mechanism {
  std::string type = "generic";  // e.g. "crashwrap", "crashwrap.log", "excepthook"
  bool handled = false;
  bool synthetic = false;
  std::optional<int> signal_number;
  std::string signal_name;
  std::optional<int> exception_id;   // for chained / grouped exceptions
  std::optional<int> parent_id;
  bool is_exception_group = false;
  std::string source;                // e.g. "__cause__", "__context__", "exceptions[0]"
};

struct Stacktrace {
  std::vector<Frame> frames;  // OLDEST first (Sentry order)
};

struct Exception {
  std::string type;
  std::optional<std::string> value;   // nullopt = no message
  std::string module;
  Mechanism mechanism;
  Stacktrace stacktrace;
  std::optional<std::string> thread_id;
};

struct Thread {
  std::string id;
  std::string name;
  std::string state;       // e.g. "running", "chan receive"
  bool crashed = false;
  bool current = false;
  Stacktrace stacktrace;   // OLDEST first
};

enum class Level : std::uint8_t { Debug, Info, Warning, Error, Fatal };
std::string_view level_name(Level l) noexcept;

// One recognised crash report in the child's output.
struct CrashReport {
  std::string runtime;          // detector family: "python", "java", "jvm-fatal", "go", …
  std::string platform;         // Sentry platform the runtime's SDK sends: "python", "java", "node", …
  Level level = Level::Error;   // Error while the child runs; Fatal once joined with a failing exit
  bool handled = true;
  std::vector<Exception> exceptions;  // OLDEST cause first; the final exception last
  std::vector<Thread> threads;
  std::string raw;              // the report's lines as seen (analysis copy), '\n'-joined
  Stream stream = Stream::Stderr;
  std::uint64_t first_line = 0; // Line::number of the first and last line
  std::uint64_t last_line = 0;
  Timestamp first_time{};
  Timestamp last_time{};
  std::string attachment_path;  // a file the report names (e.g. hs_err_pid…log), read by the sink
  std::vector<std::pair<std::string, std::string>> tags;   // e.g. from a JSON log line
  std::vector<std::pair<std::string, std::string>> extra;
  // The output only means a crash when the process then fails (Perl's die
  // prints what warn prints): the verdict drops it instead of reporting a
  // handled error.
  bool fatal_only = false;
};

// How the child process ended, with the evidence used to decide it.
enum class ExitKind : std::uint8_t {
  Clean,      // exit 0
  ErrorExit,  // exit N != 0
  Signal,     // terminated by a signal
  OomKilled,  // terminated (or ended) with cgroup OOM-kill evidence
  Unknown,    // previous run found dead by the flight recorder
};

struct OomEvidence {
  std::string source;            // "memory.events" (v2) | "memory.oom_control" (v1)
  std::string cgroup;            // cgroup path the counter was read from
  std::uint64_t oom_kill_before = 0;
  std::uint64_t oom_kill_after = 0;
  std::optional<std::uint64_t> memory_limit;   // bytes, when the cgroup has one
  std::optional<std::uint64_t> memory_peak;    // bytes, when readable
  bool increased() const noexcept { return oom_kill_after > oom_kill_before; }
};

struct ExitInfo {
  ExitKind kind = ExitKind::Clean;
  int code = 0;                  // exit status for Clean/ErrorExit (and OomKilled via exit)
  int signal = 0;                // signal number for Signal/OomKilled-by-signal
  std::string signal_name;       // "SIGSEGV"
  bool core_dumped = false;
  std::optional<OomEvidence> oom;
  std::optional<std::uint64_t> last_rss;       // bytes, last sampled RSS of the child
  std::chrono::milliseconds duration{0};
  // One-phrase description for the summary line: "died of SIGSEGV", "exited with code 3", "was OOM-killed".
  std::string describe() const;
};

}  // namespace crashwrap::parsers
