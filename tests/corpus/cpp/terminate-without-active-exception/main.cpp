#include <chrono>
#include <cstdio>
#include <thread>

void start_worker() {
  std::thread t([] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
  std::printf("worker started\n");
  std::fflush(stdout);
}  // t is still joinable here: std::terminate()

int main() { start_worker(); }
