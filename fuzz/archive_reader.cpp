// The archive reader on arbitrary bytes (plain, gzip or zstd, as the first bytes say): a bad archive
// is a FormatError or UsageError naming the line, never a crash, a hang or unbounded memory.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "archive/io.h"
#include "util/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("archive", 0);
  if (fd < 0) return 0;
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (bool partial : {false, true}) {
    try {
      sessionctl::archive::ArchiveReader reader(path, partial);
      sessionctl::archive::Record r;
      while (reader.next(r)) (void)r.item_count();
    } catch (const sessionctl::UsageError&) {
    }
    try {
      sessionctl::archive::ArchiveReader check(path, partial);
      check.check_all();
    } catch (const sessionctl::UsageError&) {
    }
  }
  ::close(fd);
  return 0;
}
