// A directory of the tool's own for the length of one job (a spawned redis-server's data and log).
#pragma once

#include <string>

namespace sessionctl {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when the TempDir is destroyed.
class TempDir {
 public:
  // Creates <tmp>/<prefix>XXXXXX (mode 0700); throws Error naming the path and the reason on failure.
  explicit TempDir(const std::string& prefix = "sessionctl-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  // Absolute path of the directory.
  const std::string& path() const noexcept { return path_; }
  // path() + "/" + name; creates nothing.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace sessionctl
