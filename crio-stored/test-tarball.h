// Test helper: layer tarballs built in memory with libarchive's writer (pax format), compressed
// with zlib or zstd, and handed over as a file descriptor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crio-stored/tar-reader.h"

namespace crio::stored::testing {

struct Spec {
  std::string path;
  EntryType type = EntryType::FILE;
  std::string content;     // FILE
  std::string linkTarget;  // SYMLINK, HARDLINK
  uint32_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  uint32_t devMajor = 0;
  uint32_t devMinor = 0;
  int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TarBuilder {
 public:
  TarBuilder& add(Spec spec);
  TarBuilder& file(std::string path, std::string content, uint32_t mode = 0644);
  TarBuilder& dir(std::string path, uint32_t mode = 0755);
  TarBuilder& symlink(std::string path, std::string target);
  TarBuilder& hardlink(std::string path, std::string target);

  // The whole tar stream, end-of-archive blocks and padding included.
  std::string bytes() const;

 private:
  std::vector<Spec> specs_;
};

std::string gzip(std::string_view data);
std::string zstd(std::string_view data);
// "sha256:" + hex.
std::string digestOf(std::string_view data);

// A memfd holding `data`, offset 0; the caller closes it.
int blobFd(std::string_view data);

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace crio::stored::testing
