#include <catch2/catch.hpp>

#include <set>

#include "config/options.h"
#include "parsers/registry.h"

using namespace crashwrap::config;
using namespace std::chrono_literals;

TEST_CASE("durations", "[options]") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("2s") == 2000ms);
  CHECK(parse_duration("1.5") == 1500ms);
  CHECK(parse_duration("1m") == 60000ms);
  CHECK(parse_duration("1h") == 3600000ms);
  CHECK(parse_duration(" 10 s ") == 10000ms);
  CHECK(parse_duration("0") == 0ms);
  CHECK(parse_duration("0.25s") == 250ms);
  for (const char* bad : {"", "abc", "-1", "10x", "1.2.3", "s", "1e3", "nan", "99999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
}

TEST_CASE("sizes", "[options]") {
  CHECK(parse_size("16KiB") == 16384u);
  CHECK(parse_size("256MiB") == 256ull << 20);
  CHECK(parse_size("1GiB") == 1ull << 30);
  CHECK(parse_size("1048576") == 1048576u);
  CHECK(parse_size("16k") == 16384u);
  CHECK(parse_size("16KB") == 16000u);
  CHECK(parse_size("2MB") == 2000000u);
  CHECK(parse_size("1.5KiB") == 1536u);
  CHECK(parse_size("10 B") == 10u);
  for (const char* bad : {"", "big", "-5", "1.5", "12XB", "KiB", "1e9"}) {
    INFO(bad);
    CHECK_FALSE(parse_size(bad));
  }
}

TEST_CASE("formatting round-trips", "[options]") {
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(2000ms) == "2s");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(1050ms) == "1.05s");
  CHECK(format_duration(120000ms) == "2m");
  CHECK(format_size(16384) == "16KiB");
  CHECK(format_size(256ull << 20) == "256MiB");
  CHECK(format_size(1000) == "1000");
}

TEST_CASE("booleans", "[options]") {
  for (const char* t : {"1", "true", "YES", "on"}) CHECK(parse_bool(t) == true);
  for (const char* f : {"0", "false", "No", "off"}) CHECK(parse_bool(f) == false);
  CHECK_FALSE(parse_bool("maybe"));
}

TEST_CASE("the table covers every option of the spec once", "[options]") {
  const char* required[] = {
      "--spool", "--dsn", "--release", "--environment", "--server-name", "--tag", "--send-env",
      "--line-buffer", "--no-line-buffer", "--no-env-hints", "--group", "--stop-signal", "--kill-after",
      "--drain-grace", "--remap-exit", "--report-exit-codes", "--ignore-exit-codes", "--max-line-bytes",
      "--tail-lines", "--tail-bytes", "--spool-max-bytes", "--spool-max-files", "--compression",
      "--flush-timeout", "--ca-file", "--insecure", "--attachment-max-bytes", "--detectors",
      "--no-report-logged", "--report-exit-grace", "--in-app-include", "--in-app-exclude",
      "--fingerprint-local", "--config", "--strict", "--quiet", "--help", "--version"};
  for (const char* f : required) {
    INFO(f);
    CHECK(find_flag(f));
  }
  std::set<std::string_view> flags, envs, keys;
  for (const Option& o : options()) {
    INFO(o.flag);
    CHECK(flags.insert(o.flag).second);
    if (!o.env.empty()) CHECK(envs.insert(o.env).second);
    if (!o.json_key.empty()) CHECK(keys.insert(o.json_key).second);
    CHECK(o.apply != nullptr);
    CHECK(o.reset != nullptr);
    CHECK_FALSE(o.help.empty());
    if (o.special == Special::None) {
      CHECK(o.env.substr(0, 10) == "CRASHWRAP_");
      CHECK_FALSE(o.json_key.empty());
    }
  }
}

TEST_CASE("appliers set Config and reject bad values with a phrase", "[options]") {
  Config c;
  auto apply = [&](std::string_view flag, std::string_view value) {
    auto m = find_flag(flag);
    REQUIRE(m);
    return m->option->apply(c, value);
  };
  CHECK(apply("--kill-after", "10s").empty());
  CHECK(c.kill_after == 10000ms);
  CHECK(apply("--kill-after", "off").empty());
  CHECK_FALSE(c.kill_after);
  CHECK(apply("--kill-after", "abc") == "is not a duration");
  CHECK(apply("--stop-signal", "SIGINT").empty());
  CHECK(c.stop_signal == 2);
  CHECK(apply("--stop-signal", "usr1").empty());
  CHECK(c.stop_signal == 10);
  CHECK(apply("--stop-signal", "SIGNOPE") == "is not a signal name or number");
  CHECK(apply("--remap-exit", "143=0").empty());
  CHECK(apply("--remap-exit", "1=2").empty());
  CHECK(c.remap_exit == std::map<int, int>{{1, 2}, {143, 0}});
  CHECK(apply("--remap-exit", "300=0") == "is not FROM=TO with exit codes 0-255");
  CHECK(apply("--ignore-exit-codes", "143").empty());
  CHECK(c.ignore_exit_codes == std::set<int>{143});
  CHECK(apply("--compression", "ZSTD").empty());
  CHECK(c.compression == Compression::Zstd);
  CHECK(apply("--compression", "brotli") == "is not one of gzip, zstd, none");
  CHECK(apply("--line-buffer", "auto").empty());
  CHECK(c.line_buffer == LineBuffer::Auto);
  CHECK(apply("--line-buffer", "false").empty());
  CHECK(c.line_buffer == LineBuffer::Off);
  CHECK(apply("--tag", "team=pay").empty());
  CHECK(apply("--tag", "team=core").empty());
  CHECK(c.tags == std::vector<std::pair<std::string, std::string>>{{"team", "core"}});
  CHECK(apply("--tag", "novalue") == "is not KEY=VALUE");
  CHECK(apply("--send-env", "HOME").empty());
  CHECK(apply("--send-env", "A-B") == "is not an environment variable name");
  CHECK(apply("--max-line-bytes", "10") == "is too small (at least 64)");
  CHECK(apply("--max-line-bytes", "64KiB").empty());
  CHECK(c.max_line_bytes == 65536u);
  CHECK(apply("--dsn", "https://k@h/1").empty());
  CHECK(apply("--dsn", "https://h/1") == "is not a valid DSN: it has no public key (the part before '@')");
  CHECK(c.dsns == std::vector<std::string>{"https://k@h/1"});
  if (!crashwrap::parsers::Registry::names().empty()) {
    std::string first(crashwrap::parsers::Registry::names().front());
    CHECK(apply("--detectors", first).empty());
    CHECK(c.detectors == std::vector<std::string>{first});
  }
  CHECK(apply("--detectors", "cobol").rfind("is not a detector (valid: ", 0) == 0);
}

TEST_CASE("flag lookup, negations and suggestions", "[options]") {
  auto m = find_flag("--no-env-hints");
  REQUIRE(m);
  CHECK(m->negated);
  CHECK(m->option->flag == "--env-hints");
  CHECK(find_flag("-h")->option->special == Special::Help);
  CHECK_FALSE(find_flag("--nope"));
  auto no_group = find_flag("--no-group");
  REQUIRE(no_group);
  CHECK(no_group->negated);
  CHECK(no_group->option->flag == "--group");
  CHECK_FALSE(find_flag("--no-help"));
  CHECK_FALSE(find_flag("--no-kill-after"));
  CHECK(suggest_flag("--kil-after") == "--kill-after");
  CHECK(suggest_flag("--completely-different") == "");
  CHECK(find_json_key("kill_after")->flag == "--kill-after");
  CHECK(find_json_key("nope") == nullptr);
}

TEST_CASE("fallback phrases", "[options]") {
  CHECK(find_flag("--kill-after")->option->fallback_phrase() == "using no kill-after");
  CHECK(find_flag("--drain-grace")->option->fallback_phrase() == "using the default 500ms");
  CHECK(find_flag("--tag")->option->fallback_phrase() == "ignoring it");
}
