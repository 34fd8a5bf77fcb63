#include <cassert>
#include <cstdio>

class Ring {
 public:
  void push(int v) {
    assert(n_ < 4 && "ring full");
    data_[n_++] = v;
  }

 private:
  int data_[4] = {};
  int n_ = 0;
};

int main() {
  Ring r;
  for (int i = 0; i < 6; ++i) {
    r.push(i);
    std::printf("pushed %d\n", i);
  }
}
