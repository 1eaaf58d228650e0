// Which of the 16384 hash slots a key lives in (CRC16-XMODEM of the key, or of its {hash tag}), and which
// argument of a command is its key: what the cluster router needs to send each command to its owner.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "redis/command_buffer.h"
#include "redis/reply.h"

namespace sessionctl::redis::cluster {

constexpr int kSlots = 16384;

// The slot of `key`, honouring the first non-empty {…} hash tag as Redis does.
int key_slot(std::string_view key);

// The argument index of the command's first key (1 for GET, 2 for MEMORY USAGE, 3 for EVAL with keys),
// or nullopt for a command without keys (INFO, CONFIG, PING, SCAN…), which any node may answer.
std::optional<std::size_t> key_index(std::string_view name, std::string_view second_arg, std::size_t argc);

// The slot a command's key lives in, nullopt when it has none.
std::optional<int> command_slot(const Command& argv);
std::optional<int> command_slot(const CommandBuffer& commands, std::size_t index);

}  // namespace sessionctl::redis::cluster
