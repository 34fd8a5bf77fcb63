// Seeded robustness run of every crash detector under ASan/UBSan: replays
// tests/fuzz/regressions/ first, then feeds mutated corpus cases and random
// bytes until the time budget is spent. Fails on a sanitizer report, a bound
// the detectors promise (frames, raw text, values, line ranges), an input
// slower than the per-input limit, a hang, or a peak RSS above the limit.
//
//   parser_fuzz --corpus DIR --regressions DIR [--seconds N] [--seed N]
//               [--input-ms N] [--max-rss-mb N] [--artifacts DIR] [FILE…]
// Environment: CRASHWRAP_FUZZ_SECONDS, CRASHWRAP_FUZZ_SEED, CRASHWRAP_FUZZ_INPUT_MS,
// CRASHWRAP_FUZZ_MAX_RSS_MB, CRASHWRAP_FUZZ_ARTIFACTS (flags win).
// A failing input is written to the artifacts directory as
// parser-fuzz-failure-seed<N>.txt; once fixed, keep it in tests/fuzz/regressions/
// (keeping "-seed<N>" in its name) so every later run replays it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "feed.h"
#include "mutator.h"

#if defined(CRASHWRAP_FUZZ_SANITIZED) && __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define CRASHWRAP_HAVE_DEATH_CALLBACK 1
#endif

namespace fs = std::filesystem;
using namespace crashwrap::fuzz;

namespace {

struct Options {
  std::string corpus, regressions, artifacts = ".";
  double seconds = 60;
  std::uint64_t seed = 0;
  bool seed_given = false;
  long input_ms = 5000;
  long max_rss_mb = 3072;
  std::vector<std::string> files;
};

// The input being fed, for the sanitizer's death callback and the watchdog.
std::string g_current;
std::atomic<long long> g_started_ns{0};
std::string g_artifact_path;

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void write_artifact() {
  int fd = ::open(g_artifact_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < g_current.size()) {
    ssize_t n = ::write(fd, g_current.data() + done, g_current.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  static const char msg[] = "parser_fuzz: the failing input was written to the artifacts directory\n";
  (void)!::write(2, msg, sizeof msg - 1);
}

std::atomic<bool> g_done{false};

void watchdog(long hang_ms) {
  while (!g_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    long long started = g_started_ns.load();
    if (started != 0 && now_ns() - started > hang_ms * 1000000LL) {
      std::fprintf(stderr, "parser_fuzz: an input has been running for more than %ld ms (hang)\n", hang_ms);
      write_artifact();
      std::_Exit(2);
    }
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

template <typename T>
void env_number(const char* name, T& out) {
  if (const char* v = std::getenv(name); v && *v) out = static_cast<T>(std::strtod(v, nullptr));
}

Options parse(int argc, char** argv) {
  Options o;
  env_number("CRASHWRAP_FUZZ_SECONDS", o.seconds);
  env_number("CRASHWRAP_FUZZ_INPUT_MS", o.input_ms);
  env_number("CRASHWRAP_FUZZ_MAX_RSS_MB", o.max_rss_mb);
  if (const char* v = std::getenv("CRASHWRAP_FUZZ_SEED"); v && *v) {
    o.seed = std::strtoull(v, nullptr, 10);
    o.seed_given = true;
  }
  if (const char* v = std::getenv("CRASHWRAP_FUZZ_ARTIFACTS"); v && *v) o.artifacts = v;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--corpus") o.corpus = value();
    else if (a == "--regressions") o.regressions = value();
    else if (a == "--artifacts") o.artifacts = value();
    else if (a == "--seconds") o.seconds = std::strtod(value().c_str(), nullptr);
    else if (a == "--input-ms") o.input_ms = std::strtol(value().c_str(), nullptr, 10);
    else if (a == "--max-rss-mb") o.max_rss_mb = std::strtol(value().c_str(), nullptr, 10);
    else if (a == "--seed") {
      o.seed = std::strtoull(value().c_str(), nullptr, 10);
      o.seed_given = true;
    } else o.files.push_back(a);
  }
  if (!o.seed_given) o.seed = std::random_device{}();
  return o;
}

// Every recorded stdout/stderr of the corpus, and every regression input.
std::vector<std::string> load_pool(const Options& o) {
  std::vector<std::string> pool;
  std::error_code ec;
  if (!o.corpus.empty())
    for (auto it = fs::recursive_directory_iterator(o.corpus, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_regular_file() && (name == "stdout" || name == "stderr") && it->file_size() > 0)
        pool.push_back(slurp(it->path()));
    }
  return pool;
}

std::vector<fs::path> regression_files(const Options& o) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!o.regressions.empty())
    for (const auto& e : fs::directory_iterator(o.regressions, ec))
      if (e.is_regular_file() && e.path().extension() != ".md") files.push_back(e.path());
  for (const std::string& f : o.files) files.emplace_back(f);
  std::sort(files.begin(), files.end());
  return files;
}

// A regression file named "…-seed<N>…" is replayed with that feed seed (the interleaving it failed with).
std::uint64_t seed_of(const fs::path& p) {
  std::string name = p.filename().string();
  auto at = name.find("-seed");
  return at == std::string::npos ? 1 : std::strtoull(name.c_str() + at + 5, nullptr, 10);
}

bool run_one(const std::string& input, const FeedOptions& fo, const Options& o, FeedStats& stats, const std::string& what) {
  g_artifact_path = (fs::path(o.artifacts) / ("parser-fuzz-failure-seed" + std::to_string(fo.seed) + ".txt")).string();
  g_current = input;
  g_started_ns = now_ns();
  auto before = stats.elapsed;
  auto bad = feed_and_check(g_current, fo, stats);
  g_started_ns = 0;
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(stats.elapsed - before).count();
  if (!bad && took > o.input_ms) bad = "took " + std::to_string(took) + " ms (limit " + std::to_string(o.input_ms) + " ms)";
  if (!bad) return true;
  std::fprintf(stderr, "parser_fuzz: FAILED on %s input (seed %llu, %zu bytes): %s\n", what.c_str(),
               static_cast<unsigned long long>(fo.seed), input.size(), bad->c_str());
  write_artifact();
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
#ifdef CRASHWRAP_HAVE_DEATH_CALLBACK
  __sanitizer_set_death_callback(&write_artifact);
#endif
  std::thread dog(watchdog, std::max(o.input_ms * 4, 20000L));
  struct Join {
    std::thread& t;
    ~Join() {
      g_done = true;
      t.join();
    }
  } join{dog};
  FeedStats stats;
  std::size_t inputs = 0;

  for (const fs::path& p : regression_files(o)) {
    std::string input = slurp(p);
    for (bool interleave : {false, true}) {
      if (!run_one(input, {.seed = seed_of(p), .interleave = interleave}, o, stats, "regression " + p.filename().string()))
        return 1;
      ++inputs;
    }
  }
  std::size_t replayed = inputs;

  Mutator mutator(o.seed, load_pool(o));
  std::mt19937_64 seeds(o.seed ^ 0x9e3779b97f4a7c15ULL);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string what;
    std::string input = mutator.next(what);
    if (!run_one(input, {.seed = seeds(), .interleave = true}, o, stats, what)) return 1;
    ++inputs;
  }

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  long rss_mb = ru.ru_maxrss / 1024;
  std::printf("parser_fuzz: seed %llu, %zu inputs (%zu regressions), %zu lines, %zu reports, %.1f s in detectors, peak RSS %ld MiB\n",
              static_cast<unsigned long long>(o.seed), inputs, replayed, stats.lines, stats.reports,
              std::chrono::duration<double>(stats.elapsed).count(), rss_mb);
  if (rss_mb > o.max_rss_mb) {
    std::fprintf(stderr, "parser_fuzz: FAILED: peak RSS %ld MiB above %ld MiB\n", rss_mb, o.max_rss_mb);
    return 1;
  }
  return 0;
}
