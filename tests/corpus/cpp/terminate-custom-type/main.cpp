#include <cstdio>
#include <stdexcept>
#include <string>

namespace billing {
struct LedgerError : std::runtime_error {
  explicit LedgerError(const std::string& what) : std::runtime_error(what) {}
};

void post(int cents) {
  if (cents < 0) throw LedgerError("negative amount " + std::to_string(cents) + " for account 17");
  std::printf("posted %d\n", cents);
}
}  // namespace billing

int main() {
  billing::post(250);
  billing::post(-40);
}
