#include "feed.h"

#include <random>
#include <vector>

#include "parsers/registry.h"

namespace crashwrap::fuzz {
namespace {

using parsers::CrashReport;

// The caps the detectors promise (detector.h Builder::max_frames, Spec::max_raw_bytes /
// max_lines, the JSON-log raw cap), with room for the one line that crosses them.
constexpr std::size_t kMaxFrames = 1024;  // the Java detector keeps the JVM's own 1024 (MaxJavaStackTraceDepth)
constexpr std::size_t kMaxRaw = 512 * 1024 + 16 * 1024;
constexpr std::size_t kMaxStacks = 20000;
constexpr std::size_t kMaxValue = 1024 * 1024;

std::optional<std::string> check_report(const CrashReport& r, std::size_t lines) {
  if (r.raw.size() > kMaxRaw) return "raw text of " + std::to_string(r.raw.size()) + " bytes";
  if (r.exceptions.size() > kMaxStacks || r.threads.size() > kMaxStacks) return "too many exceptions or threads";
  if (r.exceptions.empty() && r.threads.empty()) return "a report with neither exceptions nor threads";
  if (r.first_line == 0 || r.first_line > r.last_line || r.last_line > lines)
    return "line range " + std::to_string(r.first_line) + "-" + std::to_string(r.last_line) + " outside 1-" +
           std::to_string(lines);
  if (r.runtime.empty() || r.platform.empty()) return "a report without runtime or platform";
  for (const auto& e : r.exceptions) {
    if (e.stacktrace.frames.size() > kMaxFrames) return "an exception with " + std::to_string(e.stacktrace.frames.size()) + " frames";
    if (e.value && e.value->size() > kMaxValue) return "an exception value of " + std::to_string(e.value->size()) + " bytes";
    if (e.type.size() > kMaxValue) return "an exception type of " + std::to_string(e.type.size()) + " bytes";
  }
  for (const auto& t : r.threads)
    if (t.stacktrace.frames.size() > kMaxFrames) return "a thread with " + std::to_string(t.stacktrace.frames.size()) + " frames";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> feed_and_check(std::string_view input, const FeedOptions& options, FeedStats& stats) {
  auto started = std::chrono::steady_clock::now();
  std::string error;
  auto reg = parsers::Registry::create({}, error);
  if (!reg) return "registry: " + error;
  std::mt19937_64 rng(options.seed);
  if (rng() % 4 == 0) reg->set_in_app_rules({"main", "/tmp/app"}, {"std::", "runtime"});
  std::vector<CrashReport> out;
  std::uint64_t numbers[2] = {0, 0};
  auto t0 = parsers::Timestamp{} + std::chrono::hours(24 * 365 * 50);
  std::size_t total = 0;
  for (std::size_t pos = 0; pos < input.size();) {
    std::size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view text = input.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    parsers::Line line;
    bool out_stream = options.interleave && rng() % 5 == 0;
    line.stream = out_stream ? parsers::Stream::Stdout : parsers::Stream::Stderr;
    line.number = ++numbers[out_stream ? 0 : 1];
    line.time = t0 + std::chrono::milliseconds(total);
    line.cut_bytes = text.size() > options.line_cap ? text.size() - options.line_cap : 0;
    line.text = text.substr(0, options.line_cap);
    reg->feed(line, out);
    ++total;
    if (rng() % 64 == 0) reg->flush(line.time + std::chrono::milliseconds(rng() % 3000), std::chrono::milliseconds(500), out);
    pos = end + 1;
  }
  reg->finish(out);
  stats.lines += total;
  stats.reports += out.size();
  stats.elapsed += std::chrono::steady_clock::now() - started;
  if (out.size() > total) return std::to_string(out.size()) + " reports from " + std::to_string(total) + " lines";
  for (const CrashReport& r : out) {
    std::size_t lines = numbers[r.stream == parsers::Stream::Stdout ? 0 : 1];
    if (auto bad = check_report(r, lines)) return r.runtime + ": " + *bad;
  }
  return std::nullopt;
}

}  // namespace crashwrap::fuzz
