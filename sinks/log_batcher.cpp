#include "sinks/log_batcher.h"

#include <sys/random.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>

#include "agent/diag.h"
#include "sinks/background_saver.h"
#include "sinks/envelope.h"
#include "sinks/event_trim.h"
#include "sinks/scrubber.h"
#include "sinks/spool.h"

namespace crashwrap::sinks {
namespace {

using parsers::LogAttribute;
using parsers::LogLevel;
using parsers::Timestamp;

constexpr std::string_view kItemsOpen = "{\"items\":[";
constexpr auto kReportEvery = std::chrono::seconds(1);
constexpr auto kWindow = std::chrono::minutes(1);
// Log bytes waiting for the saver thread before batches are dropped.
constexpr std::size_t kMaxQueuedLogBytes = 16 * 1024 * 1024;
constexpr std::string_view kSeverity[] = {"1", "5", "9", "13", "17", "21"};  // by LogLevel

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = std::random_device{}();
  return v;
}

std::string random_trace_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = random_u64();
    for (int i = 0; i < 16; ++i, v >>= 4) id += kHex[v & 15];
  }
  return id;
}

// Bytes a JSON string takes as they are (printable ASCII but '"' and '\\').
constexpr auto kPlainJson = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// Appends `s` as a JSON string body (no quotes): escapes what JSON requires
// and replaces bytes that are not valid UTF-8 with U+FFFD, since child output
// may hold anything and the server refuses invalid JSON text.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of plain ASCII are copied in one go.
    std::size_t j = i;
    while (j < s.size() && kPlainJson[static_cast<unsigned char>(s[j])]) ++j;
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += '\\';
      switch (c) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '\n': out += 'n'; break;
        case '\r': out += 'r'; break;
        case '\t': out += 't'; break;
        default:
          out += "u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
      }
      ++i;
      continue;
    }
    if (const std::size_t n = utf8_sequence_length(s, i); n > 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

void append_string_attribute(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  append_escaped(out, key);
  out += "\":{\"value\":";
  append_string(out, value);
  out += ",\"type\":\"string\"}";
}

std::string_view type_name(LogAttribute::Type t) {
  switch (t) {
    case LogAttribute::Type::String: return "string";
    case LogAttribute::Type::Integer: return "integer";
    case LogAttribute::Type::Double: return "double";
    case LogAttribute::Type::Boolean: return "boolean";
  }
  return "string";
}

// The line's own attributes may not shadow the ones crashwrap sets.
bool reserved_key(std::string_view k) {
  return k.substr(0, 7) == "sentry." || k == "server.address" || k == "process.pid" ||
         k == "log.iostream";
}

std::string common_attributes(const LogBatcherOptions& o, std::string_view stream) {
  std::string s;
  append_string_attribute(s, "sentry.sdk.name", "crashwrap");
  s += ',';
  append_string_attribute(s, "sentry.sdk.version", CRASHWRAP_VERSION);
  s += ',';
  append_string_attribute(s, "sentry.origin", "auto.log.crashwrap");
  if (!o.release.empty()) {
    s += ',';
    append_string_attribute(s, "sentry.release", o.release);
  }
  if (!o.environment.empty()) {
    s += ',';
    append_string_attribute(s, "sentry.environment", o.environment);
  }
  if (!o.server_name.empty()) {
    s += ',';
    append_string_attribute(s, "server.address", o.server_name);
  }
  if (o.pid > 0) s += ",\"process.pid\":{\"value\":" + std::to_string(o.pid) + ",\"type\":\"integer\"}";
  s += ',';
  append_string_attribute(s, "log.iostream", stream);
  return s;
}

void append_timestamp(std::string& out, Timestamp t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  // seconds "." six digits of microseconds, without printf's cost per log
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, us / 1000000).ptr;
  *end++ = '.';
  long long frac = us % 1000000;
  if (frac < 0) frac += 1000000;
  for (int i = 5; i >= 0; --i, frac /= 10) end[i] = static_cast<char>('0' + frac % 10);
  out.append(buf, static_cast<std::size_t>(end + 6 - buf));
}

}  // namespace

LogBatcherOptions log_batcher_options(const config::Config& c, int child_pid) {
  LogBatcherOptions o;
  o.min_level = parsers::log_level_from_word(c.logs_min_level).value_or(LogLevel::Info);
  o.sample_rate = c.logs_sample_rate;
  o.budget_bytes_per_minute = c.logs_budget;
  o.release = c.release;
  o.environment = c.environment;
  o.server_name = c.server_name;
  o.pid = child_pid;
  return o;
}

LogBatcher::LogBatcher(LogBatcherOptions options, Save save, Discard discard, Scrub scrub)
    : opts_(std::move(options)),
      save_(std::move(save)),
      discard_(std::move(discard)),
      scrub_(std::move(scrub)),
      rng_(opts_.seed ? opts_.seed : random_u64()) {
  if (opts_.trace_id.size() != 32) opts_.trace_id = random_trace_id();
  if (opts_.max_items == 0) opts_.max_items = 1;
  common_stdout_ = common_attributes(opts_, "stdout");
  common_stderr_ = common_attributes(opts_, "stderr");
  batch_.assign(kItemsOpen);
}

void LogBatcher::child_started(int pid) {
  opts_.pid = pid;
  common_stdout_ = common_attributes(opts_, "stdout");
  common_stderr_ = common_attributes(opts_, "stderr");
}

void LogBatcher::add(const parsers::Line& line) {
  // Once this minute's budget is spent, a flood costs no parsing.
  if (window_full_ && line.time >= window_start_ && line.time < window_start_ + kWindow) {
    ++stats_.over_budget;
    ++unreported_budget_;
    return;
  }
  parser_.parse(line.text, record_);
  add(record_, line.stream, line.time);
}

void LogBatcher::add(const parsers::LogRecord& record, parsers::Stream stream, Timestamp time) {
  if (record.level < opts_.min_level) {
    ++stats_.below_level;
    return;
  }
  if (record.level <= LogLevel::Info && opts_.sample_rate < 1.0 &&
      !(std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < opts_.sample_rate)) {
    ++stats_.sampled_out;
    ++unreported_sampled_;
    return;
  }
  const std::size_t mark = batch_.size();
  if (count_ > 0) batch_ += ',';
  write_log(record, stream, time);
  if (!within_budget(batch_.size() - mark, time)) {
    batch_.resize(mark);
    ++stats_.over_budget;
    ++unreported_budget_;
    return;
  }
  if (count_++ == 0) first_ = time;
  ++stats_.kept;
  if (count_ >= opts_.max_items || batch_.size() >= opts_.max_payload_bytes) save_batch(time);
}

void LogBatcher::write_log(const parsers::LogRecord& r, parsers::Stream stream, Timestamp time) {
  std::string& b = batch_;
  b += "{\"timestamp\":";
  append_timestamp(b, time);
  b += ",\"trace_id\":\"";
  b += opts_.trace_id;
  b += "\",\"level\":\"";
  b += parsers::log_level_name(r.level);
  b += "\",\"severity_number\":";
  b += kSeverity[static_cast<std::size_t>(r.level)];
  b += ",\"body\":";
  if (scrub_) {
    scratch_.assign(r.body);
    scrub_(scratch_);
    append_string(b, scratch_);
  } else {
    append_string(b, r.body);
  }
  b += ",\"attributes\":{";
  b += stream == parsers::Stream::Stdout ? common_stdout_ : common_stderr_;
  for (std::size_t i = 0; i < r.attribute_count; ++i) {
    const LogAttribute& a = r.attributes[i];
    if (reserved_key(a.key)) continue;
    b += ",\"";
    append_escaped(b, a.key);
    b += "\":{\"value\":";
    if (a.type == LogAttribute::Type::String) {
      if (scrub_) {
        scratch_.assign(a.value);
        scrub_(scratch_);
        append_string(b, scratch_);
      } else {
        append_string(b, a.value);
      }
    } else {
      b += a.value;
    }
    b += ",\"type\":\"";
    b += type_name(a.type);
    b += "\"}";
  }
  b += "}}";
}

bool LogBatcher::within_budget(std::size_t bytes, Timestamp time) {
  if (opts_.budget_bytes_per_minute == 0) return true;
  // Fixed windows; a clock that went back starts a new one.
  if (time < window_start_ || time >= window_start_ + kWindow) {
    window_start_ = time;
    window_bytes_ = 0;
    window_full_ = false;
  }
  if (window_bytes_ + bytes > opts_.budget_bytes_per_minute) {
    if (stats_.over_budget == 0 && budget_warn_) budget_warn_();
    window_full_ = true;
    return false;
  }
  window_bytes_ += bytes;
  return true;
}

void LogBatcher::tick(Timestamp now) {
  if (count_ > 0 && (now >= first_ + opts_.flush_interval || now < first_)) save_batch(now);
  report_drops(now, false);
}

void LogBatcher::flush(Timestamp now) {
  if (count_ > 0) save_batch(now);
  report_drops(now, true);
  if (flush_wait_) flush_wait_();
}

void LogBatcher::save_batch(Timestamp now) {
  batch_ += "]}";
  Envelope env;
  env.header = envelope_header("", now, "");
  EnvelopeItem item;
  item.header["type"] = "log";
  item.header["item_count"] = count_;
  item.header["content_type"] = "application/vnd.sentry.items.log+json";
  item.payload = std::move(batch_);
  env.items.push_back(std::move(item));
  const std::size_t n = count_;
  count_ = 0;
  batch_.assign(kItemsOpen);
  ++stats_.envelopes;
  if (!save_(serialize(env), n)) ++stats_.save_failures;
}

void LogBatcher::report_drops(Timestamp now, bool force) {
  if (unreported_sampled_ == 0 && unreported_budget_ == 0) return;
  if (!force && now >= last_report_ && now < last_report_ + kReportEvery) return;
  last_report_ = now;
  if (unreported_sampled_) discard_("sample_rate", unreported_sampled_);
  if (unreported_budget_) discard_("ratelimit_backoff", unreported_budget_);
  unreported_sampled_ = unreported_budget_ = 0;
}

std::unique_ptr<LogBatcher> spool_log_batcher(const config::Config& config, int child_pid, Spool spool,
                                              std::function<void()> saved) {
  // Batches are compressed and written on the saver's thread; when too many
  // wait (the disk is slower than the child's output), a batch is dropped and
  // counted, never the passthrough slowed. The count reaches the spool from
  // the saver's thread too: the event loop never waits for the spool's lock.
  auto overflow = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto saver = std::make_shared<BackgroundSaver>(
      [spool, saved, overflow](std::string_view envelope, std::size_t items) mutable {
        Spool::SaveInfo info;
        info.category = "log_item";
        info.summary = std::to_string(items) + (items == 1 ? " log" : " logs");
        info.durable = false;
        if (spool.save_envelope(envelope, info) && saved) saved();
        if (const std::uint64_t n = overflow->exchange(0)) spool.add_discarded("queue_overflow", "log_item", n);
      },
      kMaxQueuedLogBytes);
  auto save = [saver, overflow](std::string_view envelope, std::size_t items) {
    if (saver->push(std::string(envelope), items)) return true;
    overflow->fetch_add(items);  // counted by the saver after its current save
    return false;
  };
  auto discard = [spool](std::string_view reason, std::uint64_t n) mutable {
    spool.add_discarded(reason, "log_item", n);
  };
  LogBatcher::Scrub scrub;
  if (Scrubber scrubber = Scrubber::from(config); scrubber.enabled())
    scrub = [scrubber](std::string& text) { scrubber.scrub(text); };
  auto batcher = std::make_unique<LogBatcher>(log_batcher_options(config, child_pid), std::move(save),
                                              std::move(discard), std::move(scrub));
  const std::uint64_t budget = config.logs_budget;
  batcher->on_budget_exceeded([budget] { agent::diag::logs_over_budget(budget); });
  batcher->on_flush([saver, overflow, spool]() mutable {
    saver->drain();
    if (const std::uint64_t n = overflow->exchange(0)) spool.add_discarded("queue_overflow", "log_item", n);
  });
  return batcher;
}

}  // namespace crashwrap::sinks
