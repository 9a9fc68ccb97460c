#include "crio-stored/test-tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <stdexcept>

#include "common/sha256.h"

namespace crio::stored::testing {

TarBuilder& TarBuilder::add(Spec spec) {
  specs_.push_back(std::move(spec));
  return *this;
}

TarBuilder& TarBuilder::file(std::string path, std::string content, uint32_t mode) {
  return add({.path = std::move(path), .content = std::move(content), .mode = mode});
}

TarBuilder& TarBuilder::dir(std::string path, uint32_t mode) {
  return add({.path = std::move(path), .type = EntryType::DIRECTORY, .mode = mode});
}

TarBuilder& TarBuilder::symlink(std::string path, std::string target) {
  return add({.path = std::move(path),
              .type = EntryType::SYMLINK,
              .linkTarget = std::move(target),
              .mode = 0777});
}

TarBuilder& TarBuilder::hardlink(std::string path, std::string target) {
  return add(
      {.path = std::move(path), .type = EntryType::HARDLINK, .linkTarget = std::move(target)});
}

namespace {

la_ssize_t appendCallback(struct archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

unsigned fileType(EntryType type) {
  switch (type) {
    case EntryType::DIRECTORY:
      return AE_IFDIR;
    case EntryType::SYMLINK:
      return AE_IFLNK;
    case EntryType::CHAR_DEVICE:
      return AE_IFCHR;
    case EntryType::BLOCK_DEVICE:
      return AE_IFBLK;
    case EntryType::FIFO:
      return AE_IFIFO;
    default:
      return AE_IFREG;
  }
}

}  // namespace

std::string TarBuilder::bytes() const {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  // Names go into the archive as the bytes given (a pax "hdrcharset=BINARY" record where they
  // are not ASCII), whatever the test's locale.
  archive_write_set_options(a, "hdrcharset=BINARY");
  archive_write_open(a, &out, nullptr, appendCallback, nullptr);
  for (const Spec& spec : specs_) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, spec.path.c_str());
    archive_entry_set_filetype(e, fileType(spec.type));
    archive_entry_set_perm(e, spec.mode);
    archive_entry_set_uid(e, spec.uid);
    archive_entry_set_gid(e, spec.gid);
    archive_entry_set_mtime(e, spec.mtime, 0);
    if (spec.type == EntryType::SYMLINK) archive_entry_set_symlink(e, spec.linkTarget.c_str());
    if (spec.type == EntryType::HARDLINK) archive_entry_set_hardlink(e, spec.linkTarget.c_str());
    if (spec.type == EntryType::CHAR_DEVICE || spec.type == EntryType::BLOCK_DEVICE) {
      archive_entry_set_rdevmajor(e, spec.devMajor);
      archive_entry_set_rdevminor(e, spec.devMinor);
    }
    archive_entry_set_size(
        e, spec.type == EntryType::FILE ? static_cast<la_int64_t>(spec.content.size()) : 0);
    for (const auto& [name, value] : spec.xattrs) {
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) {
      throw std::runtime_error(std::string("archive_write_header: ") + archive_error_string(a));
    }
    if (spec.type == EntryType::FILE && !spec.content.empty()) {
      archive_write_data(a, spec.content.data(), spec.content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  out.resize(n);
  return out;
}

std::string digestOf(std::string_view data) {
  return "sha256:" + sha256Hex(data);
}

int blobFd(std::string_view data) {
  int fd = memfd_create("blob", MFD_CLOEXEC);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) throw std::runtime_error("write memfd");
    done += static_cast<size_t>(n);
  }
  return fd;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/crio-stored-test-XXXXXX";
  path_ = mkdtemp(pattern);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace crio::stored::testing
