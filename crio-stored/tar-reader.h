// Reading the entries of a tar stream (ustar, pax and GNU forms) with libarchive's parser.
//
// Only libarchive's reading side is used, and only its tar format: no filter (the LayerStream
// decompresses and hashes), no extraction to disk (the LayerUnpacker writes every file itself,
// beneath its own directory descriptor). Entries come out in archive order as plain values.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct archive;

namespace crio::stored {

class LayerStream;

enum class EntryType { FILE, DIRECTORY, SYMLINK, HARDLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO };

struct TarEntry {
  std::string path;  // as written in the archive, not yet checked
  EntryType type = EntryType::FILE;
  std::string linkTarget;  // SYMLINK: the target text; HARDLINK: the path of the other entry
  uint32_t mode = 0;       // permission bits with setuid, setgid and sticky (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  uint64_t size = 0;  // FILE: bytes of content (holes included)
  uint32_t devMajor = 0;
  uint32_t devMinor = 0;
  timespec mtime{};
  timespec atime{};                                         // mtime when the archive has none
  std::vector<std::pair<std::string, std::string>> xattrs;  // name, value
};

class TarReader {
 public:
  explicit TarReader(LayerStream& stream);
  ~TarReader();

  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry; false at the end of the archive. Throws INVALID_ARGUMENT for a damaged or
  // truncated archive.
  bool next(TarEntry& entry);

  // Hands the current entry's content to `sink` block by block: (offset in the file, bytes,
  // size). Offsets skip over holes of sparse files.
  using DataSink = std::function<void(uint64_t offset, const void* data, size_t size)>;
  void readData(const DataSink& sink);

 private:
  static ssize_t readCallback(struct archive* a, void* self, const void** buffer);
  [[noreturn]] void failArchive(const std::string& what);

  LayerStream& stream_;
  struct archive* archive_;
  std::vector<unsigned char> buffer_;
  std::string streamError_;  // an exception from the stream, carried through libarchive
  int streamErrorCategory_ = -1;
  bool warned_ = false;
};

}  // namespace crio::stored
