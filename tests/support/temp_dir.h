#pragma once

#include <string>

namespace testsupport {

// A fresh directory under $TMPDIR (or /tmp when $TMPDIR is unset or too long for unix socket
// paths), removed recursively with everything in it when the TempDir is destroyed.
class TempDir {
 public:
  // Creates <tmp>/<prefix>XXXXXX; throws std::system_error on failure.
  explicit TempDir(const std::string& prefix = "sessionctl-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  // Absolute path of the directory (empty after being moved from).
  const std::string& path() const noexcept { return path_; }
  // path() + "/" + relative; does not create anything.
  std::string file(const std::string& relative) const;
  // Writes `content` to file(relative) (creating parent directories, truncating) and returns its path.
  std::string write(const std::string& relative, const std::string& content) const;

 private:
  void remove() noexcept;
  std::string path_;
};

// Writes `content` to `path` (creating parent directories, truncating); throws std::runtime_error on failure.
void write_file(const std::string& path, const std::string& content);

// The whole content of the file at `path`; throws std::runtime_error if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace testsupport
