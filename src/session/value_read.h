// Reading one key's whole value: the command for its type and the decoding of its reply. Used by the
// point lookup of one session (SessionScanner::load); the scanner reads values through its batch plan.
#pragma once

#include <string>
#include <vector>

#include "redis/reply.h"
#include "session/session.h"

namespace sessionctl {

// Appends the command that reads a key's whole value for its type (GET for anything not an aggregate).
void append_value_command(std::vector<redis::Command>& cmds, const std::string& key, KeyType type);
// Turns a value reply into a StoredValue of the given type; false when the reply is an error (WRONGTYPE),
// nil (the key vanished) or of a type no value is read for.
bool decode_value(const redis::Reply& reply, KeyType type, StoredValue& out);

}  // namespace sessionctl
