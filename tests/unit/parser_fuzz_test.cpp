// Robustness of every detector at once: random bytes and mutated corpus
// outputs (bit flips, cut lines, repeated and spliced lines, long lines, stray
// escapes) go through a Registry for a bounded time. Nothing may crash or
// hang, and what comes out stays within the caps. Seeded, so a failure can be
// replayed: CRASHWRAP_FUZZ_SEED=N, CRASHWRAP_FUZZ_SECONDS=S (default 10).
// Run it under -DCRASHWRAP_SANITIZE=ON for ASan/UBSan.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "parsers/registry.h"
#include "support/paths.h"

namespace fs = std::filesystem;
using namespace crashwrap::parsers;

namespace {

std::vector<std::string> corpus_texts() {
  std::vector<std::string> texts;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(crashwrap::test::corpus_dir(), ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!it->is_regular_file() || (name != "stdout" && name != "stderr" && name != "hs_err.log")) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) texts.push_back(ss.str());
  }
  std::sort(texts.begin(), texts.end());
  return texts;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }

  std::vector<std::string> mutate(const std::vector<std::string>& texts) {
    std::vector<std::string> lines;
    if (texts.empty() || pick(10) == 0) {
      for (std::size_t i = 0, n = 1 + pick(200); i < n; ++i) lines.push_back(random_bytes(pick(300)));
      return lines;
    }
    lines = lines_of(texts[pick(texts.size())]);
    for (std::size_t k = 0, n = 1 + pick(12); k < n && !lines.empty(); ++k) step(lines, texts);
    return lines;
  }

 private:
  std::string random_bytes(std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_() & 0xff);
    return s;
  }

  void step(std::vector<std::string>& lines, const std::vector<std::string>& texts) {
    std::string& l = lines[pick(lines.size())];
    switch (pick(9)) {
      case 0:  // flip a byte
        if (!l.empty()) l[pick(l.size())] ^= static_cast<char>(1 + pick(255));
        break;
      case 1:  // cut the line
        l.resize(pick(l.size() + 1));
        break;
      case 2:  // drop a line
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())));
        break;
      case 3:  // repeat a line many times
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())), 1 + pick(3000), l);
        break;
      case 4: {  // splice in lines of another output
        auto other = lines_of(texts[pick(texts.size())]);
        std::size_t from = pick(other.size());
        std::size_t n = std::min(other.size() - from, 1 + pick(40));
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())), other.begin() + static_cast<std::ptrdiff_t>(from),
                     other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      case 5:  // a very long line
        l.append(pick(40000), static_cast<char>('a' + pick(26)));
        break;
      case 6:  // a stray or unterminated escape sequence
        l.insert(pick(l.size() + 1), pick(2) ? "\x1b[" : "\x1b]0;title");
        break;
      case 7:  // invalid UTF-8 and NULs
        l.insert(pick(l.size() + 1), std::string("\xff\xfe\x00\xc3", 4));
        break;
      default:  // prefix like a logger
        l.insert(0, "2026-11-23 19:52:28,121 ERROR [main] ");
        break;
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("every detector survives random and mutated input within its caps", "[fuzz][parsers]") {
  const char* seed_env = std::getenv("CRASHWRAP_FUZZ_SEED");
  const char* secs_env = std::getenv("CRASHWRAP_FUZZ_SECONDS");
  std::uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261123;
  auto budget = std::chrono::seconds(secs_env ? std::atoi(secs_env) : 10);
  const auto texts = corpus_texts();
  REQUIRE_FALSE(texts.empty());

  std::string error;
  auto reg = Registry::create({}, error);
  REQUIRE(reg);
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::uint64_t rounds = 0, lines_fed = 0, reports = 0;
  std::uint64_t numbers[2] = {0, 0};
  const Timestamp t0 = Clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    Mutator m(seed + rounds);
    INFO("seed " << seed + rounds);
    std::vector<std::string> lines = m.mutate(texts);
    std::vector<CrashReport> out;
    for (const std::string& text : lines) {
      Line line;
      line.stream = m.pick(4) == 0 ? Stream::Stdout : Stream::Stderr;
      line.number = ++numbers[line.stream == Stream::Stdout ? 0 : 1];
      line.text = std::string_view(text).substr(0, 16 * 1024);
      line.cut_bytes = text.size() - line.text.size();
      line.time = t0 + std::chrono::milliseconds(lines_fed++);
      reg->feed(line, out);
    }
    if (m.pick(2) == 0)
      reg->flush(t0 + std::chrono::milliseconds(lines_fed + 10000), std::chrono::milliseconds(1000), out);
    else
      reg->finish(out);
    for (const CrashReport& r : out) {
      INFO("report of " << r.runtime << ", " << r.exceptions.size() << " exception(s), " << r.threads.size()
                        << " thread(s)");
      REQUIRE(r.raw.size() <= 512 * 1024 + 16 * 1024);
      REQUIRE(r.first_line <= r.last_line);
      std::size_t frames = 0;
      for (const Exception& e : r.exceptions) frames += e.stacktrace.frames.size();
      for (const Thread& t : r.threads) frames += t.stacktrace.frames.size();
      // 512 per stack as parsed, up to twice that where a runtime completes a
      // stack from the enclosing one (Java's "... N more").
      REQUIRE(frames <= 2 * 512 * (r.exceptions.size() + r.threads.size()));
      REQUIRE((!r.exceptions.empty() || !r.threads.empty()));
    }
    reports += out.size();
    ++rounds;
  }
  reg->finish(*std::make_unique<std::vector<CrashReport>>());
  WARN("fuzz: " << rounds << " inputs, " << lines_fed << " lines, " << reports << " reports, seed " << seed);
  CHECK(rounds > 0);
}
