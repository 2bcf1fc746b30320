#include <stdio.h>
#include <math.h>
int main(int argc, char **argv) {
  double s = 0; long double l = 1;
  for (int i = 1; i <= 20; i++) { s += 1.0 / (i * i); l *= 1.5L; }
  printf("hello from a static glibc binary: argc=%d sum=%.12f ld=%.10Lf sqrt2=%.15f\n", argc, s, l, sqrt(2.0));
  return 42;
}
