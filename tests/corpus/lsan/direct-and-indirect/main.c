#include <stdlib.h>
#include <string.h>

struct node { struct node* next; char* label; };

static struct node* make(const char* label, struct node* next) {
  struct node* n = malloc(sizeof *n);
  n->label = strdup(label);
  n->next = next;
  return n;
}

int main(void) {
  struct node* list = make("head", make("tail", NULL));
  list = NULL;
  return 0;
}
