// libFuzzer entry point (clang builds only): the same feeding and bounds as
// the seeded driver. Run: parser_libfuzzer -max_total_time=60 CORPUS_DIR
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "feed.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  crashwrap::fuzz::FeedStats stats;
  crashwrap::fuzz::FeedOptions options;
  options.seed = size;
  auto bad = crashwrap::fuzz::feed_and_check(std::string_view(reinterpret_cast<const char*>(data), size), options, stats);
  if (bad) {
    std::fprintf(stderr, "parser bound violated: %s\n", bad->c_str());
    std::abort();
  }
  return 0;
}
