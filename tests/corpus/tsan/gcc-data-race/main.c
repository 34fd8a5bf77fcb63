#include <pthread.h>
#include <stdio.h>

static long hits;

static void* count(void* arg) {
  for (int i = 0; i < 1000; ++i) hits++;
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, count, NULL);
  pthread_create(&b, NULL, count, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("hits %ld\n", hits);
  return 0;
}
