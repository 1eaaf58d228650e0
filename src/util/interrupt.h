// Ctrl-C handling: long loops poll this and stop cleanly (exit 130) instead of dying mid-write.
#pragma once

namespace sessionctl {

// Installs SIGINT/SIGTERM handlers that set a flag.
void install_interrupt_handler();
// Whether the user asked to stop.
bool interrupted();
// Throws Interrupted when the user asked to stop.
void check_interrupted();

}  // namespace sessionctl
