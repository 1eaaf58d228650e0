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
    },
    {
      "name": "connect-redis",
      "description": "Express sessions (express-session with connect-redis): sess:{id}, JSON with a cookie object, SET EX from cookie.expires or 86400 s, touch = EXPIRE",
      "key": "sess:{id}",
      "type": "string",
      "encoding": "json",
      "shape": {"all": ["cookie"]},
      "ttl": {"default": "24h", "sliding": true},
      "pii": {"email": "email", "user.email": "email", "user.name": "name", "username": "username", "user.username": "username", "passport.user": "redact"}
    },
    {
      "name": "spring",
      "description": "Spring Session (RedisSessionRepository; RedisIndexedSessionRepository adds the :expires:{id} key): spring:session:sessions:{id} hash, values JDK-serialized",
      "key": "spring:session:sessions:{id}",
      "exclude": ["spring:session:sessions:expires:{id}"],
      "type": "hash",
      "encoding": "fields",
      "format": "jdk",
      "related": [
        {"role": "expires", "key": "spring:session:sessions:expires:{id}", "type": "string", "encoding": "opaque"}
      ],
      "ttl": {"default": "30m"}
    },
    {
      "name": "php",
      "description": "PHP sessions (phpredis session handler): PHPREDIS_SESSION:{id}, session.serialize_handler output, SETEX session.gc_maxlifetime (1440 s)",
      "key": "PHPREDIS_SESSION:{id}",
      "exclude": ["PHPREDIS_SESSION:{id}_LOCK"],
      "type": "string",
      "encoding": "opaque",
      "format": "php-session",
      "ttl": {"default": "24m"}
    },
    {
      "name": "django",
      "description": "Django sessions (django-redis cache backend): :1:django.contrib.sessions.cache{id}, a pickled dict, TTL from get_expiry_age() (SESSION_COOKIE_AGE, 2 weeks)",
      "key": ":1:django.contrib.sessions.cache{id}",
      "type": "string",
      "encoding": "opaque",
      "format": "pickle",
      "ttl": {"default": "14d"}
    },
    {
      "name": "rails",
      "description": "Rails sessions (redis-actionpack, redis-session-store): rack:session:{id} (Rails 7 ids are 2::{sha256}), Marshal by default, SETEX expire_after, no TTL when unset",
      "key": "rack:session:{id}",
      "type": "string",
      "encoding": "opaque",
      "format": "marshal"
    }
  ]
})json";

}  // namespace

ProfileSet ProfileSet::builtin() {
  ProfileSet set = parse(kBuiltinProfiles, "built-in profiles");
  for (auto& p : set.profiles_) p.origin = "built-in";
  return set;
}

}  // namespace sessionctl
