#include "sinks/envelope.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "sinks/event_builder.h"

namespace crashwrap::sinks {
namespace {

using Json = nlohmann::json;

// Child output may hold invalid UTF-8; JSON text must not (bad bytes → U+FFFD).
template <typename J>
std::string dump(const J& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

EnvelopeItem json_item(std::string_view type, const Json& payload) {
  EnvelopeItem item;
  item.header["type"] = type;
  item.payload = dump(payload);
  return item;
}

std::string item_header_line(const EnvelopeItem& item) {
  OrderedJson header = item.header;
  header["length"] = item.payload.size();
  return dump(header);
}

std::string item_header_line_for(std::string_view type, std::size_t length) {
  OrderedJson header = OrderedJson::object();
  header["type"] = type;
  header["length"] = length;
  return dump(header);
}

struct AttachmentView {
  std::string_view filename, content_type, data;
};

// Serialized pieces of one event envelope, so sizes are known before joining.
struct Piece {
  std::string header_line;
  std::string_view payload;
  std::size_t size() const { return header_line.size() + 1 + payload.size() + 1; }
};

std::string join(const std::string& header_line, const std::vector<Piece>& pieces) {
  std::size_t total = header_line.size() + 1;
  for (const auto& p : pieces) total += p.size();
  std::string out;
  out.reserve(total);
  out += header_line;
  out += '\n';
  for (const auto& p : pieces) {
    out += p.header_line;
    out += '\n';
    out += p.payload;
    out += '\n';
  }
  return out;
}

// Parses one header line: a single-line JSON object, no surrounding blanks, no
// BOM, no duplicate keys (a duplicated sent_at makes Sentry reject the envelope).
std::optional<Json> parse_header_line(std::string_view line, std::string& error) {
  if (line.empty()) {
    error = "empty line where a header was expected";
    return std::nullopt;
  }
  if (line.front() != '{' || line.back() != '}') {
    error = "header is not a bare JSON object (leading/trailing bytes, BOM or \\r)";
    return std::nullopt;
  }
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  Json::parser_callback_t cb = [&](int, Json::parse_event_t ev, Json& parsed) {
    if (ev == Json::parse_event_t::object_start) keys.emplace_back();
    if (ev == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (ev == Json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      if (!keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json j = Json::parse(line.begin(), line.end(), cb, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "header is not valid JSON";
    return std::nullopt;
  }
  if (!duplicate.empty()) {
    error = "header has the key \"" + duplicate + "\" twice";
    return std::nullopt;
  }
  return j;
}

std::optional<std::uint64_t> item_length(const Json& header, std::string& error) {
  auto it = header.find("length");
  if (it == header.end()) return std::nullopt;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() <= 0xffffffffull)
    return it->get<std::uint64_t>();
  if (it->is_number_integer() && !it->is_number_unsigned()) {
    error = "length is negative";
  } else {
    error = "length is not an integer between 0 and 2^32-1";
  }
  return std::nullopt;
}

}  // namespace

std::string rfc3339(parsers::Timestamp t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<parsers::Timestamp> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec, used = 0;
  const std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) !=
          6 ||
      used != 19)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t i = 19;
  long ms = 0;
  if (i < text.size() && text[i] == '.') {
    long scale = 100;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, scale /= 10)
      ms += (text[i] - '0') * scale;
  }
  long offset = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (text[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    i += 6;
  } else if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  }
  if (i != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t secs = timegm(&tm) - offset;
  return parsers::Timestamp{std::chrono::seconds(secs) + std::chrono::milliseconds(ms)};
}

OrderedJson envelope_header(std::string_view event_id, parsers::Timestamp sent_at,
                            std::string_view dsn) {
  OrderedJson h = OrderedJson::object();
  if (!event_id.empty()) h["event_id"] = event_id;
  h["sent_at"] = rfc3339(sent_at);
  if (!dsn.empty()) h["dsn"] = dsn;
  h["sdk"] = {{"name", "crashwrap"}, {"version", CRASHWRAP_VERSION}};
  return h;
}

EnvelopeItem event_item(const nlohmann::json& event) { return json_item("event", event); }

std::optional<EnvelopeItem> attachment_item(std::string_view filename, std::string data,
                                            std::string_view content_type) {
  if (data.empty()) return std::nullopt;
  EnvelopeItem item;
  item.header["type"] = "attachment";
  item.header["length"] = data.size();
  item.header["filename"] = filename;
  item.header["content_type"] = content_type;
  item.header["attachment_type"] = "event.attachment";
  item.payload = std::move(data);
  return item;
}

EnvelopeItem client_report_item(const nlohmann::json& r) { return json_item("client_report", r); }
EnvelopeItem session_item(const nlohmann::json& s) { return json_item("session", s); }
EnvelopeItem check_in_item(const nlohmann::json& c) { return json_item("check_in", c); }

EnvelopeItem log_item(const nlohmann::json& logs) {
  EnvelopeItem item;
  item.header["type"] = "log";
  item.header["item_count"] = logs.is_array() ? logs.size() : 0;
  item.header["content_type"] = "application/vnd.sentry.items.log+json";
  item.payload = dump(Json{{"items", logs.is_array() ? logs : Json::array()}});
  return item;
}

std::string serialize(const Envelope& envelope) {
  std::vector<Piece> pieces;
  for (const auto& item : envelope.items) pieces.push_back({item_header_line(item), item.payload});
  return join(dump(envelope.header), pieces);
}

namespace {

// Payloads are viewed, not copied, until the one copy into the envelope bytes:
// a crash event with its output tail is built in one pass.
BuiltEnvelope build_envelope_from_views(std::string_view event_id, const nlohmann::json& event,
                                        const std::vector<AttachmentView>& attachments,
                                        std::string_view dsn, parsers::Timestamp sent_at,
                                        const EnvelopeLimits& limits,
                                        const std::vector<EnvelopeItem>& extra) {
  BuiltEnvelope result;
  const std::string event_payload = dump(event);
  std::vector<Piece> pieces;
  pieces.push_back({item_header_line_for("event", event_payload.size()), event_payload});
  for (const auto& a : attachments) {
    if (a.data.empty()) continue;
    if (a.data.size() > limits.attachment_max_bytes) {
      ++result.attachments_dropped;
      result.attachment_bytes_dropped += a.data.size();
      continue;
    }
    OrderedJson h = OrderedJson::object();
    h["type"] = "attachment";
    h["length"] = a.data.size();
    h["filename"] = a.filename;
    h["content_type"] = a.content_type;
    h["attachment_type"] = "event.attachment";
    pieces.push_back({dump(h), a.data});
  }
  const std::size_t first_extra = pieces.size();
  for (const auto& e : extra) pieces.push_back({item_header_line(e), e.payload});

  const std::string header_line = dump(envelope_header(event_id, sent_at, dsn));
  std::vector<bool> keep(pieces.size(), true);
  std::uint64_t total = header_line.size() + 1;
  for (const auto& p : pieces) total += p.size();
  // Attachments go first, largest first: the event is what the server needs.
  std::vector<std::size_t> order;
  for (std::size_t i = 1; i < first_extra; ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return pieces[a].payload.size() > pieces[b].payload.size();
  });
  for (std::size_t i : order) {
    if (total <= limits.envelope_max_bytes) break;
    keep[i] = false;
    total -= pieces[i].size();
    ++result.attachments_dropped;
    result.attachment_bytes_dropped += pieces[i].payload.size();
  }
  result.size = total;
  if (total > limits.envelope_max_bytes) {
    result.fits = false;
    return result;
  }
  std::vector<Piece> kept;
  for (std::size_t i = 0; i < pieces.size(); ++i)
    if (keep[i]) kept.push_back(std::move(pieces[i]));
  result.bytes = join(header_line, kept);
  return result;
}

}  // namespace

BuiltEnvelope build_event_envelope(const BuiltEvent& event, std::string_view dsn,
                                   parsers::Timestamp sent_at, const EnvelopeLimits& limits,
                                   std::vector<EnvelopeItem> extra) {
  std::vector<AttachmentView> views;
  for (const auto& a : event.attachments) views.push_back({a.filename, a.content_type, a.data});
  return build_envelope_from_views(event.event_id, event.event, views, dsn, sent_at, limits, extra);
}

BuiltEnvelope build_event_envelope(std::string_view event_id, const nlohmann::json& event,
                                   const std::vector<AttachmentPart>& attachments,
                                   std::string_view dsn, parsers::Timestamp sent_at,
                                   const EnvelopeLimits& limits, std::vector<EnvelopeItem> extra) {
  std::vector<AttachmentView> views;
  for (const auto& a : attachments) views.push_back({a.filename, a.content_type, a.data});
  return build_envelope_from_views(event_id, event, views, dsn, sent_at, limits, extra);
}

std::string ParsedItem::type() const {
  auto it = header.find("type");
  return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string ParsedEnvelope::event_id() const {
  auto it = header.find("event_id");
  return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const ParsedItem* ParsedEnvelope::first(std::string_view type) const {
  for (const auto& item : items)
    if (item.type() == type) return &item;
  return nullptr;
}

std::optional<ParsedEnvelope> parse_envelope(std::string_view bytes, std::string& error) {
  ParsedEnvelope env;
  std::size_t nl = bytes.find('\n');
  std::string why;
  auto header = parse_header_line(bytes.substr(0, nl), why);
  if (!header) {
    error = "envelope header: " + why;
    return std::nullopt;
  }
  env.header = std::move(*header);
  std::size_t pos = nl == std::string_view::npos ? bytes.size() : nl + 1;
  while (pos < bytes.size()) {
    const std::string where = "item " + std::to_string(env.items.size() + 1) + ": ";
    nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      error = where + "header line not followed by a newline";
      return std::nullopt;
    }
    auto item_header = parse_header_line(bytes.substr(pos, nl - pos), why);
    if (!item_header) {
      error = where + why;
      return std::nullopt;
    }
    ParsedItem item;
    item.header = std::move(*item_header);
    if (item.type().empty()) {
      error = where + "header has no non-empty string \"type\"";
      return std::nullopt;
    }
    pos = nl + 1;
    why.clear();
    const auto length = item_length(item.header, why);
    if (!why.empty()) {
      error = where + why;
      return std::nullopt;
    }
    if (length) {
      const std::size_t left = bytes.size() - pos;
      if (*length > left) {
        error = where + "payload truncated: length " + std::to_string(*length) + ", " +
                std::to_string(left) + " bytes left";
        return std::nullopt;
      }
      item.payload.assign(bytes.substr(pos, *length));
      pos += *length;
      if (pos < bytes.size() && bytes[pos] != '\n') {
        error = where + "payload of length " + std::to_string(*length) +
                " is not followed by a newline";
        return std::nullopt;
      }
    } else {
      const std::size_t end = std::min(bytes.find('\n', pos), bytes.size());
      item.payload.assign(bytes.substr(pos, end - pos));
      pos = end;
    }
    if (pos < bytes.size()) ++pos;  // the "\n" after the payload
    env.items.push_back(std::move(item));
  }
  return env;
}

std::optional<std::string> rewrite_header(std::string_view envelope, parsers::Timestamp sent_at,
                                          std::string_view dsn) {
  const std::size_t nl = envelope.find('\n');
  const std::string_view line = envelope.substr(0, nl);
  OrderedJson header = OrderedJson::parse(line.begin(), line.end(), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return std::nullopt;
  // Rebuilt in the order the SDKs write it; keys crashwrap does not know are kept.
  OrderedJson fresh = OrderedJson::object();
  if (header.contains("event_id")) fresh["event_id"] = header["event_id"];
  fresh["sent_at"] = rfc3339(sent_at);
  if (!dsn.empty()) fresh["dsn"] = dsn;
  for (auto it = header.begin(); it != header.end(); ++it)
    if (it.key() != "event_id" && it.key() != "sent_at" && it.key() != "dsn")
      fresh[it.key()] = it.value();
  std::string out = dump(fresh);
  if (nl != std::string_view::npos) out.append(envelope.substr(nl));
  return out;
}

}  // namespace crashwrap::sinks
