// A small blocking queue between pipeline stages: producers wait when it is full, so memory stays at
// a few batches whatever the keyspace; close() ends the stream, cancel() stops both sides.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace sessionctl {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // Blocks while full; false when the queue was cancelled (the item is dropped).
  bool push(T item) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return items_.size() < capacity_ || cancelled_; });
    if (cancelled_) return false;
    items_.push_back(std::move(item));
    cv_.notify_all();
    return true;
  }

  // Blocks while empty; nullopt once closed and drained, or cancelled.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty() || closed_ || cancelled_; });
    if (cancelled_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    cv_.notify_all();
    return item;
  }

  // No more items will come; pop() drains what is left.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  // Both sides stop now.
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false, cancelled_ = false;
};

}  // namespace sessionctl
