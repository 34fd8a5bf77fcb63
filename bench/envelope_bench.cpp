// Envelope and spool costs for a typical crash event (a Python traceback of 30
// frames with source context, 100 breadcrumbs, os/process contexts, and a
// 500-line / ~40 KB output tail attachment):
//   1. envelope build (event JSON → envelope bytes), then + gzip, then + zstd:
//      events/s and µs per event (median of RUNS runs);
//   2. spool save latency (envelope build + zstd + tmp/fsync/rename/fsync dir,
//      record included) in SPOOL_DIR: p50 / p99 / max over SAVES saves;
//   3. a crash loop: LOOP saves back to back (faster than 100 crashes/s) with
//      max_files 50: final file count, spool bytes, evictions, and max RSS
//      before and after the loop (the loop must not grow either beyond bounds).
//
//   envelope_bench SPOOL_DIR [EVENTS=2000] [SAVES=200] [LOOP=2000] [RUNS=5]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sinks/compression.h"
#include "sinks/envelope.h"
#include "sinks/event_builder.h"
#include "sinks/spool.h"

using namespace crashwrap;
using namespace crashwrap::sinks;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

BuiltEvent typical_event(int n) {
  BuiltEvent e;
  char id[33];
  std::snprintf(id, sizeof id, "%032x", n + 1);
  e.event_id = id;
  Json frames = Json::array();
  for (int i = 0; i < 30; ++i) {
    frames.push_back({{"function", "handler_" + std::to_string(i)},
                      {"module", "app.services.module_" + std::to_string(i)},
                      {"filename", "app/services/module_" + std::to_string(i) + ".py"},
                      {"abs_path", "/srv/app/app/services/module_" + std::to_string(i) + ".py"},
                      {"lineno", 100 + i},
                      {"in_app", true},
                      {"pre_context", {"    def handler(self, request):", "        data = request.json()"}},
                      {"context_line", "        return self.process(data['items'][0])"},
                      {"post_context", {"", "    def process(self, item):"}}});
  }
  Json crumbs = Json::array();
  for (int i = 0; i < 100; ++i)
    crumbs.push_back({{"timestamp", 1795420800.0 + i * 0.01},
                      {"category", "stderr"},
                      {"level", "info"},
                      {"message", "INFO request " + std::to_string(i) + " GET /api/items?page=3 200 12ms"}});
  e.event = {
      {"event_id", e.event_id},
      {"timestamp", "2026-11-23T08:00:00.000Z"},
      {"platform", "python"},
      {"level", "fatal"},
      {"logger", "crashwrap"},
      {"release", "shop@2.14.1"},
      {"environment", "production"},
      {"server_name", "web-7"},
      {"exception",
       {{"values",
         {{{"type", "KeyError"},
           {"value", "'items'"},
           {"module", "builtins"},
           {"mechanism", {{"type", "crashwrap"}, {"handled", false}}},
           {"stacktrace", {{"frames", frames}}}}}}}},
      {"breadcrumbs", {{"values", crumbs}}},
      {"contexts",
       {{"os", {{"name", "Linux"}, {"version", "6.1.0"}, {"kernel_version", "6.1.0-27-amd64"}}},
        {"runtime", {{"name", "CPython"}}},
        {"process", {{"command", "python3 -m app.server --port 8080"}, {"pid", 4242},
                     {"exit", {{"kind", "exit"}, {"code", 1}, {"description", "exited with code 1"}}}}},
        {"crashwrap", {{"version", CRASHWRAP_VERSION}}}}},
      {"tags", {{"exit.kind", "exit"}, {"runtime", "python"}}}};
  std::string tail;
  for (int i = 0; i < 500; ++i)
    tail += "[stderr] 2026-11-23 08:00:00,123 INFO app.server request " + std::to_string(i) + " done\n";
  e.attachments.push_back({"output-tail.txt", "text/plain", std::move(tail)});
  e.title = "KeyError: 'items'";
  return e;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// µs per event over `n` builds (cycling through `events`), optionally
// compressed; median of `runs`.
double time_build(const std::vector<BuiltEvent>& events, int n, Codec codec, int runs,
                  std::size_t& out_bytes) {
  std::vector<double> per_event;
  const auto sent_at = parsers::Clock::now();
  for (int r = 0; r < runs; ++r) {
    std::size_t bytes = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      const BuiltEvent& e = events[static_cast<std::size_t>(i) % events.size()];
      BuiltEnvelope b = build_event_envelope(e, "https://key@o1.ingest.sentry.io/42", sent_at, EnvelopeLimits{});
      if (codec == Codec::None) {
        bytes += b.bytes.size();
      } else {
        bytes += compress(b.bytes, codec)->size();
      }
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    per_event.push_back(us / n);
    out_bytes = bytes / static_cast<std::size_t>(n);
  }
  return median(per_event);
}

std::uint64_t dir_bytes(const Spool& s) {
  std::uint64_t total = 0;
  for (const auto& e : s.entries()) total += e.size;
  return total;
}

long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: envelope_bench SPOOL_DIR [EVENTS] [SAVES] [LOOP] [RUNS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int n_events = argc > 2 ? std::atoi(argv[2]) : 2000;
  const int n_saves = argc > 3 ? std::atoi(argv[3]) : 200;
  const int n_loop = argc > 4 ? std::atoi(argv[4]) : 2000;
  const int runs = argc > 5 ? std::atoi(argv[5]) : 5;

  std::vector<BuiltEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(typical_event(i));  // distinct ids, cycled
  std::size_t raw = 0, gz = 0, zs = 0;
  const double us_raw = time_build(events, n_events, Codec::None, runs, raw);
  const double us_gz = time_build(events, n_events, Codec::Gzip, runs, gz);
  const double us_zs = time_build(events, n_events, Codec::Zstd, runs, zs);
  std::printf("envelope (typical crash event, %zu bytes; %d events, median of %d runs)\n", raw, n_events, runs);
  std::printf("  build only      %8.1f us/event  %9.0f events/s\n", us_raw, 1e6 / us_raw);
  std::printf("  build + gzip    %8.1f us/event  %9.0f events/s  (%zu bytes)\n", us_gz, 1e6 / us_gz, gz);
  std::printf("  build + zstd    %8.1f us/event  %9.0f events/s  (%zu bytes)\n", us_zs, 1e6 / us_zs, zs);

  SpoolOptions o;
  o.dir = dir + "/latency";
  o.max_files = static_cast<std::size_t>(n_saves) + 10;
  std::string error;
  auto spool = Spool::open(o, error);
  if (!spool) {
    std::fprintf(stderr, "envelope_bench: %s\n", error.c_str());
    return 1;
  }
  std::vector<double> lat;
  for (int i = 0; i < n_saves; ++i) {
    const auto t0 = Clock::now();
    if (!spool->save(events[static_cast<std::size_t>(i) % events.size()])) return 1;
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  std::printf("spool save with fsync (%d saves in %s)\n", n_saves, o.dir.c_str());
  std::printf("  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", lat[lat.size() / 2],
              lat[lat.size() * 99 / 100], lat.back());

  o.dir = dir + "/loop";
  o.max_files = 50;
  auto loop = Spool::open(o, error);
  if (!loop) return 1;
  const long rss_before = max_rss_kib();
  const auto t0 = Clock::now();
  for (int i = 0; i < n_loop; ++i) {
    BuiltEvent e = events[static_cast<std::size_t>(i) % events.size()];
    char id[33];
    std::snprintf(id, sizeof id, "%032x", 100000 + i);
    e.event_id = id;
    loop->save(e);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto st = loop->stats();
  std::printf("crash loop: %d saves in %.2f s (%.0f/s), max_files 50\n", n_loop, secs, n_loop / secs);
  std::printf("  files left %zu  bytes %llu  evicted %llu  max RSS %ld KiB (before the loop %ld KiB)\n",
              loop->entries().size(), static_cast<unsigned long long>(dir_bytes(*loop)),
              static_cast<unsigned long long>(st.evicted_pending), max_rss_kib(), rss_before);
  return 0;
}
