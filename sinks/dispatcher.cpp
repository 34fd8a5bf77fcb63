#include "sinks/dispatcher.h"

#include <algorithm>

#include "agent/diag.h"
#include "sinks/delivery.h"
#include "sinks/envelope.h"

namespace crashwrap::sinks {

using parsers::Timestamp;
using std::chrono::milliseconds;

constexpr milliseconds kRescanGap{100};  // between rescans of a lane with a non-empty queue

struct Dispatcher::Lane {
  config::Dsn dsn;
  std::string key;    // dsn_key(): names the lane's state files
  std::string label;  // dsn_label(): for messages
  RateLimits limits;
  std::deque<std::string> queue;  // ids found deliverable by the last scan, oldest first
  bool scan_due = true;
  Timestamp next_scan{};
  Timestamp last_scan{};
  std::optional<Timestamp> next_retry;  // earliest retry-at in the spool
  Timestamp blocked_until{};            // connection backoff of the whole lane
  std::uint32_t failures = 0;           // consecutive connection failures
  bool dead = false;                    // one-shot: the server is unreachable this pass
  bool scanned_once = false;
  // The queue came from the first scan of this process: a retry time left by
  // an earlier run counts as reached unless a rate limit covers the entry.
  bool lenient = false;
  Timestamp last_report{};
  std::set<std::string> tried;          // one-shot: ids already attempted
  // The request in flight.
  bool busy = false;
  std::string id;                       // "" = a client report of its own
  ClientReports carried;
  std::vector<std::string> categories;  // data categories of the items sent
};

struct Dispatcher::Held {
  Claim claim;
  std::optional<std::string> bytes;
  int users = 0;
};

struct Dispatcher::Prepared {
  Request request;
  ClientReports carried;
  std::vector<std::string> categories;
};

namespace {

// Byte ranges of an envelope's items, for leaving some out without touching
// the others (their bytes are sent exactly as saved).
std::vector<std::string_view> item_spans(std::string_view bytes, const ParsedEnvelope& parsed) {
  std::vector<std::string_view> spans;
  std::size_t pos = bytes.find('\n');
  pos = pos == std::string_view::npos ? bytes.size() : pos + 1;
  for (const ParsedItem& item : parsed.items) {
    std::size_t hdr_end = bytes.find('\n', pos);
    if (hdr_end == std::string_view::npos) break;
    std::size_t end;
    if (item.header.contains("length")) {
      end = std::min(bytes.size(), hdr_end + 1 + item.payload.size());
      if (end < bytes.size() && bytes[end] == '\n') ++end;
    } else {
      end = bytes.find('\n', hdr_end + 1);
      end = end == std::string_view::npos ? bytes.size() : end + 1;
    }
    spans.push_back(bytes.substr(pos, end - pos));
    pos = end;
  }
  return spans;
}

std::string state_name(std::string_view what, const std::string& key) {
  return std::string(what) + "-" + key;
}

}  // namespace

Dispatcher::Dispatcher(Spool spool, std::vector<config::Dsn> dsns, std::unique_ptr<Transport> transport,
                       DispatchOptions options)
    : spool_(std::move(spool)), transport_(std::move(transport)), options_(options),
      rng_(std::random_device{}()) {
  for (auto& d : dsns) {
    Lane lane;
    lane.key = dsn_key(d.raw);
    lane.label = dsn_label(d.raw);
    if (auto text = spool_.read_state(state_name("ratelimits", lane.key))) lane.limits = RateLimits::parse(*text);
    lane.dsn = std::move(d);
    lanes_.push_back(std::move(lane));
  }
}

Dispatcher::~Dispatcher() {
  // In-flight requests are abandoned; their entries stay pending (at-least-once).
  transport_.reset();
}

void Dispatcher::wake() noexcept { transport_->wake(); }

void Dispatcher::rescan() noexcept { rescan_all_ = true; }

void Dispatcher::report_now() noexcept { report_now_ = true; }

bool Dispatcher::busy() const {
  return std::any_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.busy; });
}

double Dispatcher::jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void Dispatcher::pump(Timestamp now) {
  if (rescan_all_) {
    for (Lane& l : lanes_) l.scan_due = true;
    next_discard_check_ = Timestamp{};
  }
  rescan_all_ = false;
  collect_discarded(now);
  bool started = false;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = lanes_[i];
    if (lane.busy || lane.dead) continue;
    if (!options_.one_shot && lane.blocked_until > now) continue;
    if (start_next(i, now) || start_report(i, now)) started = true;
  }
  report_now_ = false;
  idle_ = !started && !busy();
}

void Dispatcher::wait(milliseconds timeout) {
  for (Completion& c : transport_->wait(timeout))
    if (c.slot < lanes_.size()) complete(c.slot, std::move(c.response), parsers::Clock::now());
}

std::optional<Timestamp> Dispatcher::next_due() const {
  std::optional<Timestamp> due;
  auto consider = [&](Timestamp t) {
    if (!due || t < *due) due = t;
  };
  for (const Lane& l : lanes_) {
    if (l.busy || l.dead) continue;  // a completion wakes the loop
    if (l.failures > 0) {
      consider(l.blocked_until);
    } else if (l.next_retry) {
      consider(*l.next_retry);
    }
  }
  return due;
}

std::size_t Dispatcher::left() const {
  std::size_t n = 0;
  for (const SpoolEntry& e : spool_.entries()) {
    if (e.stage != Stage::Pending) continue;
    bool owed = std::any_of(lanes_.begin(), lanes_.end(), [&](const Lane& l) {
      DsnStatus s = e.delivery_for(l.dsn.raw).status;
      return s == DsnStatus::Pending || s == DsnStatus::Retry;
    });
    if (owed) ++n;
  }
  return n;
}

void Dispatcher::scan(Lane& lane, Timestamp now) {
  lane.scan_due = false;
  if (options_.one_shot && lane.scanned_once) return;  // one pass over what was there
  lane.last_scan = now;
  // A manual send and a new start retry now: every retry time counts as reached.
  lane.lenient = options_.one_shot || !lane.scanned_once;
  lane.scanned_once = true;
  Timestamp horizon = lane.lenient ? now + std::chrono::hours(24 * 365 * 100) : now;
  lane.queue.clear();
  for (const SpoolEntry& e : spool_.deliverable(lane.dsn.raw, horizon))
    if (!lane.tried.count(e.id)) lane.queue.push_back(e.id);
  scanned_ += lane.queue.size();
  lane.next_retry = options_.one_shot ? std::nullopt : spool_.next_retry(lane.dsn.raw);
  // A retry time already reached belongs to an entry another process holds:
  // look again in a moment rather than spinning.
  if (lane.next_retry && *lane.next_retry <= now) lane.next_retry = now + std::chrono::seconds(1);
  lane.next_scan = now + options_.rescan_interval;
  if (lane.next_retry && *lane.next_retry < lane.next_scan) lane.next_scan = *lane.next_retry;
}

bool Dispatcher::start_next(std::size_t index, Timestamp now) {
  Lane& lane = lanes_[index];
  // Bounded so one lane with many unsendable entries cannot starve the loop.
  for (int budget = 256; budget > 0; --budget) {
    // Something new was saved while a queue (of logs, say) is being worked
    // off: look again, so a crash goes before the rest of the queue. Throttled,
    // since a scan reads every pending record.
    if (!lane.queue.empty() && lane.scan_due && !options_.one_shot &&
        (now >= lane.last_scan + kRescanGap || now < lane.last_scan)) {
      scan(lane, now);
    }
    if (lane.queue.empty()) {
      if (!lane.scan_due && now < lane.next_scan) return false;
      if (options_.one_shot && lane.scanned_once) return false;
      scan(lane, now);
      if (lane.queue.empty()) return false;
    }
    std::string id = std::move(lane.queue.front());
    lane.queue.pop_front();
    if (options_.one_shot && !lane.tried.insert(id).second) continue;
    Held* held = acquire(id);
    if (!held) continue;  // sent meanwhile, or another process is sending it
    DsnDelivery d = held->claim.entry().delivery_for(lane.dsn.raw);
    bool reached = !d.retry_at || *d.retry_at <= now || options_.one_shot ||
                   (lane.lenient && !lane.limits.is_limited(held->claim.entry().category, now));
    bool due = d.status == DsnStatus::Pending || (d.status == DsnStatus::Retry && reached);
    if (!due) {
      release(id);
      continue;
    }
    std::optional<Prepared> p = prepare(lane, *held, now);
    if (!p) {
      release(id);
      continue;
    }
    lane.busy = true;
    lane.id = id;
    lane.carried = std::move(p->carried);
    lane.categories = std::move(p->categories);
    transport_->submit(index, std::move(p->request));
    return true;
  }
  return false;
}

// nullopt when the entry was finished here instead (unreadable, or every
// item is under a rate limit); the outcome is already recorded then.
std::optional<Dispatcher::Prepared> Dispatcher::prepare(Lane& lane, Held& held, Timestamp now) {
  const std::string& raw = lane.dsn.raw;
  if (!held.bytes) held.bytes = held.claim.envelope();
  std::string error;
  std::optional<ParsedEnvelope> parsed;
  if (held.bytes) parsed = parse_envelope(*held.bytes, error);
  if (!parsed || parsed->items.empty()) {
    held.claim.mark_dropped(raw, parsed ? "empty envelope" : "unreadable", now);
    count_discard(lane, DiscardReason::SendError, {held.claim.entry().category});
    ++counts_.dropped;
    return std::nullopt;
  }
  Prepared p;
  std::vector<std::string> limited;
  std::string body = held.bytes->substr(0, held.bytes->find('\n') + 1);
  std::vector<std::string_view> spans = item_spans(*held.bytes, *parsed);
  // An event's attachments go with it (as Relay's envelope limiter does):
  // alone they are orphans the server would discard.
  const ParsedItem* event = parsed->first("event");
  const bool event_limited = event && lane.limits.is_limited(item_category("event"), now);
  for (std::size_t i = 0; i < spans.size() && i < parsed->items.size(); ++i) {
    std::string category(item_category(parsed->items[i].type()));
    if (lane.limits.is_limited(category, now) || (event_limited && category == "attachment")) {
      limited.push_back(category);
      continue;
    }
    if (!body.empty() && body.back() != '\n') body += '\n';
    body.append(spans[i]);
    p.categories.push_back(std::move(category));
  }
  if (!limited.empty()) count_discard(lane, DiscardReason::RatelimitBackoff, limited);
  if (p.categories.empty()) {
    held.claim.mark_dropped(raw, "ratelimit_backoff", now);
    ++counts_.dropped;
    return std::nullopt;
  }
  if (!lane.limits.is_limited("internal", now)) {
    std::string report = load_reports(lane).payload(now, p.carried);
    if (!report.empty()) {
      if (body.back() != '\n') body += '\n';
      body += encode_client_report_item(report);
    }
  }
  std::optional<Request> req = prepare_request(body, lane.dsn, options_.compression, now);
  if (!req) {
    held.claim.mark_dropped(raw, "unreadable", now);
    ++counts_.dropped;
    return std::nullopt;
  }
  p.request = std::move(*req);
  return p;
}

bool Dispatcher::start_report(std::size_t index, Timestamp now) {
  Lane& lane = lanes_[index];
  // Even when asked, never more than one report per second and lane.
  bool due = ((report_now_ || options_.one_shot) && now >= lane.last_report + std::chrono::seconds(1)) ||
             now >= lane.last_report + options_.report_interval;
  if (!due || lane.limits.is_limited("internal", now)) return false;
  if (options_.one_shot && lane.last_report != Timestamp{}) return false;  // once per pass
  ClientReports carried;
  std::string report = load_reports(lane).payload(now, carried);
  if (report.empty()) return false;
  std::string body = envelope_header("", now, lane.dsn.raw).dump() + "\n" + encode_client_report_item(report);
  std::optional<Request> req = prepare_request(body, lane.dsn, options_.compression, now);
  if (!req) return false;
  lane.last_report = now;
  lane.busy = true;
  lane.id.clear();
  lane.carried = std::move(carried);
  lane.categories = {"internal"};
  transport_->submit(index, std::move(*req));
  return true;
}

void Dispatcher::complete(std::size_t index, Response r, Timestamp now) {
  Lane& lane = lanes_[index];
  lane.busy = false;
  ++counts_.attempts;
  const std::string limits_before = lane.limits.serialize();
  lane.limits.update(r.error == TransportError::None ? r.status : 0, r.retry_after, r.rate_limits, now);
  if (lane.limits.serialize() != limits_before) save_limits(lane);

  Delivery outcome = classify(r);
  if (outcome != Delivery::Sent) counts_.last_error = describe(r);
  if (is_connection_failure(r)) {
    ++lane.failures;
    lane.blocked_until = now + backoff(lane.failures, jitter());
    lane.scan_due = true;
    if (options_.one_shot) lane.dead = true;
  } else {
    lane.failures = 0;
    lane.blocked_until = Timestamp{};
  }
  if (outcome != Delivery::Retry && !lane.carried.empty()) {
    // Accepted, or refused for good: either way the server has seen these counts.
    ClientReports reports = load_reports(lane);
    reports.acknowledge(lane.carried);
    save_reports(lane, reports);
  }
  if (lane.id.empty()) return;  // a client report of its own: nothing in the spool
  auto it = held_.find(lane.id);
  if (it == held_.end()) return;
  Held* held = &it->second;
  switch (outcome) {
    case Delivery::Sent:
      held->claim.mark_sent(lane.dsn.raw, now);
      ++counts_.sent;
      break;
    case Delivery::Drop:
      held->claim.mark_dropped(lane.dsn.raw, "send_error: " + describe(r), now);
      count_discard(lane, DiscardReason::SendError, lane.categories);
      agent::diag::envelope_rejected(lane.id, lane.label, describe(r));
      ++counts_.dropped;
      break;
    case Delivery::Retry:
      record_retry(lane, *held, r, now);
      break;
  }
  release(lane.id);
}

void Dispatcher::record_retry(Lane& lane, Held& held, const Response& r, Timestamp now) {
  std::uint32_t attempts = held.claim.entry().delivery_for(lane.dsn.raw).attempts + 1;
  Timestamp at = now + backoff(attempts, jitter());
  if (r.error == TransportError::None && r.status == 429) {
    // Not before the limit it announced ends for what this envelope carries.
    for (const std::string& c : lane.categories)
      if (auto until = lane.limits.limited_until(c, now)) at = std::max(at, *until);
  } else if (r.error == TransportError::None && r.status >= 500) {
    if (auto ra = parse_retry_after(r.retry_after, now)) at = std::max(at, now + *ra);
  }
  held.claim.mark_retry(lane.dsn.raw, at, now);
  if (!lane.next_retry || at < *lane.next_retry) lane.next_retry = at;
  if (at < lane.next_scan) lane.next_scan = at;
  ++counts_.retried;
}

Dispatcher::Held* Dispatcher::acquire(const std::string& id) {
  auto it = held_.find(id);
  if (it == held_.end()) {
    std::optional<Claim> c = spool_.claim(id);
    if (!c) return nullptr;
    it = held_.emplace(id, Held{std::move(*c), std::nullopt, 0}).first;
  }
  ++it->second.users;
  return &it->second;
}

void Dispatcher::release(const std::string& id) {
  auto it = held_.find(id);
  if (it != held_.end() && --it->second.users <= 0) held_.erase(it);  // drops the flock
}

void Dispatcher::collect_discarded(Timestamp now) {
  if (now < next_discard_check_ && next_discard_check_ - now < std::chrono::seconds(10)) return;
  next_discard_check_ = now + std::chrono::seconds(5);
  std::vector<Discarded> taken = spool_.take_discarded();
  if (taken.empty()) return;
  // The spool dropped these entries for every DSN: each DSN reports them.
  for (Lane& lane : lanes_) {
    ClientReports reports = load_reports(lane);
    for (const Discarded& d : taken)
      if (auto reason = reason_from_name(d.reason)) reports.add(*reason, d.category, d.quantity);
    save_reports(lane, reports);
  }
}

ClientReports Dispatcher::load_reports(const Lane& lane) const {
  auto text = spool_.read_state(state_name("reports", lane.key));
  return text ? ClientReports::parse(*text) : ClientReports{};
}

void Dispatcher::save_reports(const Lane& lane, const ClientReports& reports) {
  spool_.write_state(state_name("reports", lane.key), reports.serialize());
}

void Dispatcher::count_discard(Lane& lane, DiscardReason reason, const std::vector<std::string>& categories) {
  ClientReports reports = load_reports(lane);
  for (const std::string& c : categories)
    if (c != "internal") reports.add(reason, c);
  save_reports(lane, reports);
}

void Dispatcher::save_limits(Lane& lane) {
  // Another process on this spool may have learnt limits of its own.
  if (auto text = spool_.read_state(state_name("ratelimits", lane.key))) lane.limits.merge(RateLimits::parse(*text));
  spool_.write_state(state_name("ratelimits", lane.key), lane.limits.serialize());
}

}  // namespace crashwrap::sinks
