/* Hosted driver: runs fp_demo() natively and writes its text to stdout. */
#include <stdio.h>
#include "demo.h"

static char buf[8192];

int main(void) {
  size_t n = fp_demo(buf, sizeof buf);
  fwrite(buf, 1, n < sizeof buf ? n : sizeof buf - 1, stdout);
  return 0;
}
