// Detector throughput, single-threaded, every detector on (Registry::create({})):
//   (a) ordinary log lines with no crash: the anchor prefilter's fast path;
//   (b) crash-dense text: the recorded outputs of tests/corpus, back to back.
// Lines are split beforehand (as the agent's LineSplitter hands them over), so
// only Registry::feed/finish is timed. Prints MB/s (1 MB = 10^6 bytes) per
// input, the median of RUNS runs, by the thread's CPU time (what the parsing
// costs, whatever else the machine runs) and by wall time.
//
//   parser_bench CORPUS_DIR [MB_LOGS=256] [MB_CRASH=64] [RUNS=5]
//   DETECTORS=python,go parser_bench …   (only these detectors)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/registry.h"

using namespace crashwrap::parsers;
namespace fs = std::filesystem;

namespace {

struct Input {
  std::vector<std::string> lines;
  std::vector<Stream> streams;
  std::size_t bytes = 0;
  void add(std::string line, Stream s) {
    bytes += line.size() + 1;
    lines.push_back(std::move(line));
    streams.push_back(s);
  }
};

// Lines as services write them: timestamps, levels, access logs, key=value,
// JSON objects without a stack, words like "error" and "exception" in
// ordinary messages. None is the start of a crash report.
Input ordinary_logs(std::size_t target_bytes) {
  static const char* const kTemplates[] = {
      "2026-11-23T19:52:%02d.%03dZ INFO  http: GET /api/v1/orders/%d 200 %dms",
      "2026-11-23 19:52:%02d,%03d DEBUG cache: hit ratio 0.97 over %d lookups in %d us",
      "[worker-%d] processed batch %d (%d items) in 0.84s, queue depth %d",
      "10.0.%d.%d - - [23/Nov/2026:19:52:28 +0000] \"POST /v2/ingest HTTP/1.1\" 202 %d \"-\" \"curl/7.88\"",
      "level=info ts=2026-11-23T19:52:%02d.%03dZ caller=scheduler.go:%d msg=\"job finished\" duration=%dms",
      "{\"time\":\"2026-11-23T19:52:%02d.%03dZ\",\"level\":\"info\",\"msg\":\"request served\",\"status\":%d,\"bytes\":%d}",
      "WARN  retrying after transient error from upstream db-%d (attempt %d of 5, backoff %d ms, id %d)",
      "2026-11-23 19:52:%02d.%03d ERROR payment: card declined for order %d (code %d), customer notified",
      "metrics: rss=%d MiB heap=%d MiB goroutines=%d gc_pause_p99=%dus",
      "handled exception count since start: %d; last reset %d minutes ago; retries %d/%d",
  };
  Input in;
  char buf[512];
  unsigned seed = 12345;
  auto rnd = [&seed](unsigned mod) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % mod;
  };
  std::size_t i = 0;
  while (in.bytes < target_bytes) {
    const char* t = kTemplates[i++ % (sizeof kTemplates / sizeof *kTemplates)];
    int n = std::snprintf(buf, sizeof buf, t, rnd(60), rnd(1000), rnd(100000), rnd(5000));
    std::string line(buf, static_cast<std::size_t>(n));
    // Pad to a realistic 100-200 bytes.
    line.append(" trace_id=");
    for (int k = 0; k < 32; ++k) line.push_back("0123456789abcdef"[rnd(16)]);
    in.add(std::move(line), i % 3 == 0 ? Stream::Stderr : Stream::Stdout);
  }
  return in;
}

void split_into(Input& in, const std::string& bytes, Stream s) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t nl = bytes.find('\n', pos);
    std::size_t end = nl == std::string::npos ? bytes.size() : nl;
    std::string line = bytes.substr(pos, std::min<std::size_t>(end - pos, 16 * 1024));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    in.add(std::move(line), s);
    pos = nl == std::string::npos ? bytes.size() : nl + 1;
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every recorded case's crash stream, repeated until `target_bytes`; cases
// whose output is mostly filler (one 100 kB line, 1200 log lines) are the
// realistic exception, not the rule, and are left out.
Input crash_dense(const fs::path& corpus, std::size_t target_bytes) {
  std::vector<std::string> texts;
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file() || (e.path().filename() != "stderr" && e.path().filename() != "stdout")) continue;
    std::string t = slurp(e.path());
    if (t.size() < 40 || t.size() > 20000) continue;
    texts.push_back(std::move(t));
  }
  std::sort(texts.begin(), texts.end());
  Input in;
  if (texts.empty()) return in;
  for (std::size_t i = 0; in.bytes < target_bytes; ++i) split_into(in, texts[i % texts.size()], Stream::Stderr);
  return in;
}

struct Result {
  double seconds = 0;  // CPU time of this thread: other load on the machine does not count
  double wall = 0;
  std::size_t reports = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<std::string> g_only;  // DETECTORS=a,b: only these (diagnosis)

Result run_once(const Input& in) {
  std::string error;
  auto reg = Registry::create(g_only, error);
  if (!reg) {
    std::fprintf(stderr, "parser_bench: %s\n", error.c_str());
    std::exit(2);
  }
  std::vector<CrashReport> out;
  Result r;
  std::uint64_t numbers[2] = {0, 0};
  const Timestamp t0 = Clock::now();
  auto start = std::chrono::steady_clock::now();
  double cpu_start = thread_cpu_seconds();
  for (std::size_t i = 0; i < in.lines.size(); ++i) {
    Line line;
    line.stream = in.streams[i];
    line.text = in.lines[i];
    line.time = t0;
    line.number = ++numbers[line.stream == Stream::Stdout ? 0 : 1];
    reg->feed(line, out);
    if (!out.empty()) {
      r.reports += out.size();
      out.clear();
    }
  }
  reg->finish(out);
  r.reports += out.size();
  r.seconds = thread_cpu_seconds() - cpu_start;
  r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

void measure(const char* name, const Input& in, int runs) {
  std::vector<double> secs, walls;
  std::size_t reports = 0;
  for (int i = 0; i < runs; ++i) {
    Result r = run_once(in);
    secs.push_back(r.seconds);
    walls.push_back(r.wall);
    reports = r.reports;
  }
  std::sort(secs.begin(), secs.end());
  std::sort(walls.begin(), walls.end());
  double s = secs[secs.size() / 2];
  double w = walls[walls.size() / 2];
  std::printf("%-34s %7.1f MB %9zu lines %8.0f MB/s cpu %8.0f MB/s wall %7.1f ns/line %7zu reports\n", name,
              in.bytes / 1e6, in.lines.size(), in.bytes / 1e6 / s, in.bytes / 1e6 / w,
              s * 1e9 / static_cast<double>(in.lines.size()), reports);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: parser_bench CORPUS_DIR [MB_LOGS] [MB_CRASH] [RUNS]\n");
    return 2;
  }
  std::size_t mb_logs = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;
  std::size_t mb_crash = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64;
  int runs = argc > 4 ? std::atoi(argv[4]) : 5;
  if (const char* only = std::getenv("DETECTORS"); only != nullptr && *only != '\0') {
    std::stringstream ss(only);
    for (std::string name; std::getline(ss, name, ',');) g_only.push_back(name);
  }
  std::printf("detectors: %zu; median of %d runs, single thread\n", Registry::names().size(), runs);
  measure("(a) ordinary log lines, no crash", ordinary_logs(mb_logs * 1000000), runs);
  Input crash = crash_dense(argv[1], mb_crash * 1000000);
  if (crash.lines.empty()) {
    std::fprintf(stderr, "parser_bench: no corpus outputs under %s\n", argv[1]);
    return 2;
  }
  measure("(b) crash-dense text (corpus)", crash, runs);
  return 0;
}
