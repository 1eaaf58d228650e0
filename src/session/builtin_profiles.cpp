// The five session stores documented in ../shared/seeds, in the same format as a --profiles-file.
#include "session/profile.h"

namespace sessionctl {
namespace {

constexpr const char* kBuiltinProfiles = R"json({
  "profiles": [
    {
      "name": "btrix",
      "description": "BTRIX chatbot booking flow (seed 000): state:{id}, JSON, SET EX 3600, TTL refreshed on read",
      "key": "state:{id}",
      "type": "string",
      "encoding": "json",
      "ttl": {"default": "1h", "max": "1h", "sliding": true},
      "state_field": "current",
      "activity_field": "updatedAt",
      "max_size": 2000,
      "pii": {"data.name": "name", "data.email": "email", "data.phone": "phone"}
    },
    {
      "name": "openvaa",
      "description": "OpenVAA chatbot conversation state (seed 001): SETEX 24h, may be encrypted, server-made UUIDs",
      "key": "conversation:state:{id}",
      "type": "string",
      "encoding": "json-or-opaque",
      "ttl": {"default": "24h", "max": "24h", "sliding": true},
      "id_format": "uuid",
      "max_size": 5120
    },
    {
      "name": "channels",
      "description": "Django Channels WebSocket sessions (seed 002): session:{id} {data:{count,last_activity},created_at,ttl}, extendable",
      "key": "session:{id}",
      "exclude": ["session:chat:{chat_id}"],
      "type": "string",
      "encoding": "json",
      "shape": {"all": ["data"], "any": ["created_at", "ttl"]},
      "ttl": {"default": "1h"},
      "activity_field": "data.last_activity",
      "max_size": 1024
    },
    {
      "name": "telegram",
      "description": "Telegram voting bot sessions (seed 003): session:{id} with participants and proposals, index session:chat:{chat_id}",
      "key": "session:{id}",
      "exclude": ["session:chat:{chat_id}"],
      "type": "string",
      "encoding": "json",
      "shape": {"any": ["participants", "proposals", "chatId"]},
      "ttl": {"default": "24h"},
      "state_field": "open",
      "state_labels": {"true": "open", "false": "closed"},
      "indexes": [
        {"role": "chat", "key": "session:chat:{chat_id}", "type": "pointer", "link": "chatId"}
      ],
      "pii": {
        "participants.*": "username",
        "createdByUsername": "username",
        "proposals.*.createdByUsername": "username",
        "votes.{keys}": "username",
        "proposals.*.votes.{keys}": "username"
      }
    },
    {
      "name": "trt",
      "description": "TRT therapist sessions (seed 004): :state hash, :history list (newest 50), :meta hash, trt:active_sessions zset",
      "key": "trt:session:{id}:state",
      "type": "hash",
      "encoding": "fields",
      "related": [
        {"role": "history", "key": "trt:session:{id}:history", "type": "list", "encoding": "json-items", "max_items": 50},
        {"role": "meta", "key": "trt:session:{id}:meta", "type": "hash", "encoding": "fields", "ttl": false}
      ],
      "indexes": [
        {"role": "active_sessions", "key": "trt:active_sessions", "type": "zset", "score": "last_activity"}
      ],
      "ttl": {"default": "24h", "max": "24h"},
      "state_field": "current_stage",
      "activity_field": "last_interaction",
      "pii": {"client_input": "text", "therapist_response": "text", "user_agent": "redact"}
    }
  ]
})json";

}  // namespace

ProfileSet ProfileSet::builtin() { return parse(kBuiltinProfiles, "built-in profiles"); }

}  // namespace sessionctl
