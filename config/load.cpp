#include "config/load.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/dsn.h"
#include "config/options.h"
#include "config/release_detect.h"

namespace crashwrap::config {
namespace {

constexpr std::string_view kDash = " \xe2\x80\x94 ";  // " — "

// One value for one option, remembered with where it came from for messages.
struct Assignment {
  const Option* option = nullptr;
  std::string value;
  std::string source;  // "--kill-after", "CRASHWRAP_KILL_AFTER", "\"kill_after\" in FILE"
  bool invert = false; // a negation (--no-x, CRASHWRAP_NO_X): the boolean value is flipped
  bool missing = false; // "needs a value" was reported: only restore the default
};
using Layer = std::vector<Assignment>;

struct CommandLine {
  Layer layer;
  std::optional<Command> subcommand;
  std::vector<std::string> positional;  // subcommand arguments
  std::vector<std::string> child;       // the command to run
};

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string part(text.substr(start, comma - start));
    if (part.find_first_not_of(" \t") != std::string::npos) out.push_back(std::move(part));
    start = comma + 1;
  }
  return out;
}

std::string env_name_of(std::string_view flag) {
  std::string out = "CRASHWRAP_";
  for (char c : flag.substr(2)) out += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

std::optional<Command> subcommand_of(std::string_view word) {
  if (word == "send") return Command::Send;
  if (word == "list") return Command::List;
  if (word == "show") return Command::Show;
  if (word == "doctor") return Command::Doctor;
  if (word == "help") return Command::Help;
  if (word == "version") return Command::Version;
  return std::nullopt;
}

class Loader {
 public:
  explicit Loader(const std::map<std::string, std::string>& env) : env_(env) {}
  LoadResult run(const std::vector<std::string>& args);

 private:
  CommandLine parse_command_line(const std::vector<std::string>& args);
  std::size_t parse_flag(const std::vector<std::string>& args, std::size_t i, bool has_dashdash, Layer& layer);
  Layer environment_layer();
  void add_env(Layer& layer, const Option& o, std::string_view name, const std::string& value, bool invert);
  Layer file_layer(const std::string& path);
  void add_json(Layer& layer, const Option& o, const std::string& source, const nlohmann::json& v);
  void apply(const Layer& layer);
  void apply_one(const Assignment& a);
  void finish(const CommandLine& cli);
  const std::string* env(const char* name) const {
    auto it = env_.find(name);
    return it == env_.end() || it->second.empty() ? nullptr : &it->second;
  }
  void problem(std::string line) {
    result_.warnings.push_back(std::move(line));
    ++problems_;
  }

  const std::map<std::string, std::string>& env_;
  LoadResult result_;
  Config& c_ = result_.config;
  std::size_t problems_ = 0;
};

LoadResult Loader::run(const std::vector<std::string>& args) {
  CommandLine cli = parse_command_line(args);
  Layer env_layer = environment_layer();
  std::string file;
  for (const Layer* l : {&env_layer, &cli.layer})
    for (const Assignment& a : *l)
      if (a.option->special == Special::ConfigFile) file = a.value;
  if (!file.empty()) apply(file_layer(file));
  apply(env_layer);
  apply(cli.layer);
  finish(cli);
  return std::move(result_);
}

CommandLine Loader::parse_command_line(const std::vector<std::string>& args) {
  CommandLine cli;
  bool has_dashdash = false;
  for (const std::string& a : args) has_dashdash = has_dashdash || a == "--";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      auto& dest = cli.subcommand ? cli.positional : cli.child;
      dest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.size() > 1 && a[0] == '-') {
      i = parse_flag(args, i, has_dashdash, cli.layer);
      continue;
    }
    if (cli.subcommand) {
      cli.positional.push_back(a);
    } else if (auto sub = subcommand_of(a)) {
      cli.subcommand = sub;
    } else {
      cli.child.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
  }
  return cli;
}

// Returns the index of the last argument consumed.
std::size_t Loader::parse_flag(const std::vector<std::string>& args, std::size_t i, bool has_dashdash,
                               Layer& layer) {
  std::string_view arg = args[i];
  auto eq = arg.find('=');
  std::string_view name = arg.substr(0, eq);
  auto match = find_flag(name);
  bool next_is_word = i + 1 < args.size() && args[i + 1] != "--" &&
                      !(args[i + 1].size() > 1 && args[i + 1][0] == '-' && find_flag(args[i + 1]));
  if (!match) {
    std::string line = "unknown option '" + std::string(name) + "'";
    std::string_view near = suggest_flag(name);
    std::string fix = near.empty() ? "fix: see crashwrap --help"
                                   : "fix: did you mean " + std::string(near) + "? (see crashwrap --help)";
    // Before a `--`, a plain word after an unknown option is most likely its value.
    bool eat = eq == std::string_view::npos && has_dashdash && next_is_word && args[i + 1][0] != '-';
    problem(line + std::string(kDash) + fix + (eat ? "; ignoring it and '" + args[i + 1] + "'" : "; ignoring it"));
    return eat ? i + 1 : i;
  }
  const Option& o = *match->option;
  auto add = [&](std::string value) {
    if (o.split_commas)
      for (std::string& part : split_commas(value)) layer.push_back({&o, std::move(part), std::string(name), false});
    else
      layer.push_back({&o, std::move(value), std::string(name), match->negated});
  };
  if (eq != std::string_view::npos) {
    add(std::string(arg.substr(eq + 1)));
    return i;
  }
  if (!o.takes_value()) {
    layer.push_back({&o, "true", std::string(name), match->negated});
    return i;
  }
  if (!next_is_word) {
    problem(std::string(name) + " needs a value" + std::string(kDash) + "fix: use e.g. " + std::string(name) +
            " " + std::string(o.example) + "; " + o.fallback_phrase());
    if (!o.repeatable()) layer.push_back({&o, {}, std::string(name), false, true});
    return i;
  }
  add(args[i + 1]);
  return i + 1;
}

void Loader::add_env(Layer& layer, const Option& o, std::string_view name, const std::string& value,
                     bool invert) {
  bool split = o.repeatable();  // lists are comma lists in the environment
  if (split)
    for (std::string& part : split_commas(value)) layer.push_back({&o, std::move(part), std::string(name), invert});
  else
    layer.push_back({&o, value, std::string(name), invert});
}

Layer Loader::environment_layer() {
  Layer layer;
  for (const Option& o : options()) {
    if (o.env.empty() || o.special == Special::ConfigFile) {
      if (o.special == Special::ConfigFile)
        if (const std::string* v = env("CRASHWRAP_CONFIG")) layer.push_back({&o, *v, "CRASHWRAP_CONFIG", false});
      continue;
    }
    if (!o.negation.empty()) {
      std::string neg = env_name_of(o.negation);
      if (const std::string* v = env(neg.c_str())) add_env(layer, o, neg, *v, true);
    }
    if (const std::string* v = env(std::string(o.env).c_str())) add_env(layer, o, o.env, *v, false);
  }
  // The Sentry SDKs' own variables, below crashwrap's.
  const Option* dsn = find_json_key("dsn");
  const Option* release = find_json_key("release");
  const Option* environment = find_json_key("environment");
  if (!env("CRASHWRAP_DSN"))
    if (const std::string* v = env("SENTRY_DSN")) add_env(layer, *dsn, "SENTRY_DSN", *v, false);
  if (!env("CRASHWRAP_RELEASE"))
    if (const std::string* v = env("SENTRY_RELEASE")) layer.push_back({release, *v, "SENTRY_RELEASE", false});
  if (!env("CRASHWRAP_ENVIRONMENT"))
    if (const std::string* v = env("SENTRY_ENVIRONMENT"))
      layer.push_back({environment, *v, "SENTRY_ENVIRONMENT", false});
  return layer;
}

Layer Loader::file_layer(const std::string& path) {
  Layer layer;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem("config file '" + path + "' cannot be read: " + std::strerror(errno) + std::string(kDash) +
            "fix: check the path given by --config / CRASHWRAP_CONFIG; using the other settings");
    return layer;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem("config file '" + path + "' is not a JSON object" + std::string(kDash) +
            "fix: write it as {\"dsn\": \"https://KEY@HOST/42\", \"kill_after\": \"10s\"}; using the other settings");
    return layer;
  }
  for (const auto& [key, value] : doc.items()) {
    const Option* o = find_json_key(key);
    if (!o && key.rfind("no_", 0) == 0) {  // "no_env_hints": true reads as "env_hints": false
      const Option* positive = find_json_key(key.substr(3));
      if (positive && positive->kind == ValueKind::Flag && value.is_boolean()) {
        layer.push_back({positive, value.get<bool>() ? "false" : "true", "\"" + key + "\" in " + path, false});
        continue;
      }
    }
    if (!o) {
      problem("config file '" + path + "': unknown key \"" + key + "\"" + std::string(kDash) +
              "fix: use the JSON names listed by crashwrap --help; ignoring it");
      continue;
    }
    if (!value.is_null()) add_json(layer, *o, "\"" + key + "\" in " + path, value);
  }
  return layer;
}

void Loader::add_json(Layer& layer, const Option& o, const std::string& source, const nlohmann::json& v) {
  auto text = [](const nlohmann::json& x) -> std::optional<std::string> {
    if (x.is_string()) return x.get<std::string>();
    if (x.is_boolean()) return std::string(x.get<bool>() ? "true" : "false");
    if (x.is_number()) return x.dump();
    return std::nullopt;
  };
  if (o.repeatable() && (v.is_array() || v.is_object())) {
    for (const auto& [k, item] : v.items()) {
      auto t = text(item);
      std::string value = v.is_object() ? k + "=" + t.value_or("") : t.value_or(item.dump());
      layer.push_back({&o, value, source, false});
    }
    return;
  }
  auto t = text(v);
  if (t && o.repeatable() && o.split_commas) {
    for (std::string& part : split_commas(*t)) layer.push_back({&o, std::move(part), source, false});
    return;
  }
  layer.push_back({&o, t.value_or(v.dump()), source, false});
}

void Loader::apply(const Layer& layer) {
  std::set<const Option*> cleared;
  for (const Assignment& a : layer) {
    // A list set on a higher level replaces the lower level's; tags merge by key.
    if (a.option->repeatable() && a.option->flag != "--tag" && cleared.insert(a.option).second)
      a.option->reset(c_);
    apply_one(a);
  }
}

void Loader::apply_one(const Assignment& a) {
  const Option& o = *a.option;
  std::string value = a.value;
  std::string why;
  if (a.missing) {
    o.reset(c_);
    return;
  }
  if (a.invert) {
    auto b = parse_bool(value);
    if (b) value = *b ? "false" : "true";
    else why = "is not on or off";
  }
  if (why.empty()) why = o.apply(c_, value);
  if (why.empty()) return;
  if (!o.repeatable()) o.reset(c_);
  std::string shown = o.secret ? redact_dsn(a.value) : a.value;
  std::string example = o.kind == ValueKind::Flag ? "true or false" : std::string(o.example);
  problem(a.source + " '" + shown + "' " + why + std::string(kDash) + "fix: use e.g. " + example + "; " +
          o.fallback_phrase());
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

void Loader::finish(const CommandLine& cli) {
  if (env_.count("CRASHWRAP_DSN")) c_.dsn_from_crashwrap_env = true;
  if (c_.spool_dir.empty()) c_.spool_dir = default_spool_dir(env_);
  if (c_.server_name.empty()) c_.server_name = host_name();
  if (c_.session_did.empty()) c_.session_did = c_.server_name;
  if (c_.release.empty())
    if (auto found = detect_release(env_)) {
      c_.release = found->release;
      c_.release_source = found->variable;
    }
  // --insecure is announced loudly by the transport (diag::insecure_tls), once, when it is used.
  if (c_.command == Command::Help || c_.command == Command::Version) return;
  if (cli.subcommand) c_.command = *cli.subcommand;
  if (c_.command == Command::Help || c_.command == Command::Version) return;
  if (c_.command == Command::Run) {
    c_.argv = cli.child;
    if (c_.argv.empty()) {
      result_.refuse = true;
      result_.error = "no command to run" + std::string(kDash) +
                      "fix: crashwrap [options] -- COMMAND [ARGS…] (see crashwrap --help)";
      return;
    }
    if (c_.monitor_slug.empty() && (!c_.monitor_schedule.empty() || c_.checkin_margin || c_.max_runtime ||
                                    !c_.monitor_timezone.empty())) {
      problem("--monitor-schedule, --monitor-timezone, --checkin-margin and --max-runtime describe a monitor" +
              std::string(kDash) + "fix: name it with --monitor SLUG; ignoring them");
    } else if (!c_.monitor_slug.empty() && c_.dsns.empty()) {
      problem("--monitor " + c_.monitor_slug + " has no DSN to send its check-ins to" + std::string(kDash) +
              "fix: set --dsn or SENTRY_DSN; no check-ins are sent");
    }
  } else {
    c_.argv = cli.positional;
    std::size_t allowed = c_.command == Command::Show ? 1 : 0;
    if (c_.command == Command::Show) {
      if (cli.positional.empty()) {
        result_.refuse = true;
        result_.error = "show needs an event id" + std::string(kDash) +
                        "fix: run crashwrap list to see them, then crashwrap show ID";
        return;
      }
      c_.show_id = cli.positional.front();
    }
    for (std::size_t i = allowed; i < cli.positional.size(); ++i)
      problem("unexpected argument '" + cli.positional[i] + "'" + std::string(kDash) +
              "fix: see crashwrap --help for the subcommands' arguments; ignoring it");
  }
  if (c_.strict && problems_ > 0) {
    result_.refuse = true;
    result_.error = "refusing to start with " + std::to_string(problems_) + " configuration problem" +
                    (problems_ == 1 ? "" : "s") + " (--strict)" + std::string(kDash) +
                    "fix: correct the warnings above or drop --strict";
  }
}

}  // namespace

LoadResult load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  return Loader(env).run(args);
}

LoadResult load(int argc, char** argv, char** envp) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::map<std::string, std::string> env;
  for (char** e = envp; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return load(args, env);
}

std::string help_text() {
  static constexpr std::pair<std::string_view, std::string_view> sections[] = {
      {"general", "General"}, {"child", "The child process"}, {"report", "What is reported"},
      {"protection", "Protection"}, {"event", "Event metadata"}, {"delivery", "Delivery"},
      {"lifecycle", "Sessions, check-ins and restarts"}};
  std::string out =
      "crashwrap " CRASHWRAP_VERSION " \xe2\x80\x94 runs a program, passes its output through, and reports its crashes to Sentry\n"
      "\n"
      "Usage:\n"
      "  crashwrap [options] -- COMMAND [ARGS...]  run COMMAND; exit like it (re-raising its fatal signal)\n"
      "  crashwrap [options] send                  upload the spooled events now (--dsn ...)\n"
      "  crashwrap [options] list                  list the spooled events and their state\n"
      "  crashwrap [options] show ID               show one spooled event with its output tail\n"
      "  crashwrap [options] doctor                check configuration, spool and DSNs\n"
      "  crashwrap help | version\n"
      "\n"
      "Options, each with [environment variable, JSON key, default]:\n";
  for (auto [id, title] : sections) {
    out += "\n";
    out += title;
    out += ":\n";
    for (const Option& o : options()) {
      if (o.section != id) continue;
      std::string head = "  " + std::string(o.flag);
      if (!o.negation.empty()) head += ", " + std::string(o.negation);
      if (o.takes_value()) head += " " + std::string(o.value_name);
      out += head;
      out += head.size() < 32 ? std::string(32 - head.size(), ' ') : "\n" + std::string(32, ' ');
      out += o.help;
      std::string where;
      if (!o.env.empty()) where += o.env;
      if (!o.json_key.empty()) where += (where.empty() ? "\"" : ", \"") + std::string(o.json_key) + "\"";
      if (!o.default_text.empty()) where += (where.empty() ? "default " : ", default ") + std::string(o.default_text);
      if (!where.empty()) out += "\n" + std::string(32, ' ') + "[" + where + "]";
      out += "\n";
    }
  }
  out +=
      "\n"
      "Values: durations 500ms, 2s, 1.5 (seconds), 1m, 1h; sizes 16KiB, 256MiB, 1GiB or bytes (KB/MB/GB are\n"
      "powers of 1000); on/off as 1/0, true/false, yes/no, on/off; lists as repeated options or comma lists.\n"
      "Precedence: command line > environment > JSON file (--config). A list given on a higher level replaces\n"
      "the lower level's; tags merge by key. Every on/off option X also takes --no-X (JSON \"no_x\": true);\n"
      "those listed with a --no- form also read CRASHWRAP_NO_X=1.\n"
      "Also read: SENTRY_DSN (comma list; the app still sees it), SENTRY_RELEASE, SENTRY_ENVIRONMENT.\n"
      "A bad value prints one warning and its default is used; --strict refuses to start instead.\n";
  return out;
}

std::string version_text() { return "crashwrap " CRASHWRAP_VERSION "\n"; }

std::string default_spool_dir(const std::map<std::string, std::string>& env) {
  auto xdg = env.find("XDG_STATE_HOME");
  if (xdg != env.end() && !xdg->second.empty() && xdg->second[0] == '/') return xdg->second + "/crashwrap";
  const char* system_dir = "/var/lib/crashwrap";
  if (::access(system_dir, F_OK) == 0 ? ::access(system_dir, W_OK | X_OK) == 0
                                      : ::access("/var/lib", W_OK | X_OK) == 0)
    return system_dir;
  return "/tmp/crashwrap-" + std::to_string(::getuid());
}

}  // namespace crashwrap::config
