// Byte counts for people.
#pragma once

#include <string>

namespace sessionctl {

// "512 B", "1.5 KiB", "3.2 MiB" (binary units, one decimal).
std::string human_bytes(long long bytes);

}  // namespace sessionctl
