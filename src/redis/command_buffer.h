// Commands serialised straight to RESP as they are added: no per-argument allocations, so a batch of
// tens of thousands of commands costs one growing buffer.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "redis/reply.h"

namespace sessionctl::redis {

class CommandBuffer {
 public:
  // Appends one command.
  void add(std::initializer_list<std::string_view> argv);
  void add(const Command& argv);
  // Number of commands, i.e. of replies to expect.
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const std::string& resp() const { return resp_; }
  // The first command's name, for messages.
  std::string first_name() const;
  // Where command `index` starts in resp(); its bytes run to the next command's offset (or the end).
  std::size_t offset(std::size_t index) const { return starts_[index]; }
  // The RESP bytes of command `index`.
  std::string_view command_bytes(std::size_t index) const;
  // Appends command `index` of `other` as it is (the cluster router splits a batch by node this way).
  void append_from(const CommandBuffer& other, std::size_t index);

 private:
  void header(std::size_t argc);
  void arg(std::string_view a);

  std::string resp_;
  std::vector<std::size_t> starts_;
  std::size_t count_ = 0;
};

}  // namespace sessionctl::redis
