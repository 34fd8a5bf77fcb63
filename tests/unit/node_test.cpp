#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kNode = {"node"};
}  // namespace

TEST_CASE("node corpus cases", "[node][corpus]") {
  for (const char* c : {"node/crash-after-long-log", "node/error-with-cause", "node/heap-out-of-memory",
                        "node/typeerror-undefined-property", "node/uncaught-error", "node/unhandled-rejection"})
    check_case(c, kNode);
}
