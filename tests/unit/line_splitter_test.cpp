#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/line_splitter.h"

using crashwrap::agent::LineSplitter;
using namespace crashwrap::parsers;

namespace {

struct Seen {
  std::string text;
  std::uint64_t number;
  std::size_t cut;
  Timestamp time;
  Stream stream;
};

struct Collector {
  std::vector<Seen> lines;
  LineSplitter::Sink sink() {
    return [this](const Line& l) {
      lines.push_back({std::string(l.text), l.number, l.cut_bytes, l.time, l.stream});
    };
  }
};

Timestamp at(int ms) { return Timestamp{} + std::chrono::milliseconds(ms); }

}  // namespace

TEST_CASE("lines inside one chunk are split on LF and numbered from 1", "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 100);
  Collector c;
  s.feed("one\ntwo\n\nthree", at(5), c.sink());
  REQUIRE(c.lines.size() == 3);
  CHECK(c.lines[0].text == "one");
  CHECK(c.lines[1].text == "two");
  CHECK(c.lines[2].text == "");
  CHECK(c.lines[2].number == 3);
  CHECK(c.lines[0].stream == Stream::Stdout);
  CHECK(s.has_partial());
  s.finish(c.sink());
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[3].text == "three");
  CHECK(c.lines[3].number == 4);
  CHECK_FALSE(s.has_partial());
  CHECK(s.lines() == 4);
}

TEST_CASE("a line split across chunks is joined and stamped with its first byte's time",
          "[line_splitter]") {
  LineSplitter s(Stream::Stderr, 100);
  Collector c;
  s.feed("Trace", at(1), c.sink());
  s.feed("back (most", at(2), c.sink());
  CHECK(c.lines.empty());
  s.feed(" recent call last):\nnext", at(3), c.sink());
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].text == "Traceback (most recent call last):");
  CHECK(c.lines[0].time == at(1));
  CHECK(c.lines[0].stream == Stream::Stderr);
  s.feed("\n", at(4), c.sink());
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[1].text == "next");
  CHECK(c.lines[1].time == at(3));
}

TEST_CASE("a trailing CR is stripped for analysis, inner CRs are kept", "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 100);
  Collector c;
  s.feed("dos\r\na\rb\n\r\n", at(0), c.sink());
  s.feed("split\r", at(0), c.sink());
  s.feed("\n", at(0), c.sink());
  s.feed("eof\r", at(0), c.sink());
  s.finish(c.sink());
  REQUIRE(c.lines.size() == 5);
  CHECK(c.lines[0].text == "dos");
  CHECK(c.lines[1].text == "a\rb");
  CHECK(c.lines[2].text == "");
  CHECK(c.lines[3].text == "split");
  CHECK(c.lines[4].text == "eof");
}

TEST_CASE("long lines are cut at the cap and the rest is counted", "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 4);
  Collector c;
  s.feed("abcdefgh\nxy\n", at(0), c.sink());
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].text == "abcd");
  CHECK(c.lines[0].cut == 4);
  CHECK(c.lines[1].text == "xy");
  CHECK(c.lines[1].cut == 0);

  // Across chunks, with a CR just beyond the cap and one far beyond it.
  s.feed("abcd", at(0), c.sink());
  s.feed("\r\n", at(0), c.sink());
  s.feed("abc", at(0), c.sink());
  s.feed("defghij", at(0), c.sink());
  s.feed("k\r\n", at(0), c.sink());
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[2].text == "abcd");
  CHECK(c.lines[2].cut == 0);
  CHECK(c.lines[3].text == "abcd");
  CHECK(c.lines[3].cut == 7);
}

TEST_CASE("memory stays bounded by the cap for an endless line", "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 16);
  Collector c;
  std::string chunk(65536, 'x');
  for (int i = 0; i < 64; ++i) s.feed(chunk, at(i), c.sink());
  CHECK(c.lines.empty());
  s.finish(c.sink());
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].text == std::string(16, 'x'));
  CHECK(c.lines[0].cut == 64u * 65536u - 16u);
  CHECK(c.lines[0].time == at(0));
}

TEST_CASE("binary and invalid UTF-8 bytes pass into the analysis view unchanged",
          "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 100);
  Collector c;
  const std::string bin("\x00\xff\xfe\xc3(", 5);
  s.feed(bin + "\n", at(0), c.sink());
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].text == bin);
}

TEST_CASE("finish without a partial line delivers nothing", "[line_splitter]") {
  LineSplitter s(Stream::Stdout, 100);
  Collector c;
  s.feed("a\n", at(0), c.sink());
  s.finish(c.sink());
  CHECK(c.lines.size() == 1);
}
