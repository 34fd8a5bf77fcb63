#include "parsers/anchor_index.h"

#include <algorithm>
#include <cstring>

namespace crashwrap::parsers {
namespace {

// Rough share of a byte in ordinary log text: spaces, common lowercase
// letters, digits and separators are frequent; capitals and most punctuation
// are not. Anchors are indexed where they are least likely to occur by chance.
double frequency(unsigned char c) {
  if (c == ' ') return 0.15;
  if (c == 'e' || c == 't' || c == 'a' || c == 'o' || c == 'i' || c == 'n' || c == 's' || c == 'r') return 0.06;
  if (c >= 'a' && c <= 'z') return 0.02;
  if (c >= '0' && c <= '9') return 0.03;
  if (c >= 'A' && c <= 'Z') return 0.008;
  if (c == ':' || c == '.' || c == ',' || c == '-' || c == '/' || c == '=' || c == '_') return 0.02;
  if (c == '"' || c == '(' || c == ')' || c == '[' || c == ']') return 0.008;
  return 0.002;
}

double pair_frequency(std::string_view a, std::size_t i) {
  return frequency(static_cast<unsigned char>(a[i])) * frequency(static_cast<unsigned char>(a[i + 1]));
}

// Offset of the triple whose two pairs together are the least frequent.
std::uint32_t rarest_triple(std::string_view a) {
  std::uint32_t best = 0;
  double best_f = 4.0;
  for (std::size_t k = 0; k + 2 < a.size(); ++k) {
    double f = pair_frequency(a, k) + pair_frequency(a, k + 1);
    if (f < best_f) {
      best_f = f;
      best = static_cast<std::uint32_t>(k);
    }
  }
  return best;
}

// The two bytes as one load (the same function indexes and scans, so byte order doesn't matter).
inline std::uint16_t pair_key(const unsigned char* p) noexcept {
  std::uint16_t k;
  std::memcpy(&k, p, 2);
  return k;
}

inline std::uint16_t triple_key(const unsigned char* p) noexcept {
  std::uint32_t v = p[0] | (static_cast<std::uint32_t>(p[1]) << 8) | (static_cast<std::uint32_t>(p[2]) << 16);
  return static_cast<std::uint16_t>((v * 0x9E3779B1u) >> 16);
}

inline bool test(const std::vector<std::uint64_t>& bits, std::uint16_t k) noexcept {
  return (bits[k >> 6] >> (k & 63) & 1) != 0;
}

inline void set(std::vector<std::uint64_t>& bits, std::uint16_t k) { bits[k >> 6] |= std::uint64_t{1} << (k & 63); }

const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::uint16_t AnchorIndex::bucket(std::uint16_t key) const noexcept {
  if (bucket_of_.empty()) return 0;
  const std::size_t mask = bucket_of_.size() - 1;
  for (std::size_t i = key & mask;; i = (i + 1) & mask) {
    const auto& slot = bucket_of_[i];
    if (slot.second == 0) return 0;
    if (slot.first == key) return slot.second;
  }
}

void AnchorIndex::insert_bucket(std::uint16_t key, std::uint16_t b) {
  auto place = [this](std::uint16_t k, std::uint16_t v) {
    const std::size_t mask = bucket_of_.size() - 1;
    std::size_t i = k & mask;
    while (bucket_of_[i].second != 0) i = (i + 1) & mask;
    bucket_of_[i] = {k, v};
  };
  // At most half full, so that a miss ends after a probe or two.
  if (2 * static_cast<std::size_t>(b) > bucket_of_.size()) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> old = std::move(bucket_of_);
    bucket_of_.assign(std::max<std::size_t>(64, old.size() * 2), {0, 0});
    for (const auto& slot : old)
      if (slot.second != 0) place(slot.first, slot.second);
  }
  place(key, b);
}

void AnchorIndex::add(std::string_view anchor, std::uint64_t bits) {
  if (anchor.size() < 2) return;
  const unsigned char* a = bytes(anchor);
  std::uint32_t offset = 0;
  std::uint16_t key = 0;
  if (anchor.size() == 2) {
    every_position_ = true;
    pairs_[pair_key(a)] |= kWholeAnchor;
    key = pair_key(a);  // a bucket key like the triples': every entry is verified by comparison
  } else {
    offset = rarest_triple(anchor);
    pairs_[pair_key(a + offset)] |= kFirstPair;
    pairs_[pair_key(a + offset + 1)] |= kSecondPair;
    key = triple_key(a + offset);
    set(triples_, key);
  }
  std::uint16_t b = bucket(key);
  if (b == 0) {
    buckets_.emplace_back();
    b = static_cast<std::uint16_t>(buckets_.size());
    insert_bucket(key, b);
  }
  // Detectors share anchors ("Exception", "Traceback (most recent call
  // last):"): one entry answers for all of them.
  for (Entry& e : buckets_[b - 1u]) {
    if (e.text == anchor && e.offset == offset) {
      e.bits |= bits;
      return;
    }
  }
  buckets_[b - 1u].push_back({anchor, bits, offset});
}

std::uint64_t AnchorIndex::confirm(std::string_view s, std::size_t pos, std::uint16_t key,
                                   std::uint64_t hits) const noexcept {
  const std::uint16_t b = bucket(key);
  if (b == 0) return hits;
  for (const Entry& e : buckets_[b - 1u]) {
    if ((hits & e.bits) == e.bits) continue;
    if (pos < e.offset) continue;
    std::size_t start = pos - e.offset;
    if (start + e.text.size() <= s.size() && std::memcmp(s.data() + start, e.text.data(), e.text.size()) == 0)
      hits |= e.bits;
  }
  return hits;
}

std::uint64_t AnchorIndex::scan(std::string_view s) const noexcept {
  const std::size_t n = s.size();
  if (n < 2) return 0;
  const unsigned char* p = bytes(s);
  const std::uint8_t* pairs = pairs_.data();
  std::uint64_t hits = 0;
  auto triple_at = [&](std::size_t t) {
    std::uint16_t k = triple_key(p + t);
    if (test(triples_, k)) hits = confirm(s, t, k, hits);
  };
  if (!every_position_) {
    // The pair at i is the first or the second pair of an indexed triple.
    auto at = [&](std::size_t i, std::uint8_t role) {
      if ((role & kFirstPair) != 0 && i + 2 < n) triple_at(i);
      if ((role & kSecondPair) != 0 && i >= 1) triple_at(i - 1);
    };
    std::size_t i = 0;
    // Two steps per test: an ordinary stretch costs one branch per four bytes.
    for (; i + 3 < n; i += 4) {
      const std::uint8_t a = pairs[pair_key(p + i)], b = pairs[pair_key(p + i + 2)];
      if ((a | b) == 0) continue;
      if (a != 0) at(i, a);
      if (b != 0) at(i + 2, b);
    }
    for (; i + 1 < n; i += 2)
      if (const std::uint8_t a = pairs[pair_key(p + i)]; a != 0) at(i, a);
    return hits;
  }
  // Every position: each triple is looked up at its first pair.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const std::uint8_t role = pairs[pair_key(p + i)];
    if (role == 0) continue;
    if ((role & kFirstPair) != 0 && i + 2 < n) triple_at(i);
    if ((role & kWholeAnchor) != 0) hits = confirm(s, i, pair_key(p + i), hits);  // two-byte anchors
  }
  return hits;
}

}  // namespace crashwrap::parsers
