// Scrubber cost per line, single-threaded, built-in rules only (what runs on
// every output line: Protection::kept_line → Scrubber::has_secrets):
//   (a) ordinary log lines: timestamps, key=value, JSON, access logs, ids —
//       the prefilter's path (lines with ':' and '=' still get looked at);
//   (b) lines that carry a secret: has_secrets + a scrub() of a copy.
// Prints ns/line and MB/s, the median of RUNS runs, by the thread's CPU time.
//
//   scrub_bench [LINES=2000000] [RUNS=5]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sinks/scrubber.h"

using crashwrap::sinks::Scrubber;

namespace {

std::vector<std::string> ordinary(std::size_t n) {
  static const char* const kTemplates[] = {
      "2026-11-23T19:52:%02d.%03dZ INFO  http: GET /api/v1/orders/%d 200 %dms",
      "2026-11-23 19:52:%02d,%03d DEBUG cache: hit ratio 0.97 over %d lookups in %d us",
      "[worker-%d] processed batch %d (%d items) in 0.84s, queue depth %d",
      "10.0.%d.%d - - [23/Nov/2026:19:52:28 +0000] \"POST /v2/ingest HTTP/1.1\" 202 %d \"-\" \"curl/7.88\"",
      "level=info ts=2026-11-23T19:52:%02d.%03dZ caller=scheduler.go:%d msg=\"job finished\" duration=%dms",
      "{\"time\":\"2026-11-23T19:52:%02d.%03dZ\",\"level\":\"info\",\"msg\":\"request served\",\"status\":%d,\"bytes\":%d}",
      "WARN  retrying after transient error from upstream db-%d (attempt %d of 5, backoff %d ms, id %d)",
      "metrics: rss=%d MiB heap=%d MiB goroutines=%d gc_pause_p99=%dus",
  };
  std::vector<std::string> out;
  char buf[512];
  unsigned seed = 12345;
  auto rnd = [&seed](unsigned mod) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % mod;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const char* t = kTemplates[i % (sizeof kTemplates / sizeof *kTemplates)];
    int len = std::snprintf(buf, sizeof buf, t, rnd(60), rnd(1000), rnd(100000), rnd(5000));
    std::string line(buf, static_cast<std::size_t>(len));
    line.append(" trace_id=");
    for (int k = 0; k < 32; ++k) line.push_back("0123456789abcdef"[rnd(16)]);
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> secret(std::size_t n) {
  static const char* const kLines[] = {
      "2026-11-23T19:52:01Z connecting to https://abcdef0123456789@o1.ingest.sentry.io/42",
      "> Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
      "level=info msg=\"login\" user=bob password=hunter2 remote=10.0.0.7",
      "aws: using AKIAIOSFODNN7EXAMPLE for s3://bucket",
      "payment: charging card 4111 1111 1111 1111 for order 991",
  };
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(kLines[i % (sizeof kLines / sizeof *kLines)]);
  return out;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Protection::kept_line's work: the check, and a scrubbed copy when it says so.
double run_once(const Scrubber& s, const std::vector<std::string>& lines, std::size_t& hits) {
  std::string copy;
  hits = 0;
  const double t0 = cpu_seconds();
  for (const std::string& line : lines) {
    if (!s.has_secrets(line)) continue;
    copy.assign(line);
    hits += s.scrub(copy);
  }
  return cpu_seconds() - t0;
}

void report(const char* name, const Scrubber& s, const std::vector<std::string>& lines, int runs) {
  std::size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size() + 1;
  std::vector<double> times;
  std::size_t hits = 0;
  for (int r = 0; r < runs; ++r) times.push_back(run_once(s, lines, hits));
  std::sort(times.begin(), times.end());
  const double t = times[times.size() / 2];
  std::printf("%-22s %9zu lines  avg %5.1f B/line  %7.1f ns/line  %8.1f MB/s  (%zu scrubbed)\n", name,
              lines.size(), static_cast<double>(bytes) / static_cast<double>(lines.size()),
              t * 1e9 / static_cast<double>(lines.size()), static_cast<double>(bytes) / t / 1e6, hits);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const Scrubber s = Scrubber::with_patterns({});
  report("ordinary lines", s, ordinary(n), runs);
  report("lines with a secret", s, secret(n / 10), runs);
  report("scrubbing off", Scrubber::with_patterns({}, false), ordinary(n), runs);
  return 0;
}
