#include "registry.h"

int main(int argc, char** argv) { return sessionctl::cli::run_main(argc, argv); }
