// The registry's no-crash fast path: which detectors' anchors (literal
// substrings) a line contains, answered with a few table lookups per two
// bytes and no call for an ordinary line.
//
// Each anchor is indexed by its least frequent three adjacent bytes c0 c1 c2:
// both byte pairs (c0c1, c1c2) go into a 64 KiB pair table (a byte per pair:
// one load and a test per step, no shifts) and the triple
// into a 64 Ki-bit triple table. The scan looks at the pair at every other
// position only, since one of an occurrence's two pairs always starts at an
// even position; a pair hit is confirmed by the triple table before any
// anchor is compared. The pair table says which role the pair plays (first or
// second pair of a triple), so only that triple is looked up. Anchors of two
// bytes switch the scan to every position.
// Pure; build once, then scan from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace crashwrap::parsers {

class AnchorIndex {
 public:
  // `anchor` must outlive the index; `bits` is what scan() ORs in on a match.
  void add(std::string_view anchor, std::uint64_t bits);
  // The OR of the bits of every anchor that occurs in `text`.
  std::uint64_t scan(std::string_view text) const noexcept;

 private:
  struct Entry {
    std::string_view text;
    std::uint64_t bits;    // of every add() of this text
    std::uint32_t offset;  // of the indexed triple (or pair) within `text`
  };
  // Roles of a pair in the pair table.
  static constexpr std::uint8_t kFirstPair = 1;   // c0c1 of an indexed triple
  static constexpr std::uint8_t kSecondPair = 2;  // c1c2 of an indexed triple
  static constexpr std::uint8_t kWholeAnchor = 4; // a two-byte anchor

  std::uint64_t confirm(std::string_view s, std::size_t pos, std::uint16_t key, std::uint64_t hits) const noexcept;

  std::vector<std::uint8_t> pairs_ = std::vector<std::uint8_t>(65536, 0);
  std::vector<std::uint64_t> triples_ = std::vector<std::uint64_t>(65536 / 64, 0);
  // key → 1 + bucket: an open-addressing table a few times larger than the
  // hundred keys, looked up only on a triple-table hit (a 64 Ki-entry array
  // would cost 32 page faults at start).
  std::vector<std::pair<std::uint16_t, std::uint16_t>> bucket_of_;
  std::uint16_t bucket(std::uint16_t key) const noexcept;
  void insert_bucket(std::uint16_t key, std::uint16_t b);
  std::vector<std::vector<Entry>> buckets_;
  bool every_position_ = false;  // a 2-byte anchor: keyed by its pair, scanned at every position
};

}  // namespace crashwrap::parsers
