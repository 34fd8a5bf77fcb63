#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "parsers/anchor_index.h"

using crashwrap::parsers::AnchorIndex;

namespace {

std::uint64_t brute_force(const std::vector<std::string>& anchors, std::string_view text) {
  std::uint64_t hits = 0;
  for (std::size_t i = 0; i < anchors.size(); ++i)
    if (text.find(anchors[i]) != std::string_view::npos) hits |= std::uint64_t{1} << i;
  return hits;
}

}  // namespace

TEST_CASE("an anchor is found at every position, odd or even, and at both ends", "[anchor_index]") {
  std::vector<std::string> anchors = {"Traceback (most recent call last):", "panic: ", "js:", ":in `"};
  AnchorIndex idx;
  for (std::size_t i = 0; i < anchors.size(); ++i) idx.add(anchors[i], std::uint64_t{1} << i);
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    for (std::size_t pad = 0; pad < 7; ++pad) {
      std::string before(pad, 'x');
      INFO("anchor " << anchors[i] << " after " << pad << " bytes");
      CHECK(idx.scan(before + anchors[i]) == std::uint64_t{1} << i);
      CHECK(idx.scan(before + anchors[i] + "tail") == std::uint64_t{1} << i);
    }
  }
  CHECK(idx.scan("") == 0);
  CHECK(idx.scan("p") == 0);
  CHECK(idx.scan("panic:") == 0);  // one byte short
  CHECK(idx.scan("2026-11-23 INFO GET /api/v1/orders 200 12ms") == 0);
  CHECK(idx.scan("x js: y panic: z") == 0b0110);
}

TEST_CASE("two-byte anchors switch to a scan of every position", "[anchor_index]") {
  AnchorIndex idx;
  idx.add("#!", 1);
  idx.add("fatal error: ", 2);
  CHECK(idx.scan("#!") == 1);
  CHECK(idx.scan("a#!") == 1);
  CHECK(idx.scan("ab#!") == 1);
  CHECK(idx.scan("xfatal error: x") == 2);
  CHECK(idx.scan("#") == 0);
}

TEST_CASE("scan agrees with a brute-force search on random text", "[anchor_index]") {
  std::mt19937 rng(7);
  const std::string alphabet = "ab:( \"eE`#x";
  auto random_string = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    return s;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> anchors;
    AnchorIndex idx;
    std::size_t count = 1 + rng() % 8;
    for (std::size_t i = 0; i < count; ++i) anchors.push_back(random_string(2 + rng() % 5));
    for (std::size_t i = 0; i < count; ++i) idx.add(anchors[i], std::uint64_t{1} << i);
    for (int t = 0; t < 50; ++t) {
      std::string text = random_string(rng() % 40);
      INFO("round " << round << " text '" << text << "'");
      REQUIRE(idx.scan(text) == brute_force(anchors, text));
    }
  }
}
