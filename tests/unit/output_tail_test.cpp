#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <utility>

#include "agent/output_tail.h"

using crashwrap::agent::OutputTail;
using crashwrap::agent::render_tail;
using namespace crashwrap::parsers;

namespace {
Line line(Stream s, std::string_view text) {
  Line l;
  l.stream = s;
  l.text = text;
  return l;
}
}  // namespace

TEST_CASE("the tail keeps the last lines up to the line bound", "[output_tail]") {
  OutputTail t(3, 1000);
  for (int i = 1; i <= 5; ++i) {
    std::string s = "line " + std::to_string(i);
    t.push(line(Stream::Stdout, s));
  }
  auto ls = t.lines();
  REQUIRE(ls.size() == 3);
  CHECK(ls[0].text == "line 3");
  CHECK(ls[2].text == "line 5");
  CHECK(t.dropped() == 2);
  CHECK(t.bytes() == 18);
}

TEST_CASE("the tail keeps the last lines up to the byte bound", "[output_tail]") {
  OutputTail t(100, 10);
  t.push(line(Stream::Stdout, "aaaa"));
  t.push(line(Stream::Stderr, "bbbb"));
  t.push(line(Stream::Stdout, "cccc"));
  auto ls = t.lines();
  REQUIRE(ls.size() == 2);
  CHECK(ls[0].text == "bbbb");
  CHECK(ls[0].stream == Stream::Stderr);
  CHECK(ls[1].text == "cccc");
  CHECK(t.bytes() == 8);
  // One line over the budget is cut to the budget and replaces everything.
  t.push(line(Stream::Stdout, "0123456789abcdef"));
  ls = t.lines();
  REQUIRE(ls.size() == 1);
  CHECK(ls[0].text == "0123456789");
  CHECK(t.bytes() == 10);
}

TEST_CASE("texts that wrap around the ring come back whole", "[output_tail]") {
  OutputTail t(100, 10);
  std::vector<std::string> all;
  for (int i = 0; i < 50; ++i) {
    all.push_back(std::string(static_cast<std::size_t>(i % 4 + 1), static_cast<char>('a' + i % 26)));
    t.push(line(i % 2 ? Stream::Stderr : Stream::Stdout, all.back()));
    // Whatever is kept is exactly the newest lines that fit in 10 bytes.
    std::vector<std::string> expected;
    std::size_t bytes = 0;
    for (auto it = all.rbegin(); it != all.rend() && bytes + it->size() <= 10; ++it) {
      bytes += it->size();
      expected.insert(expected.begin(), *it);
    }
    auto ls = t.lines();
    REQUIRE(ls.size() == expected.size());
    for (std::size_t k = 0; k < ls.size(); ++k) CHECK(ls[k].text == expected[k]);
    CHECK(t.bytes() == bytes);
  }
}

TEST_CASE("zero bounds keep nothing", "[output_tail]") {
  OutputTail t(0, 100);
  t.push(line(Stream::Stdout, "x"));
  CHECK(t.lines().empty());
  OutputTail u(10, 0);
  u.push(line(Stream::Stdout, "x"));
  CHECK(u.lines().empty());
}

TEST_CASE("render_tail prefixes each line with its stream", "[output_tail]") {
  OutputTail t(10, 100);
  t.push(line(Stream::Stdout, "hello"));
  t.push(line(Stream::Stderr, "Traceback"));
  t.push(line(Stream::Stdout, ""));
  CHECK(render_tail(t.lines()) == "[stdout] hello\n[stderr] Traceback\n[stdout] \n");
  CHECK(render_tail({}) == "");
}

TEST_CASE("the tail matches a plain model while both bounds drop lines in turn", "[output_tail]") {
  // Long lines first (0..80 bytes: the byte bound drops lines while few are
  // held), then short ones (0..10 bytes: the count grows again, so the entry
  // ring grows while its oldest entry is not in slot 0), under 1500 bytes.
  for (std::size_t max_lines : {1u, 7u, 64u, 65u, 200u}) {
    OutputTail t(max_lines, 1500);
    std::deque<std::pair<Stream, std::string>> model;
    std::size_t model_bytes = 0;
    std::uint64_t model_dropped = 0;
    unsigned seed = 7;
    for (int i = 0; i < 5000; ++i) {
      seed = seed * 1103515245u + 12345u;
      const std::size_t len = (seed >> 16) % (i < 2500 ? 81 : 11);
      const Stream s = (seed >> 8) & 1 ? Stream::Stdout : Stream::Stderr;
      std::string text(len, static_cast<char>('a' + i % 26));
      if (!text.empty()) text[0] = static_cast<char>('0' + i % 10);
      t.push(line(s, text));
      while (!model.empty() && (model.size() >= max_lines || model_bytes + len > 1500)) {
        model_bytes -= model.front().second.size();
        model.pop_front();
        ++model_dropped;
      }
      model.emplace_back(s, text);
      model_bytes += len;
      if (i % 97 != 0 && i != 4999) continue;  // compare now and then, and at the end
      const auto ls = t.lines();
      INFO("max_lines " << max_lines << ", after line " << i);
      REQUIRE(ls.size() == model.size());
      CHECK(t.size() == model.size());
      CHECK(t.bytes() == model_bytes);
      CHECK(t.dropped() == model_dropped);
      for (std::size_t k = 0; k < ls.size(); ++k) {
        REQUIRE(ls[k].stream == model[k].first);
        REQUIRE(ls[k].text == model[k].second);
      }
    }
  }
}
