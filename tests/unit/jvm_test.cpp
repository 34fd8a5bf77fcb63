#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kJvm = {"java", "jvm-fatal"};
std::optional<std::string> str(const char* s) { return std::string(s); }
}  // namespace

TEST_CASE("java corpus cases", "[jvm][corpus]") {
  for (const char* c : {"java/caused-by-chain", "java/out-of-memory", "java/stack-overflow",
                        "java/uncaught-in-worker-thread", "java/jvm-fatal-unsafe"})
    check_case(c, kJvm);
}
