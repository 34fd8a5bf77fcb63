// Test helpers for the JVM, .NET and Node.js detector tests: feed text to the
// registry line by line, and check a recorded corpus case against its
// expect.json (the subset of the corpus runner's checks that concerns one
// detector: exception chain, frames, top frame, thread).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/registry.h"
#include "parsers/text.h"
#include "support/paths.h"

namespace crashwrap::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Feeds `text` (LF-separated, CR stripped) on one stream through the named
// detectors (empty = all) and finishes.
inline std::vector<parsers::CrashReport> feed(const std::vector<std::string>& detectors, std::string_view text,
                                              parsers::Stream stream = parsers::Stream::Stderr) {
  std::string error;
  auto reg = parsers::Registry::create(detectors, error);
  REQUIRE(reg);
  std::vector<parsers::CrashReport> out;
  std::uint64_t n = 0;
  auto t0 = parsers::Clock::now();
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    parsers::Line l;
    l.stream = stream;
    l.text = line.substr(0, 16 * 1024);
    l.cut_bytes = line.size() - l.text.size();
    l.number = ++n;
    l.time = t0 + std::chrono::milliseconds(n);
    reg->feed(l, out);
  }
  reg->finish(out);
  return out;
}

inline const parsers::Frame* top_frame(const parsers::Exception& e) {
  return e.stacktrace.frames.empty() ? nullptr : &e.stacktrace.frames.back();
}

// Runs a case of tests/corpus through the detectors of `detectors` and checks
// the events' exceptions against expect.json.
inline void check_case(const std::string& rel, const std::vector<std::string>& detectors) {
  using nlohmann::json;
  std::string dir = corpus_dir() + "/" + rel;
  json expect = json::parse(read_file(dir + "/expect.json"));
  bool on_stdout = expect.value("stream", "stderr") == "stdout";
  std::string text = read_file(dir + (on_stdout ? "/stdout" : "/stderr"));
  auto reports = feed(detectors, text, on_stdout ? parsers::Stream::Stdout : parsers::Stream::Stderr);
  INFO("case " << rel);
  REQUIRE(reports.size() == expect["events"].size());
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    const json& ev = expect["events"][i];
    CHECK(r.runtime == expect["runtime"].get<std::string>());
    REQUIRE(r.exceptions.size() == ev["exceptions"].size());
    for (std::size_t k = 0; k < r.exceptions.size(); ++k) {
      const auto& x = r.exceptions[k];
      const json& ex = ev["exceptions"][k];
      INFO("exception " << k);
      CHECK(x.type == ex["type"].get<std::string>());
      if (ex.contains("value")) {
        if (ex["value"].is_null())
          CHECK_FALSE(x.value.has_value());
        else
          CHECK(x.value == std::optional<std::string>(ex["value"].get<std::string>()));
      }
      if (ex.contains("value_contains")) {
        REQUIRE(x.value);
        CHECK(parsers::text::contains(*x.value, ex["value_contains"].get<std::string>()));
      }
      if (ex.contains("module")) CHECK(x.module == (ex["module"].is_null() ? "" : ex["module"].get<std::string>()));
      CHECK(x.stacktrace.frames.size() >= ex.value("frames_min", 0u));
      if (ex.contains("top_frame")) {
        const json& tf = ex["top_frame"];
        const parsers::Frame* f = top_frame(x);
        REQUIRE(f != nullptr);
        if (tf.contains("function")) CHECK(f->function == tf["function"].get<std::string>());
        if (tf.contains("module")) CHECK(f->module == tf["module"].get<std::string>());
        if (tf.contains("lineno")) CHECK(f->lineno == std::optional<std::uint32_t>(tf["lineno"].get<std::uint32_t>()));
        if (tf.contains("filename_endswith")) {
          std::string want = tf["filename_endswith"].get<std::string>();
          CHECK((parsers::text::ends_with(f->filename, want) || parsers::text::ends_with(f->abs_path, want)));
        }
      }
    }
    if (ev.contains("thread")) {
      bool found = false;
      for (const auto& t : r.threads) found = found || (t.crashed && t.name == ev["thread"].get<std::string>());
      CHECK(found);
    }
  }
}

// Every case directory under tests/corpus/<runtime>/, sorted.
inline std::vector<std::string> cases_of(const std::string& runtime) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir() + "/" + runtime))
    if (std::filesystem::exists(e.path() / "expect.json")) out.push_back(runtime + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace crashwrap::test
