#include "registry.h"
int main(int, char**) { return 0; }
