// Sentry envelopes (https://develop.sentry.dev/sdk/envelopes/): building the
// bytes crashwrap saves and sends, and parsing them back with strict framing.
//
//   Envelope = HeaderLine "\n" { ItemHeaderLine "\n" Payload "\n" }
//
// Every item crashwrap writes carries `type` and the exact byte `length` of its
// payload. The envelope header is {"event_id","sent_at","dsn","sdk"}; the event
// item comes first (some servers stop reading at an unknown item). An empty
// attachment is never written: @sentry/core's parser reads `"length":0` as "no
// length" and fails on the next line.
//
// Pure functions, no shared state: callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/model.h"

namespace crashwrap::sinks {

struct BuiltEvent;  // sinks/event_builder.h

// JSON objects whose keys keep insertion order, so header lines read
// {"type":…,"length":…} in the order Sentry's SDKs write them.
using OrderedJson = nlohmann::ordered_json;

struct EnvelopeItem {
  OrderedJson header = OrderedJson::object();  // "type" first; "length" is (re)set on serialization
  std::string payload;
};

struct Envelope {
  OrderedJson header = OrderedJson::object();
  std::vector<EnvelopeItem> items;
};

// "2024-05-01T12:34:56.789Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339(parsers::Timestamp t);
// Parses what rfc3339() writes, plus "Z"-less, fraction-less and "+hh:mm" forms.
std::optional<parsers::Timestamp> parse_rfc3339(std::string_view text);

// Envelope header {"event_id"?, "sent_at", "dsn"?, "sdk":{"name":"crashwrap","version":…}};
// an empty event_id or dsn leaves that key out.
OrderedJson envelope_header(std::string_view event_id, parsers::Timestamp sent_at,
                            std::string_view dsn);

// ---- items ----
EnvelopeItem event_item(const nlohmann::json& event);
// nullopt when `data` is empty (never emit an empty attachment).
std::optional<EnvelopeItem> attachment_item(std::string_view filename, std::string data,
                                            std::string_view content_type = "text/plain");
EnvelopeItem client_report_item(const nlohmann::json& report);  // {"timestamp","discarded_events":[…]}
EnvelopeItem session_item(const nlohmann::json& session);
EnvelopeItem check_in_item(const nlohmann::json& check_in);
// `logs` is the array of log objects; the payload is {"items": logs} with
// item_count and content_type application/vnd.sentry.items.log+json.
EnvelopeItem log_item(const nlohmann::json& logs);

// The bytes: header line, then each item's header line (with "length" set to the
// payload's byte size), payload and "\n".
std::string serialize(const Envelope& envelope);

// ---- building an event envelope within limits ----
struct EnvelopeLimits {
  std::uint64_t envelope_max_bytes = 20ull * 1024 * 1024;
  std::uint64_t attachment_max_bytes = 1024 * 1024;  // per attachment
};

struct BuiltEnvelope {
  std::string bytes;                        // empty when !fits
  bool fits = true;                         // false: even the event alone exceeds envelope_max_bytes
  std::uint64_t size = 0;                   // bytes.size(), or the smallest size tried when !fits
  std::size_t attachments_dropped = 0;      // over attachment_max_bytes, or to fit the envelope
  std::uint64_t attachment_bytes_dropped = 0;
};

// Event item first, then the non-empty attachments, then `extra` items
// (client_report, session, …). Attachments over attachment_max_bytes are left
// out; if the envelope still exceeds envelope_max_bytes, attachments are left
// out largest first until it fits. Every omission is counted in the result.
BuiltEnvelope build_event_envelope(const BuiltEvent& event, std::string_view dsn,
                                   parsers::Timestamp sent_at, const EnvelopeLimits& limits,
                                   std::vector<EnvelopeItem> extra = {});
// The same from parts, for callers without a BuiltEvent (tests, recovery).
struct AttachmentPart {
  std::string filename;
  std::string content_type = "text/plain";
  std::string data;
};
BuiltEnvelope build_event_envelope(std::string_view event_id, const nlohmann::json& event,
                                   const std::vector<AttachmentPart>& attachments,
                                   std::string_view dsn, parsers::Timestamp sent_at,
                                   const EnvelopeLimits& limits,
                                   std::vector<EnvelopeItem> extra = {});

// ---- parsing ----
struct ParsedItem {
  nlohmann::json header;
  std::string payload;
  std::string type() const;  // header "type", "" when absent
};

struct ParsedEnvelope {
  nlohmann::json header;
  std::vector<ParsedItem> items;
  std::string event_id() const;                   // header "event_id", "" when absent
  const ParsedItem* first(std::string_view type) const;  // nullptr when absent
};

// Strict framing as Relay enforces it: one-line JSON object headers (no BOM,
// no surrounding whitespace, no "\r", no duplicate keys), `length` an integer
// 0…2^32-1 followed by exactly that many bytes and then "\n" or the end, items
// without `length` running to the next "\n", at most one final "\n" and
// nothing after it, every item header with a non-empty string `type`.
// On failure returns nullopt and sets `error` to what is wrong and where
// ("item 2: payload truncated: length 120, 64 bytes left").
std::optional<ParsedEnvelope> parse_envelope(std::string_view bytes, std::string& error);

// The same envelope with its header's `sent_at` replaced and `dsn` set (or
// removed when `dsn` is empty); items are kept byte for byte. Used at send
// time, since the spool holds one envelope for every DSN. nullopt when the
// first line is not a JSON object.
std::optional<std::string> rewrite_header(std::string_view envelope, parsers::Timestamp sent_at,
                                          std::string_view dsn);

}  // namespace crashwrap::sinks
