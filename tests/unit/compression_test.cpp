#include "sinks/compression.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::sinks;

namespace {

std::string sample(std::size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng() % 7 == 0 ? rng() : 'a' + i % 13));
  return s;
}

std::string fixture(const std::string& name) {
  return crashwrap::test::read_file(crashwrap::test::source_dir() + "/tests/unit/fixtures/envelope/" + name);
}

}  // namespace

TEST_CASE("gzip round trip keeps every byte and writes an RFC 1952 member", "[compression]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{300000}}) {
    const std::string in = sample(n);
    auto z = compress(in, Codec::Gzip);
    REQUIRE(z);
    REQUIRE(z->size() >= 18);
    CHECK(static_cast<unsigned char>((*z)[0]) == 0x1f);
    CHECK(static_cast<unsigned char>((*z)[1]) == 0x8b);
    CHECK((*z)[2] == 8);  // deflate
    CHECK(detect_codec(*z) == Codec::Gzip);
    Decoded d = decompress(*z, Codec::Gzip, n + 1);
    REQUIRE(d.status == DecodeStatus::Ok);
    CHECK(d.data == in);
  }
}

TEST_CASE("gzip output is readable by plain zlib with gzip detection", "[compression]") {
  const std::string in = sample(5000);
  auto z = compress(in, Codec::Gzip);
  REQUIRE(z);
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 32) == Z_OK);  // 32: auto-detect zlib/gzip header
  std::string out(in.size(), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(z->data());
  zs.avail_in = static_cast<uInt>(z->size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
  CHECK(zs.total_out == in.size());
  inflateEnd(&zs);
  CHECK(out == in);
}

TEST_CASE("zstd round trip keeps every byte", "[compression]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{17}, std::size_t{200000}}) {
    const std::string in = sample(n, 3);
    auto z = compress(in, Codec::Zstd);
    REQUIRE(z);
    CHECK(detect_codec(*z) == Codec::Zstd);
    Decoded d = decompress(*z, Codec::Zstd, n);
    REQUIRE(d.status == DecodeStatus::Ok);
    CHECK(d.data == in);
  }
}

TEST_CASE("None copies and is bounded too", "[compression]") {
  CHECK(*compress("abc", Codec::None) == "abc");
  CHECK(decompress("abc", Codec::None, 3).data == "abc");
  CHECK(decompress("abcd", Codec::None, 3).status == DecodeStatus::TooLarge);
  CHECK(detect_codec("{\"event_id\":1}") == Codec::None);
  CHECK(detect_codec("") == Codec::None);
}

TEST_CASE("decompression never exceeds the output bound", "[compression]") {
  const std::string zeros(1 << 20, '\0');  // compresses ~1000:1, the shape of a decompression bomb
  for (Codec c : {Codec::Gzip, Codec::Zstd}) {
    auto z = compress(zeros, c);
    REQUIRE(z);
    CHECK(z->size() < 20000);
    Decoded d = decompress(*z, c, zeros.size() - 1);
    CHECK(d.status == DecodeStatus::TooLarge);
    CHECK(d.data.empty());
    CHECK(decompress(*z, c, zeros.size()).status == DecodeStatus::Ok);
  }
}

TEST_CASE("truncated or damaged streams are Corrupt", "[compression]") {
  const std::string in = sample(10000);
  for (Codec c : {Codec::Gzip, Codec::Zstd}) {
    auto z = compress(in, c);
    REQUIRE(z);
    CHECK(decompress(z->substr(0, z->size() - 5), c, 1 << 20).status == DecodeStatus::Corrupt);
    CHECK(decompress(z->substr(0, z->size() / 2), c, 1 << 20).status == DecodeStatus::Corrupt);
    CHECK(decompress("", c, 1 << 20).status == DecodeStatus::Corrupt);
    CHECK(decompress(*z + "garbage", c, 1 << 20).status == DecodeStatus::Corrupt);
    std::string flipped = *z;
    flipped[flipped.size() / 2] ^= 0x55;
    CHECK(decompress(flipped, c, 1 << 20).status == DecodeStatus::Corrupt);
  }
  CHECK(decompress("plain text", Codec::Gzip, 100).status == DecodeStatus::Corrupt);
}

TEST_CASE("concatenated gzip members decode as one stream", "[compression]") {
  auto a = compress("first part\n", Codec::Gzip);
  auto b = compress("second part\n", Codec::Gzip);
  Decoded d = decompress(*a + *b, Codec::Gzip, 1000);
  REQUIRE(d.status == DecodeStatus::Ok);
  CHECK(d.data == "first part\nsecond part\n");
}

TEST_CASE("compressed fixtures made by other tools decode to their plain twins", "[compression]") {
  const std::string gz = fixture("error-event.envelope.gz");
  REQUIRE(detect_codec(gz) == Codec::Gzip);
  Decoded a = decompress(gz, Codec::Gzip, 1 << 20);
  REQUIRE(a.status == DecodeStatus::Ok);
  CHECK(a.data == fixture("error-event.envelope"));

  const std::string zst = fixture("log-batch.envelope.zst");
  REQUIRE(detect_codec(zst) == Codec::Zstd);
  Decoded b = decompress(zst, Codec::Zstd, 1 << 20);
  REQUIRE(b.status == DecodeStatus::Ok);
  CHECK(b.data == fixture("log-batch.envelope"));
}

TEST_CASE("content encodings and configuration mapping", "[compression]") {
  CHECK(content_encoding(Codec::Gzip) == "gzip");
  CHECK(content_encoding(Codec::Zstd) == "zstd");
  CHECK(content_encoding(Codec::None).empty());
  CHECK(codec_for(crashwrap::config::Compression::Gzip) == Codec::Gzip);
  CHECK(codec_for(crashwrap::config::Compression::Zstd) == Codec::Zstd);
  CHECK(codec_for(crashwrap::config::Compression::None) == Codec::None);
}
