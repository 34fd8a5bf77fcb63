// Runs every enabled detector on every line and hands out finished reports.
//
// Fast path: a line only reaches an idle detector when it contains one of that
// detector's anchors (AnchorIndex: a few table lookups per two bytes); a line
// that contains no anchor calls no detector.
// Overlaps: when two detectors claim the same lines, the richer report wins
// (more frames, then more exceptions, then more lines); reports are held
// until no detector still working on that stream could produce a rival.
// Event loop only.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/anchor_index.h"
#include "parsers/detector.h"

namespace crashwrap::parsers {

class Registry {
 public:
  // Canonical names of every detector, in registry order.
  static std::vector<std::string_view> names();
  // All detectors (names empty) or the named ones (names or aliases, case-insensitive).
  // Unknown name → nullopt and `error` lists the valid names.
  static std::optional<Registry> create(const std::vector<std::string>& names, std::string& error);
  // Same, but without the named detectors (used by detectors that re-parse embedded traces).
  static Registry all_except(std::string_view name);

  Registry(Registry&&) noexcept = default;
  Registry& operator=(Registry&&) noexcept = default;

  // --in-app-include / --in-app-exclude: prefixes of module/function, or substrings
  // of paths; include wins over exclude, both over the runtime's default.
  void set_in_app_rules(std::vector<std::string> include, std::vector<std::string> exclude);

  void feed(const Line& line, std::vector<CrashReport>& out);
  void flush(Timestamp now, std::chrono::milliseconds quiet, std::vector<CrashReport>& out);
  void finish(std::vector<CrashReport>& out);

  std::size_t size() const noexcept { return detectors_.size(); }

 private:
  Registry() = default;
  void add(std::unique_ptr<Detector> d);
  std::uint64_t prefilter(std::string_view text) const noexcept;
  void refresh_active(std::size_t index);
  void refresh_active(std::size_t index, Stream stream);
  void collect(std::size_t first_new);
  void release(std::vector<CrashReport>& out, bool all);
  void apply_in_app(CrashReport& r) const;

  std::vector<std::unique_ptr<Detector>> detectors_;
  AnchorIndex anchors_;
  std::array<std::uint64_t, 2> active_{0, 0};  // per stream: detectors with a report in progress
  std::vector<CrashReport> pending_;
  std::vector<std::string> in_app_include_, in_app_exclude_;
};

}  // namespace crashwrap::parsers
