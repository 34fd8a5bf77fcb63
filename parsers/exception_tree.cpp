#include "parsers/exception_tree.h"

#include <algorithm>

namespace crashwrap::parsers {
namespace {

constexpr std::size_t kMaxTree = 256;  // bounds the quadratic walk below

bool numbered(const std::vector<Exception>& ex) {
  if (ex.size() > kMaxTree) return false;
  for (std::size_t i = 0; i < ex.size(); ++i) {
    const Mechanism& m = ex[i].mechanism;
    if (m.exception_id != static_cast<int>(i)) return false;
    if (m.parent_id && (*m.parent_id < 0 || *m.parent_id >= static_cast<int>(i))) return false;
  }
  return true;
}

// Post-order: children (in printed order) before their parent. Parents always
// precede their children in printed order, so one reverse scan per node is enough.
void emit(const std::vector<Exception>& ex, std::size_t node, std::vector<std::size_t>& order) {
  for (std::size_t i = node + 1; i < ex.size(); ++i)
    if (ex[i].mechanism.parent_id == static_cast<int>(node)) emit(ex, i, order);
  order.push_back(node);
}

}  // namespace

void link_last(std::vector<Exception>& printed, int parent) {
  if (printed.empty()) return;
  Mechanism& m = printed.back().mechanism;
  m.exception_id = static_cast<int>(printed.size()) - 1;
  if (parent >= 0 && parent < *m.exception_id)
    m.parent_id = parent;
  else
    m.parent_id.reset();
}

void order_oldest_first(std::vector<Exception>& printed) {
  if (printed.size() <= 1 || !numbered(printed)) {
    std::reverse(printed.begin(), printed.end());
    for (Exception& e : printed) {
      e.mechanism.exception_id.reset();
      e.mechanism.parent_id.reset();
    }
    return;
  }
  std::vector<std::size_t> order;
  order.reserve(printed.size());
  for (std::size_t i = 0; i < printed.size(); ++i)
    if (!printed[i].mechanism.parent_id) emit(printed, i, order);
  std::vector<Exception> out;
  out.reserve(order.size());
  for (std::size_t i : order) out.push_back(std::move(printed[i]));
  printed = std::move(out);
}

}  // namespace crashwrap::parsers
