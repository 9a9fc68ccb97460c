#include "crio-stored/tar-reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

#include "common/error.h"
#include "common/log.h"
#include "crio-stored/layer-stream.h"

namespace crio::stored {

namespace {

// Uncompressed bytes handed to libarchive per read.
constexpr size_t READ_BLOCK = 256 * 1024;

}  // namespace

TarReader::TarReader(LayerStream& stream)
    : stream_(stream), archive_(archive_read_new()), buffer_(READ_BLOCK) {
  if (archive_ == nullptr) fail(ErrorCategory::INTERNAL, "archive_read_new failed");
  archive_read_support_format_tar(archive_);
  archive_read_support_format_empty(archive_);
  int rc = archive_read_open(archive_, this, nullptr, &TarReader::readCallback, nullptr);
  if (rc != ARCHIVE_OK) failArchive("cannot read the layer as a tar archive");
}

TarReader::~TarReader() {
  archive_read_free(archive_);
}

ssize_t TarReader::readCallback(struct archive* a, void* self, const void** buffer) {
  auto* reader = static_cast<TarReader*>(self);
  try {
    size_t n = reader->stream_.read(reader->buffer_.data(), reader->buffer_.size());
    *buffer = reader->buffer_.data();
    return static_cast<ssize_t>(n);
  } catch (const Error& e) {
    reader->streamError_ = e.what();
    reader->streamErrorCategory_ = static_cast<int>(e.category());
  } catch (const std::exception& e) {
    reader->streamError_ = e.what();
    reader->streamErrorCategory_ = static_cast<int>(ErrorCategory::INTERNAL);
  }
  archive_set_error(a, EIO, "%s", reader->streamError_.c_str());
  return -1;
}

void TarReader::failArchive(const std::string& what) {
  if (streamErrorCategory_ >= 0) {
    throw Error(static_cast<ErrorCategory>(streamErrorCategory_), streamError_);
  }
  const char* detail = archive_error_string(archive_);
  fail(ErrorCategory::INVALID_ARGUMENT,
       what + ": " + (detail != nullptr ? detail : "damaged tar archive"));
}

bool TarReader::next(TarEntry& entry) {
  struct archive_entry* e = nullptr;
  int rc = archive_read_next_header(archive_, &e);
  if (rc == ARCHIVE_EOF) return false;
  if (rc == ARCHIVE_WARN) {
    // Such as a name that is not valid in the locale's charset: the name is kept as bytes.
    if (!warned_) {
      const char* detail = archive_error_string(archive_);
      log::warn("tar header warning (logged once per layer)",
                {{"detail", detail != nullptr ? detail : ""}});
      warned_ = true;
    }
  } else if (rc != ARCHIVE_OK) {
    failArchive("damaged tar archive");
  }

  const char* path = archive_entry_pathname(e);
  entry.path = path != nullptr ? path : "";
  entry.linkTarget.clear();
  entry.mode = archive_entry_perm(e) & 07777;
  entry.uid = static_cast<uid_t>(archive_entry_uid(e));
  entry.gid = static_cast<gid_t>(archive_entry_gid(e));
  entry.size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
  entry.devMajor = archive_entry_rdevmajor(e);
  entry.devMinor = archive_entry_rdevminor(e);
  entry.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  entry.atime = archive_entry_atime_is_set(e)
                    ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
                    : entry.mtime;

  const char* hardlink = archive_entry_hardlink(e);
  if (hardlink != nullptr) {
    entry.type = EntryType::HARDLINK;
    entry.linkTarget = hardlink;
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        entry.type = EntryType::FILE;
        break;
      case AE_IFDIR:
        entry.type = EntryType::DIRECTORY;
        break;
      case AE_IFLNK: {
        entry.type = EntryType::SYMLINK;
        const char* target = archive_entry_symlink(e);
        entry.linkTarget = target != nullptr ? target : "";
        break;
      }
      case AE_IFCHR:
        entry.type = EntryType::CHAR_DEVICE;
        break;
      case AE_IFBLK:
        entry.type = EntryType::BLOCK_DEVICE;
        break;
      case AE_IFIFO:
        entry.type = EntryType::FIFO;
        break;
      default:
        fail(ErrorCategory::INVALID_ARGUMENT,
             "entry \"" + entry.path + "\": unsupported file type in tar header");
    }
  }

  entry.xattrs.clear();
  if (archive_entry_xattr_reset(e) > 0) {
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      // pax archives may carry an xattr twice (LIBARCHIVE.xattr and SCHILY.xattr): last wins.
      std::string text(static_cast<const char*>(value), size);
      auto same = std::find_if(entry.xattrs.begin(), entry.xattrs.end(),
                               [&](const auto& x) { return x.first == name; });
      if (same != entry.xattrs.end()) {
        same->second = std::move(text);
      } else {
        entry.xattrs.emplace_back(name, std::move(text));
      }
    }
  }
  return true;
}

void TarReader::readData(const DataSink& sink) {
  while (true) {
    const void* block;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(archive_, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) failArchive("cannot read file content");
    if (size > 0) sink(static_cast<uint64_t>(offset), block, size);
  }
}

}  // namespace crio::stored
