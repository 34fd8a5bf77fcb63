// Seeded generator of hostile inputs for the crash detectors: random bytes,
// and recorded crash outputs mutated the ways real output goes wrong (bit
// flips, truncation, shuffled and duplicated lines, two reports spliced,
// huge lines, invalid UTF-8, ANSI colours, logging prefixes, CRLF, JSON
// wrapping). Deterministic for a given seed and pool.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace crashwrap::fuzz {

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::vector<std::string> pool);

  // One input; `what` names the recipe (for the failure report).
  std::string next(std::string& what);

 private:
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
  const std::string& pick();
  std::string random_bytes();
  std::vector<std::string> lines_of(const std::string& s);
  static std::string join(const std::vector<std::string>& lines);
  void mutate(std::string& s, std::string& what);
  void mutate_lines(std::vector<std::string>& lines, std::string& what);

  std::mt19937_64 rng_;
  std::vector<std::string> pool_;
};

}  // namespace crashwrap::fuzz
