#include "agent/event_text.h"

#include <nlohmann/json.hpp>

namespace crashwrap::agent {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxFrames = 100;  // per stack; the rest is summarised in one line

std::string scalar(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string str(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? std::string() : scalar(*it);
}

void field(std::string& out, const char* label, const std::string& value) {
  if (value.empty()) return;
  std::string name = label;
  name.resize(12, ' ');
  out += name + value + "\n";
}

std::string frame_line(const Json& f) {
  std::string fn = str(f, "function");
  std::string line = "  at " + (fn.empty() ? std::string("?") : fn);
  std::string where = str(f, "filename");
  if (where.empty()) where = str(f, "abs_path");
  if (where.empty()) where = str(f, "module");
  if (!where.empty()) {
    const std::string lineno = str(f, "lineno");
    line += " (" + where + (lineno.empty() ? "" : ":" + lineno) + ")";
  }
  if (const std::string pkg = str(f, "package"); !pkg.empty()) line += " in " + pkg;
  if (const std::string addr = str(f, "instruction_addr"); !addr.empty()) line += " [" + addr + "]";
  if (f.is_object() && f.value("in_app", false)) line += " *";
  return line + "\n";
}

// Sentry stores frames oldest first; a terminal reader expects the crash site first.
void frames_top_first(std::string& out, const Json& stacktrace) {
  if (!stacktrace.is_object() || !stacktrace.contains("frames")) return;
  const Json& frames = stacktrace["frames"];
  if (!frames.is_array()) return;
  std::size_t shown = 0;
  for (auto it = frames.rbegin(); it != frames.rend() && shown < kMaxFrames; ++it, ++shown)
    out += frame_line(*it);
  if (frames.size() > shown)
    out += "  … " + std::to_string(frames.size() - shown) + " more frames\n";
}

std::string mechanism_line(const Json& m) {
  if (!m.is_object()) return {};
  std::string line = "  mechanism " + str(m, "type");
  line += m.value("handled", true) ? ", handled" : ", unhandled";
  if (m.contains("meta") && m["meta"].contains("signal")) {
    const Json& s = m["meta"]["signal"];
    line += ", signal " + str(s, "number");
    if (const std::string name = str(s, "name"); !name.empty()) line += " (" + name + ")";
  }
  return line + "\n";
}

void exceptions(std::string& out, const Json& event) {
  if (!event.contains("exception") || !event["exception"].contains("values")) return;
  const Json& values = event["exception"]["values"];
  if (!values.is_array()) return;
  bool first = true;
  for (auto it = values.rbegin(); it != values.rend(); ++it) {  // the final exception first
    out += first ? "\n" : "\nan earlier exception in the chain:\n";
    first = false;
    std::string head = str(*it, "type");
    if (const std::string v = str(*it, "value"); !v.empty()) head += (head.empty() ? "" : ": ") + v;
    out += head + "\n" + mechanism_line(it->value("mechanism", Json()));
    frames_top_first(out, it->value("stacktrace", Json()));
  }
}

void threads(std::string& out, const Json& event) {
  if (!event.contains("threads") || !event["threads"].contains("values")) return;
  const Json& values = event["threads"]["values"];
  if (!values.is_array()) return;
  std::size_t others = 0;
  for (const Json& t : values) {
    if (!t.is_object() || !t.value("crashed", false)) {
      ++others;
      continue;
    }
    out += "\nthread " + str(t, "id");
    if (const std::string name = str(t, "name"); !name.empty()) out += " " + name;
    out += " (crashed)\n";
    frames_top_first(out, t.value("stacktrace", Json()));
  }
  if (others > 0) out += "(" + std::to_string(others) + " other threads in the event)\n";
}

// "key=value" pairs of an object, nested objects flattened with dots.
void flatten(const Json& j, const std::string& prefix, std::string& out) {
  for (const auto& [k, v] : j.items()) {
    if (k == "type" && prefix.empty()) continue;
    if (v.is_object()) {
      flatten(v, prefix + k + ".", out);
      continue;
    }
    if (!out.empty()) out += " ";
    out += prefix + k + "=" + scalar(v);
  }
}

void contexts(std::string& out, const Json& event) {
  if (!event.contains("contexts") || !event["contexts"].is_object()) return;
  out += "\ncontexts\n";
  for (const auto& [name, ctx] : event["contexts"].items()) {
    std::string pairs;
    if (ctx.is_object()) flatten(ctx, "", pairs);
    out += "  " + name + ": " + pairs + "\n";
  }
}

std::string exit_text(const Json& event) {
  if (!event.contains("contexts")) return {};
  const Json& c = event["contexts"];
  if (!c.contains("process") || !c["process"].contains("exit")) return {};
  return str(c["process"]["exit"], "description");
}

std::string tags_text(const Json& event) {
  if (!event.contains("tags") || !event["tags"].is_object()) return {};
  std::string pairs;
  flatten(event["tags"], "", pairs);
  return pairs;
}

}  // namespace

std::string render_event(const sinks::ParsedEnvelope& envelope) {
  const sinks::ParsedItem* item = envelope.first("event");
  if (item == nullptr) return {};
  const Json event = Json::parse(item->payload, nullptr, false);
  if (!event.is_object()) return {};
  std::string out;
  field(out, "level", str(event, "level"));
  field(out, "platform", str(event, "platform"));
  field(out, "timestamp", str(event, "timestamp"));
  field(out, "release", str(event, "release"));
  field(out, "environment", str(event, "environment"));
  field(out, "server", str(event, "server_name"));
  field(out, "exit", exit_text(event));
  field(out, "tags", tags_text(event));
  if (event.contains("message")) {
    const Json& m = event["message"];
    field(out, "message", m.is_object() ? str(m, "formatted") : scalar(m));
  }
  exceptions(out, event);
  threads(out, event);
  contexts(out, event);
  return out;
}

std::string render_attachments(const sinks::ParsedEnvelope& envelope) {
  std::string out;
  for (const auto& item : envelope.items) {
    if (item.type() != "attachment") continue;
    out += "\n--- " + str(item.header, "filename") + " (" + std::to_string(item.payload.size()) +
           " bytes) ---\n";
    out += item.payload;
    if (!item.payload.empty() && item.payload.back() != '\n') out += "\n";
  }
  return out;
}

}  // namespace crashwrap::agent
