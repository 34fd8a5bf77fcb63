// The golden-corpus runner: every directory under tests/corpus holding an
// expect.json is one test case, registered as "corpus <runtime>/<case>" with
// the tags [corpus][<runtime dir>] (filter with `corpus_test "*python*"` or
// `corpus_test "[go]"`).
//
// A case's recorded stdout and stderr are split like the agent does (LF, a
// trailing CR stripped, 16 KiB analysis cap), fed through a Registry with every
// detector (the other stream first, then the stream that carries the crash),
// finished, and joined with the recorded ending by Verdict::child_exited. An
// ending by a signal with no report at all is emulated as the event the agent
// synthesises from the exit alone (type = signal name, no value, no frames).
//
// What is compared with expect.json (format: /work/shared/corpus/README.md):
//   events: count and order; level; handled
//   exceptions: count, then per exception type, value (null = no message) or
//     value_contains, module (null = empty), frames_min, top_frame (the LAST
//     frame: function exact, filename_endswith on abs_path or filename,
//     lineno, module)
//   threads_min: report.threads.size()
//   thread: a Thread in report.threads with that name and crashed == true
//
// Each case is also replayed (a) between unrelated log lines on both streams
// and (b) back to back with itself, where the first copy's events are
// expected as handled errors (only the last report before a failing exit is
// fatal) — or dropped when every report is fatal_only (Perl's die) — and the
// second copy's as recorded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/registry.h"
#include "parsers/signal_names.h"
#include "parsers/verdict.h"
#include "support/paths.h"

namespace fs = std::filesystem;
using namespace crashwrap::parsers;
using nlohmann::json;

namespace {

constexpr std::size_t kCap = 16 * 1024;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string id;        // "<runtime dir>/<case>"
  fs::path dir;
  std::string out, err;  // recorded bytes
  ExitInfo exit;
  json expect;
};

ExitInfo parse_exit(std::string_view text) {
  ExitInfo e;
  std::string s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.rfind("code ", 0) == 0) {
    e.code = std::stoi(s.substr(5));
    e.kind = e.code == 0 ? ExitKind::Clean : ExitKind::ErrorExit;
  } else if (s.rfind("signal ", 0) == 0) {
    e.kind = ExitKind::Signal;
    e.signal_name = s.substr(7);
    e.signal = signal_number(e.signal_name).value_or(0);
  } else {
    FAIL("exit file must read 'code N' or 'signal NAME', got '" << s << "'");
  }
  return e;
}

Case load_case(const fs::path& dir, const std::string& id) {
  Case c;
  c.id = id;
  c.dir = dir;
  if (fs::exists(dir / "stdout")) c.out = slurp(dir / "stdout");
  if (fs::exists(dir / "stderr")) c.err = slurp(dir / "stderr");
  REQUIRE(fs::exists(dir / "exit"));
  c.exit = parse_exit(slurp(dir / "exit"));
  c.expect = json::parse(slurp(dir / "expect.json"));
  return c;
}

// One stream's lines as the agent's splitter produces them.
struct StreamInput {
  Stream stream;
  std::vector<std::string> lines;
};

std::vector<std::string> split_lines(const std::string& bytes) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t nl = bytes.find('\n', pos);
    std::size_t end = nl == std::string::npos ? bytes.size() : nl;
    std::string line = bytes.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = nl == std::string::npos ? bytes.size() : nl + 1;
  }
  return lines;
}

struct Run {
  std::vector<CrashReport> events;
  bool fatal_only = false;  // every report found only stands for a crash of the process (Perl's die)
};

// Feeds the streams in order through a fresh Registry and Verdict and returns
// the events of the run, including the exit-only event when nothing was found.
Run run(const std::vector<StreamInput>& inputs, const ExitInfo& exit) {
  std::string error;
  auto reg = Registry::create({}, error);
  REQUIRE(reg);
  Verdict verdict(std::chrono::milliseconds(2000));
  const Timestamp t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));
  std::uint64_t seq = 0;
  std::uint64_t numbers[2] = {0, 0};
  std::vector<CrashReport> reports;
  std::size_t found = 0, fatal_only = 0;
  auto hand_over = [&](Timestamp now) {
    for (CrashReport& r : reports) {
      ++found;
      fatal_only += r.fatal_only ? 1 : 0;
      verdict.report_finished(std::move(r), now);
    }
    reports.clear();
  };
  for (const StreamInput& in : inputs) {
    for (const std::string& text : in.lines) {
      Line line;
      line.stream = in.stream;
      line.time = t0 + std::chrono::milliseconds(++seq);
      line.number = ++numbers[in.stream == Stream::Stdout ? 0 : 1];
      line.text = std::string_view(text).substr(0, kCap);
      line.cut_bytes = text.size() > kCap ? text.size() - kCap : 0;
      reg->feed(line, reports);
      hand_over(line.time);
    }
  }
  const Timestamp end = t0 + std::chrono::milliseconds(++seq);
  reg->finish(reports);
  hand_over(end);
  std::vector<CrashReport> events = verdict.child_exited(exit, end);
  if (events.empty() && exit.kind == ExitKind::Signal) {
    CrashReport r;
    r.runtime = "exit";
    Exception& e = r.exceptions.emplace_back();
    e.type = exit.signal_name;
    e.mechanism.synthetic = true;
    Verdict::mark_fatal(r);
    events.push_back(std::move(r));
  }
  return {std::move(events), found > 0 && fatal_only == found};
}

std::string describe(const std::vector<CrashReport>& events) {
  std::ostringstream os;
  os << events.size() << " event(s)";
  for (const CrashReport& r : events) {
    os << "\n  [" << r.runtime << " " << level_name(r.level) << (r.handled ? " handled" : " unhandled") << " lines "
       << stream_name(r.stream) << ":" << r.first_line << "-" << r.last_line << " threads " << r.threads.size()
       << "]";
    for (const Exception& e : r.exceptions) {
      os << "\n    " << (e.module.empty() ? "" : e.module + ".") << e.type << ": "
         << (e.value ? *e.value : std::string("<null>")) << "  (" << e.stacktrace.frames.size() << " frames";
      if (!e.stacktrace.frames.empty()) {
        const Frame& f = e.stacktrace.frames.back();
        os << ", top " << (f.module.empty() ? "" : f.module + " ") << f.function << " @ "
           << (f.abs_path.empty() ? f.filename : f.abs_path) << ":" << (f.lineno ? std::to_string(*f.lineno) : "-");
      }
      os << ")";
    }
  }
  return os.str();
}

void check_frame(const Frame& f, const json& top) {
  if (top.contains("function")) CHECK(f.function == top["function"].get<std::string>());
  if (top.contains("filename_endswith")) {
    std::string suffix = top["filename_endswith"].get<std::string>();
    auto ends = [&](const std::string& s) {
      return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    INFO("abs_path '" << f.abs_path << "' filename '" << f.filename << "' should end with '" << suffix << "'");
    CHECK((ends(f.abs_path) || ends(f.filename)));
  }
  if (top.contains("lineno")) {
    REQUIRE(f.lineno.has_value());
    CHECK(*f.lineno == top["lineno"].get<std::uint32_t>());
  }
  if (top.contains("module")) CHECK(f.module == top["module"].get<std::string>());
}

void check_exception(const Exception& e, const json& x) {
  CHECK(e.type == x["type"].get<std::string>());
  if (x.contains("value")) {
    if (x["value"].is_null()) {
      INFO("value should be null, is '" << e.value.value_or("") << "'");
      CHECK_FALSE(e.value.has_value());
    } else {
      REQUIRE(e.value.has_value());
      CHECK(*e.value == x["value"].get<std::string>());
    }
  }
  if (x.contains("value_contains")) {
    REQUIRE(e.value.has_value());
    std::string part = x["value_contains"].get<std::string>();
    INFO("value '" << *e.value << "' should contain '" << part << "'");
    CHECK(e.value->find(part) != std::string::npos);
  }
  if (x.contains("module")) CHECK(e.module == (x["module"].is_null() ? "" : x["module"].get<std::string>()));
  std::size_t frames_min = x.value("frames_min", 0);
  CHECK(e.stacktrace.frames.size() >= frames_min);
  if (x.contains("top_frame") && !e.stacktrace.frames.empty()) check_frame(e.stacktrace.frames.back(), x["top_frame"]);
}

void check_event(const CrashReport& r, const json& ev) {
  CHECK(level_name(r.level) == ev["level"].get<std::string>());
  CHECK(r.handled == ev["handled"].get<bool>());
  const json& xs = ev["exceptions"];
  REQUIRE(r.exceptions.size() == xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    INFO("exception #" << i << " (oldest first)");
    check_exception(r.exceptions[i], xs[i]);
  }
  CHECK(r.threads.size() >= ev.value("threads_min", std::size_t{0}));
  if (ev.contains("thread") && !ev["thread"].is_null()) {
    std::string name = ev["thread"].get<std::string>();
    bool found = std::any_of(r.threads.begin(), r.threads.end(),
                             [&](const Thread& t) { return t.crashed && t.name == name; });
    INFO("a crashed thread named '" << name << "' is expected in report.threads");
    CHECK(found);
  }
}

void check_events(const std::vector<CrashReport>& got, const json& expected) {
  INFO("parsed: " << describe(got));
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("event #" << i);
    check_event(got[i], expected[i]);
  }
}

std::vector<StreamInput> inputs_of(const Case& c) {
  Stream crash = c.expect.value("stream", std::string("stderr")) == "stdout" ? Stream::Stdout : Stream::Stderr;
  Stream other = crash == Stream::Stdout ? Stream::Stderr : Stream::Stdout;
  const std::string& crash_bytes = crash == Stream::Stdout ? c.out : c.err;
  const std::string& other_bytes = crash == Stream::Stdout ? c.err : c.out;
  return {{other, split_lines(other_bytes)}, {crash, split_lines(crash_bytes)}};
}

const std::vector<std::string>& unrelated_lines() {
  static const std::vector<std::string> lines = {
      "2026-11-23T19:52:28.120Z INFO  http: GET /api/v1/orders/4711 200 12ms",
      "[worker-3] processed batch 1841 (512 items) in 0.84s",
      "2026-11-23 19:52:28,121 DEBUG cache: hit ratio 0.97 over 10000 lookups",
      "listening on 0.0.0.0:8080",
  };
  return lines;
}

void run_case(const Case& c) {
  const json& expected = c.expect["events"];
  bool has_report = false;
  for (const json& ev : expected)
    for (const json& x : ev["exceptions"])
      if (!x.value("type_synthetic", false) || x.value("frames_min", 0) > 0 || x.contains("value_contains") ||
          (x.contains("value") && !x["value"].is_null()))
        has_report = true;
  std::vector<StreamInput> base = inputs_of(c);

  SECTION("as recorded") { check_events(run(base, c.exit).events, expected); }

  SECTION("between unrelated log lines") {
    std::vector<StreamInput> wrapped = base;
    for (StreamInput& in : wrapped) {
      std::vector<std::string> lines = unrelated_lines();
      lines.insert(lines.end(), in.lines.begin(), in.lines.end());
      lines.insert(lines.end(), unrelated_lines().begin(), unrelated_lines().end());
      in.lines = std::move(lines);
    }
    check_events(run(wrapped, c.exit).events, expected);
  }

  SECTION("back to back with itself") {
    std::vector<StreamInput> twice = base;
    for (StreamInput& in : twice) {
      std::vector<std::string> copy = in.lines;
      in.lines.insert(in.lines.end(), copy.begin(), copy.end());
    }
    Run twice_run = run(twice, c.exit);
    json doubled = json::array();
    // The first copy's reports are handled errors, except those that only
    // stand for a crash of the process, which are dropped.
    if (has_report && !twice_run.fatal_only) {
      for (json ev : expected) {
        ev["level"] = "error";
        ev["handled"] = true;
        doubled.push_back(std::move(ev));
      }
    }
    for (const json& ev : expected) doubled.push_back(ev);
    check_events(twice_run.events, doubled);
  }
}

// ---- registration: one Catch test case per corpus directory ---------------------

struct CaseInvoker final : Catch::ITestInvoker {
  fs::path dir;
  std::string id;
  CaseInvoker(fs::path d, std::string i) : dir(std::move(d)), id(std::move(i)) {}
  void invoke() const override {
    INFO("corpus case " << dir.string());
    run_case(load_case(dir, id));
  }
};

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  fs::path root = crashwrap::test::corpus_dir();
  if (!fs::is_directory(root, ec)) return dirs;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && fs::exists(it->path() / "expect.json")) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

struct Registration {
  Registration() {
    fs::path root = crashwrap::test::corpus_dir();
    for (const fs::path& dir : case_dirs()) {
      std::string id = fs::relative(dir, root).generic_string();
      std::string runtime = id.substr(0, id.find('/'));
      std::string name = "corpus " + id;
      std::string tags = "[corpus][" + runtime + "]";
      // Catch keeps copies of the name and tags; the invoker is owned by the registry.
      Catch::AutoReg(new CaseInvoker(dir, id), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                     Catch::NameAndTags{name, tags});
    }
  }
};

const Registration registration;

}  // namespace

TEST_CASE("the corpus is present and every case is complete", "[corpus]") {
  std::vector<fs::path> dirs = case_dirs();
  CHECK(dirs.size() >= 1);
  for (const fs::path& d : dirs) {
    INFO(d.string());
    CHECK(fs::exists(d / "exit"));
    CHECK((fs::exists(d / "stdout") || fs::exists(d / "stderr")));
    json e = json::parse(slurp(d / "expect.json"));
    CHECK(e.contains("events"));
    CHECK(e["events"].is_array());
  }
}
