#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/load.h"
#include "parsers/registry.h"

using namespace crashwrap::config;
using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

namespace {

const std::string kDash = " \xe2\x80\x94 ";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/crashwrap-load-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("the command after -- and defaults", "[load]") {
  auto r = load(Args{"--", "python3", "app.py", "--kill-after", "x"}, Env{{"XDG_STATE_HOME", "/state"}});
  CHECK(r.warnings.empty());
  CHECK_FALSE(r.refuse);
  CHECK(r.config.command == Command::Run);
  CHECK(r.config.argv == Args{"python3", "app.py", "--kill-after", "x"});
  CHECK(r.config.spool_dir == "/state/crashwrap");
  CHECK_FALSE(r.config.server_name.empty());
  CHECK_FALSE(r.config.kill_after);
  CHECK(r.config.drain_grace == 500ms);
}

TEST_CASE("the first non-option word starts the command", "[load]") {
  auto r = load(Args{"--group", "python3", "app.py", "--", "arg", "--group"}, Env{});
  CHECK(r.warnings.empty());
  CHECK(r.config.group);
  CHECK(r.config.argv == Args{"python3", "app.py", "--", "arg", "--group"});
}

TEST_CASE("options with values, = form and negations", "[load]") {
  auto r = load(Args{"--kill-after", "10s", "--drain-grace=1.5", "--no-env-hints", "--no-line-buffer",
                     "--remap-exit", "143=0", "--remap-exit=1=0", "--ignore-exit-codes", "0,143",
                     "--tag", "a=1", "--tag", "b=x,y", "--stop-signal", "INT", "--compression", "zstd",
                     "--max-line-bytes", "32KiB", "--tail-lines", "20", "--no-report-logged",
                     "--send-env", "HOME,USER", "--", "true"},
                Env{});
  INFO(r.warnings.size());
  CHECK(r.warnings.empty());
  const Config& c = r.config;
  CHECK(c.kill_after == 10000ms);
  CHECK(c.drain_grace == 1500ms);
  CHECK_FALSE(c.env_hints);
  CHECK(c.line_buffer == LineBuffer::Off);
  CHECK(c.remap_exit == std::map<int, int>{{1, 0}, {143, 0}});
  CHECK(c.ignore_exit_codes == std::set<int>{0, 143});
  CHECK(c.tags == std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "x,y"}});
  CHECK(c.stop_signal == 2);
  CHECK(c.compression == Compression::Zstd);
  CHECK(c.max_line_bytes == 32768u);
  CHECK(c.tail_lines == 20u);
  CHECK_FALSE(c.report_logged);
  CHECK(c.send_env == Args{"HOME", "USER"});
}

TEST_CASE("a bad value warns with option, value and fix, and keeps the default", "[load]") {
  auto r = load(Args{"--kill-after", "abc", "--drain-grace", "soon", "--", "app"}, Env{});
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0] == "--kill-after 'abc' is not a duration" + kDash + "fix: use e.g. 10s; using no kill-after");
  CHECK(r.warnings[1] ==
        "--drain-grace 'soon' is not a duration" + kDash + "fix: use e.g. 1s; using the default 500ms");
  CHECK_FALSE(r.refuse);
  CHECK_FALSE(r.config.kill_after);
  CHECK(r.config.drain_grace == 500ms);
  CHECK(r.config.argv == Args{"app"});
}

TEST_CASE("strict mode refuses instead", "[load]") {
  auto r = load(Args{"--strict", "--kill-after", "abc", "--", "app"}, Env{});
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.refuse);
  CHECK(r.error == "refusing to start with 1 configuration problem (--strict)" + kDash +
                       "fix: correct the warnings above or drop --strict");
  auto ok = load(Args{"--strict", "--", "app"}, Env{});
  CHECK_FALSE(ok.refuse);
}

TEST_CASE("unknown options", "[load]") {
  SECTION("a near miss is suggested") {
    auto r = load(Args{"--kil-after", "5s", "--", "app"}, Env{});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "unknown option '--kil-after'" + kDash +
                               "fix: did you mean --kill-after? (see crashwrap --help); ignoring it and '5s'");
    CHECK(r.config.argv == Args{"app"});
  }
  SECTION("without -- the next word is the command") {
    auto r = load(Args{"--frobnicate", "app", "x"}, Env{});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "unknown option '--frobnicate'" + kDash + "fix: see crashwrap --help; ignoring it");
    CHECK(r.config.argv == Args{"app", "x"});
  }
  SECTION("strict") {
    auto r = load(Args{"--strict", "--frobnicate", "--", "app"}, Env{});
    CHECK(r.refuse);
  }
}

TEST_CASE("a missing value", "[load]") {
  auto r = load(Args{"app", "--kill-after"}, Env{});  // the flag belongs to the app here
  CHECK(r.warnings.empty());
  auto r2 = load(Args{"--kill-after", "--group", "--", "app"}, Env{});
  REQUIRE(r2.warnings.size() == 1);
  CHECK(r2.warnings[0] == "--kill-after needs a value" + kDash + "fix: use e.g. --kill-after 10s; using no kill-after");
  CHECK(r2.config.group);
}

TEST_CASE("environment variables, and CLI over environment", "[load]") {
  Env env{{"CRASHWRAP_KILL_AFTER", "3s"}, {"CRASHWRAP_GROUP", "1"}, {"CRASHWRAP_TAGS", "a=1,b=2"},
          {"CRASHWRAP_NO_ENV_HINTS", "true"}, {"CRASHWRAP_LINE_BUFFER", "on"}, {"CRASHWRAP_SPOOL", "/sp"},
          {"CRASHWRAP_QUIET", ""}};
  auto r = load(Args{"--kill-after", "4s", "--tag", "b=3", "--", "app"}, env);
  CHECK(r.warnings.empty());
  CHECK(r.config.kill_after == 4000ms);
  CHECK(r.config.group);
  CHECK_FALSE(r.config.env_hints);
  CHECK(r.config.line_buffer == LineBuffer::On);
  CHECK(r.config.spool_dir == "/sp");
  CHECK(r.config.tags == std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "3"}});
  CHECK_FALSE(r.config.quiet);
}

TEST_CASE("detector names from the environment", "[load]") {
  auto names = crashwrap::parsers::Registry::names();
  if (names.size() < 2) return;  // needs two registered detectors
  std::string a(names[0]), b(names[1]);
  auto r = load(Args{"--", "app"}, Env{{"CRASHWRAP_DETECTORS", a + "," + b}});
  CHECK(r.warnings.empty());
  CHECK(r.config.detectors == Args{a, b});
  auto bad = load(Args{"--detectors", "cobol", "--", "app"}, Env{});
  REQUIRE(bad.warnings.size() == 1);
  CHECK(bad.warnings[0].rfind("--detectors 'cobol' is not a detector (valid: " + a + ", " + b, 0) == 0);
}

TEST_CASE("a bad environment value names the variable", "[load]") {
  auto r = load(Args{"--", "app"}, Env{{"CRASHWRAP_TAIL_LINES", "many"}});
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0] ==
        "CRASHWRAP_TAIL_LINES 'many' is not a whole number" + kDash + "fix: use e.g. 200; using the default 500");
  CHECK(r.config.tail_lines == 500u);
}

TEST_CASE("DSN sources", "[load]") {
  const std::string a = "https://ka@h/1", b = "https://kb@h/2", c = "https://kc@h/3";
  SECTION("SENTRY_DSN comma list stays visible to the child") {
    auto r = load(Args{"--", "app"}, Env{{"SENTRY_DSN", a + "," + b}});
    CHECK(r.config.dsns == Args{a, b});
    CHECK_FALSE(r.config.dsn_from_crashwrap_env);
  }
  SECTION("CRASHWRAP_DSN wins and is flagged for removal") {
    auto r = load(Args{"--", "app"}, Env{{"SENTRY_DSN", a}, {"CRASHWRAP_DSN", c}});
    CHECK(r.config.dsns == Args{c});
    CHECK(r.config.dsn_from_crashwrap_env);
  }
  SECTION("--dsn replaces the environment's, repeatable") {
    auto r = load(Args{"--dsn", b, "--dsn", c, "--", "app"}, Env{{"SENTRY_DSN", a}});
    CHECK(r.config.dsns == Args{b, c});
  }
  SECTION("a malformed DSN is one line, secret masked; the app still runs") {
    auto r = load(Args{"--dsn", "https://pub:hush@host/abc", "--", "app"}, Env{});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "--dsn 'https://pub:***@host/abc' is not a valid DSN: the project id 'abc' is not a number" +
                               kDash + "fix: use e.g. https://KEY@o1.ingest.sentry.io/42; ignoring it; events stay "
                               "in the spool until a valid DSN is set");
    CHECK(r.config.dsns.empty());
    CHECK_FALSE(r.refuse);
  }
}

TEST_CASE("SENTRY_RELEASE and SENTRY_ENVIRONMENT, below CRASHWRAP_* and the CLI", "[load]") {
  Env env{{"SENTRY_RELEASE", "r1"}, {"SENTRY_ENVIRONMENT", "prod"}};
  auto r = load(Args{"--", "app"}, env);
  CHECK(r.config.release == "r1");
  CHECK(r.config.environment == "prod");
  env["CRASHWRAP_RELEASE"] = "r2";
  CHECK(load(Args{"--", "app"}, env).config.release == "r2");
  CHECK(load(Args{"--release", "r3", "--", "app"}, env).config.release == "r3");
}

TEST_CASE("JSON file is the lowest layer", "[load]") {
  TempFile f(R"({"kill_after": "7s", "tail_lines": 42, "group": true, "tags": {"t": "file", "u": "1"},
                "dsn": ["https://f@h/9"], "ignore_exit_codes": [1, 2], "drain_grace": 2, "release": "rf"})");
  auto r = load(Args{"--config", f.path, "--tag", "t=cli", "--", "app"}, Env{{"CRASHWRAP_TAIL_LINES", "43"}});
  CHECK(r.warnings.empty());
  CHECK(r.config.config_file == f.path);
  CHECK(r.config.kill_after == 7000ms);
  CHECK(r.config.tail_lines == 43u);
  CHECK(r.config.group);
  CHECK(r.config.dsns == Args{"https://f@h/9"});
  CHECK(r.config.ignore_exit_codes == std::set<int>{1, 2});
  CHECK(r.config.drain_grace == 2000ms);
  CHECK(r.config.release == "rf");
  CHECK(r.config.tags == std::vector<std::pair<std::string, std::string>>{{"t", "cli"}, {"u", "1"}});
}

TEST_CASE("negated flags everywhere", "[load]") {
  TempFile f(R"({"no_env_hints": true, "group": true, "no_report_logged": false})");
  auto r = load(Args{"--config", f.path, "--no-group", "--", "app"}, Env{});
  CHECK(r.warnings.empty());
  CHECK_FALSE(r.config.env_hints);
  CHECK_FALSE(r.config.group);
  CHECK(r.config.report_logged);
}

TEST_CASE("CRASHWRAP_CONFIG names the file", "[load]") {
  TempFile f(R"({"quiet": true})");
  auto r = load(Args{"--", "app"}, Env{{"CRASHWRAP_CONFIG", f.path}});
  CHECK(r.warnings.empty());
  CHECK(r.config.quiet);
}

TEST_CASE("JSON file problems", "[load]") {
  SECTION("unknown key and bad value") {
    TempFile f(R"({"kill_afterr": "7s", "tail_bytes": "lots"})");
    auto r = load(Args{"--config", f.path, "--", "app"}, Env{});
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[0] == "config file '" + f.path + "': unknown key \"kill_afterr\"" + kDash +
                               "fix: use the JSON names listed by crashwrap --help; ignoring it");
    CHECK(r.warnings[1] == "\"tail_bytes\" in " + f.path + " 'lots' is not a size" + kDash +
                               "fix: use e.g. 1MiB; using the default 256KiB");
  }
  SECTION("not JSON") {
    TempFile f("kill_after = 7s");
    auto r = load(Args{"--config", f.path, "--", "app"}, Env{});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].rfind("config file '" + f.path + "' is not a JSON object" + kDash + "fix: ", 0) == 0);
    CHECK(r.config.argv == Args{"app"});
  }
  SECTION("missing") {
    auto r = load(Args{"--config", "/nonexistent/crashwrap.json", "--", "app"}, Env{});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "config file '/nonexistent/crashwrap.json' cannot be read: No such file or directory" +
                               kDash + "fix: check the path given by --config / CRASHWRAP_CONFIG; using the other settings");
  }
}

TEST_CASE("subcommands", "[load]") {
  auto send = load(Args{"send", "--dsn", "https://k@h/1"}, Env{});
  CHECK(send.config.command == Command::Send);
  CHECK(send.config.dsns == Args{"https://k@h/1"});
  CHECK_FALSE(send.refuse);
  auto show = load(Args{"--spool", "/s", "show", "4f1c"}, Env{});
  CHECK(show.config.command == Command::Show);
  CHECK(show.config.show_id == "4f1c");
  CHECK(show.config.spool_dir == "/s");
  auto noid = load(Args{"show"}, Env{});
  CHECK(noid.refuse);
  CHECK(noid.error == "show needs an event id" + kDash + "fix: run crashwrap list to see them, then crashwrap show ID");
  CHECK(load(Args{"list"}, Env{}).config.command == Command::List);
  CHECK(load(Args{"doctor"}, Env{}).config.command == Command::Doctor);
  CHECK(load(Args{"help"}, Env{}).config.command == Command::Help);
  CHECK(load(Args{"version"}, Env{}).config.command == Command::Version);
  CHECK(load(Args{"--help"}, Env{}).config.command == Command::Help);
  CHECK(load(Args{"-h", "--", "app"}, Env{}).config.command == Command::Help);
  CHECK(load(Args{"--version"}, Env{}).config.command == Command::Version);
  auto extra = load(Args{"list", "junk"}, Env{});
  REQUIRE(extra.warnings.size() == 1);
  CHECK(extra.warnings[0].rfind("unexpected argument 'junk'", 0) == 0);
  // A program named like a subcommand runs after --.
  auto run = load(Args{"--", "list"}, Env{});
  CHECK(run.config.command == Command::Run);
  CHECK(run.config.argv == Args{"list"});
}

TEST_CASE("no command is a usage error", "[load]") {
  auto r = load(Args{}, Env{});
  CHECK(r.refuse);
  CHECK(r.error == "no command to run" + kDash + "fix: crashwrap [options] -- COMMAND [ARGS…] (see crashwrap --help)");
}

TEST_CASE("insecure TLS is not a configuration problem (the transport announces it)", "[load]") {
  auto r = load(Args{"--strict", "--insecure", "--", "app"}, Env{});
  CHECK(r.warnings.empty());
  CHECK_FALSE(r.refuse);
  CHECK(r.config.insecure);
}

TEST_CASE("default spool directory", "[load]") {
  CHECK(default_spool_dir(Env{{"XDG_STATE_HOME", "/x"}}) == "/x/crashwrap");
  std::string d = default_spool_dir(Env{});
  bool system = ::access("/var/lib/crashwrap", W_OK) == 0 || ::access("/var/lib", W_OK) == 0;
  CHECK(d == (system ? std::string("/var/lib/crashwrap") : "/tmp/crashwrap-" + std::to_string(::getuid())));
}

TEST_CASE("help lists every option with its variable, key and default", "[load]") {
  std::string h = help_text();
  for (const char* s : {"--kill-after DURATION", "CRASHWRAP_KILL_AFTER", "\"kill_after\"", "default none",
                        "--line-buffer, --no-line-buffer", "--dsn DSN", "SENTRY_DSN", "crashwrap [options] show ID"}) {
    INFO(s);
    CHECK(h.find(s) != std::string::npos);
  }
  CHECK(version_text() == "crashwrap " CRASHWRAP_VERSION "\n");
}
