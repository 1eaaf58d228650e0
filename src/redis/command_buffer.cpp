#include "redis/command_buffer.h"

#include <charconv>

namespace sessionctl::redis {

void CommandBuffer::header(std::size_t argc) {
  starts_.push_back(resp_.size());
  char num[24];
  auto end = std::to_chars(num, num + sizeof num, argc).ptr;
  resp_ += '*';
  resp_.append(num, end);
  resp_ += "\r\n";
  ++count_;
}

void CommandBuffer::arg(std::string_view a) {
  char num[24];
  auto end = std::to_chars(num, num + sizeof num, a.size()).ptr;
  resp_ += '$';
  resp_.append(num, end);
  resp_ += "\r\n";
  resp_.append(a);
  resp_ += "\r\n";
}

void CommandBuffer::add(std::initializer_list<std::string_view> argv) {
  header(argv.size());
  for (auto a : argv) arg(a);
}

void CommandBuffer::add(const Command& argv) {
  header(argv.size());
  for (const auto& a : argv) arg(a);
}

std::string_view CommandBuffer::command_bytes(std::size_t index) const {
  const std::size_t end = index + 1 < starts_.size() ? starts_[index + 1] : resp_.size();
  return std::string_view(resp_).substr(starts_[index], end - starts_[index]);
}

void CommandBuffer::append_from(const CommandBuffer& other, std::size_t index) {
  starts_.push_back(resp_.size());
  resp_.append(other.command_bytes(index));
  ++count_;
}

std::string CommandBuffer::first_name() const {
  // "*N\r\n$L\r\nNAME\r\n"
  auto p = resp_.find("\r\n$");
  if (p == std::string::npos) return "command";
  auto start = resp_.find("\r\n", p + 3);
  if (start == std::string::npos) return "command";
  auto end = resp_.find("\r\n", start + 2);
  return resp_.substr(start + 2, end - start - 2);
}

}  // namespace sessionctl::redis
