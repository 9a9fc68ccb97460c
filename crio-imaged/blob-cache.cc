#include "crio-imaged/blob-cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/daemon.h"
#include "common/log.h"
#include "crio-imaged/async-error.h"

namespace crio::imaged {

namespace {

// Bytes read per call when hashing an existing partial file.
constexpr size_t REHASH_CHUNK_BYTES = 1024 * 1024;

// Runs `fn` on a worker thread; the promise resolves on the calling event loop with its result,
// or fails with its crio::Error (category kept).
template <typename T, typename Fn>
kj::Promise<T> onWorker(WorkerPool& pool, Fn fn) {
  auto pair = kj::newPromiseAndCrossThreadFulfiller<T>();
  auto fulfiller =
      std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<T>>>(kj::mv(pair.fulfiller));
  auto work = std::make_shared<Fn>(std::move(fn));
  pool.submit([fulfiller, work]() {
    try {
      (*fulfiller)->fulfill((*work)());
    } catch (const Error& e) {
      (*fulfiller)->reject(ipc::toKjException(e));
    } catch (const std::exception& e) {
      (*fulfiller)->reject(ipc::toKjException(Error(ErrorCategory::INTERNAL, e.what())));
    }
  });
  return kj::mv(pair.promise);
}

// START of "bytes START-END/TOTAL"; TOTAL too when it is not "*".
bool parseContentRange(const std::string& value, uint64_t& start, uint64_t& total, bool& hasTotal) {
  constexpr std::string_view PREFIX = "bytes ";
  if (value.rfind(PREFIX, 0) != 0) return false;
  size_t dash = value.find('-', PREFIX.size());
  size_t slash = value.find('/', PREFIX.size());
  if (dash == std::string::npos || slash == std::string::npos || slash < dash) return false;
  auto number = [](std::string_view text, uint64_t& out) {
    if (text.empty() || text.size() > 19) return false;
    out = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  std::string_view view(value);
  if (!number(view.substr(PREFIX.size(), dash - PREFIX.size()), start)) return false;
  std::string_view totalText = view.substr(slash + 1);
  hasTotal = totalText != "*";
  return !hasTotal || number(totalText, total);
}

void syncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

std::string parentOf(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PartialBlob

PartialBlob::PartialBlob(std::string path, Digest digest, uint64_t size, int fd)
    : path_(std::move(path)), digest_(std::move(digest)), size_(size), fd_(fd) {}

PartialBlob::~PartialBlob() {
  close(fd_);
}

std::unique_ptr<PartialBlob> PartialBlob::open(const std::string& path, const Digest& digest,
                                               uint64_t size) {
  int raw = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (raw < 0) failSyscall("open", path);
  std::unique_ptr<PartialBlob> blob(new PartialBlob(path, digest, size, raw));

  struct stat info {};
  if (fstat(raw, &info) != 0) failSyscall("stat", path);
  uint64_t held = static_cast<uint64_t>(info.st_size);
  if (held > size) held = 0;

  std::vector<char> buffer(REHASH_CHUNK_BYTES);
  uint64_t hashed = 0;
  while (hashed < held) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), held - hashed));
    ssize_t got = pread(raw, buffer.data(), want, static_cast<off_t>(hashed));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    blob->hasher_.update(buffer.data(), static_cast<size_t>(got));
    hashed += static_cast<uint64_t>(got);
  }
  if (ftruncate(raw, static_cast<off_t>(hashed)) != 0) failSyscall("truncate", path);
  if (lseek(raw, static_cast<off_t>(hashed), SEEK_SET) < 0) failSyscall("seek", path);
  blob->offset_ = hashed;
  return blob;
}

std::string PartialBlob::begin(long status, const HttpHeaders& headers) {
  failureCategory_ = ErrorCategory::INVALID_ARGUMENT;
  if (status == 206) {
    std::string range = headers.get("content-range");
    uint64_t start = 0;
    uint64_t total = 0;
    bool hasTotal = false;
    if (!parseContentRange(range, start, total, hasTotal) || start != offset_) {
      return "the registry answered a request for the bytes from " + std::to_string(offset_) +
             " with Content-Range \"" + range.substr(0, 80) + "\"";
    }
    if (hasTotal && total != size_) {
      return "the registry has " + std::to_string(total) + " bytes, the manifest declares " +
             std::to_string(size_);
    }
    return "";
  }

  // A whole blob: whatever the file held is replaced.
  if (offset_ > 0) restart();
  std::string length = headers.get("content-length");
  if (!length.empty() && length.size() < 20 &&
      length.find_first_not_of("0123456789") == std::string::npos && std::stoull(length) != size_) {
    return "the registry sends " + length + " bytes, the manifest declares " +
           std::to_string(size_);
  }
  return "";
}

std::string PartialBlob::write(const char* data, size_t size) {
  if (size > size_ - offset_) {
    failureCategory_ = ErrorCategory::INVALID_ARGUMENT;
    return "the registry sent more than the " + std::to_string(size_) +
           " bytes the manifest declares";
  }
  size_t done = 0;
  while (done < size) {
    ssize_t written = ::write(fd_, data + done, size - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      int error = written < 0 ? errno : EIO;
      failureCategory_ = (error == ENOSPC || error == EDQUOT) ? ErrorCategory::RESOURCE_EXHAUSTED
                                                              : ErrorCategory::INTERNAL;
      return "write " + path_ + ": " + strerror(error);
    }
    done += static_cast<size_t>(written);
  }
  hasher_.update(data, size);
  offset_ += size;
  return "";
}

void PartialBlob::restart() {
  if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) < 0) {
    log::warn("cannot truncate a partial download", {{"path", path_}, {"error", strerror(errno)}});
  }
  hasher_.reset();
  offset_ = 0;
}

kj::AutoCloseFd PartialBlob::commit(const std::string& blobPath, const std::string& subject) {
  std::string what = subject + ": blob " + digest_.text();
  if (offset_ != size_) {
    unlink(path_.c_str());
    fail(ErrorCategory::INVALID_ARGUMENT,
         what + " is truncated: the registry sent " + std::to_string(offset_) + " of the " +
             std::to_string(size_) + " bytes the manifest declares");
  }
  Digest actual = hasher_.digest();
  if (!(actual == digest_)) {
    unlink(path_.c_str());
    fail(ErrorCategory::INVALID_ARGUMENT, what +
                                              " does not match its digest: the registry sent "
                                              "content with digest " +
                                              actual.text());
  }
  // Synced before the rename, so that a blob under blobs/ is complete even after a crash.
  if (fdatasync(fd_) != 0) failSyscall("sync", path_);
  if (rename(path_.c_str(), blobPath.c_str()) != 0) failSyscall("rename", path_);
  syncDirectory(parentOf(blobPath));
  int raw = ::open(blobPath.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) failSyscall("open", blobPath);
  return kj::AutoCloseFd(raw);
}

// ---------------------------------------------------------------------------------------------
// BlobCache

namespace {

class LogTaskErrors : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&& exception) override {
    log::error("blob cache task failed", {{"error", exception.getDescription().cStr()}});
  }
};

LogTaskErrors taskErrors;

}  // namespace

BlobCache::BlobCache(std::string root)
    : root_(std::move(root)),
      workers_(BLOB_CACHE_WORKERS),
      errorHandler_(&taskErrors),
      tasks_(kj::heap<kj::TaskSet>(*errorHandler_)) {}

BlobCache::~BlobCache() noexcept(false) {}

std::string BlobCache::blobPath(const Digest& digest) const {
  return root_ + "/blobs/sha256/" + std::string(digest.hex());
}

std::string BlobCache::partialPath(const Digest& digest) const {
  return root_ + "/partial/" + digest.text() + ".part";
}

void BlobCache::prepare() {
  makeDirectories(root_ + "/blobs/sha256", 0700);
  makeDirectories(root_ + "/partial", 0700);

  std::string partialDir = root_ + "/partial";
  DIR* dir = opendir(partialDir.c_str());
  if (dir == nullptr) failSyscall("open", partialDir);
  auto cutoff = std::chrono::system_clock::now() - PARTIAL_MAX_AGE;
  time_t cutoffSeconds = std::chrono::system_clock::to_time_t(cutoff);
  unsigned removed = 0;
  while (struct dirent* entry = readdir(dir)) {
    struct stat info {};
    if (fstatat(dirfd(dir), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(info.st_mode) || info.st_mtime >= cutoffSeconds) continue;
    if (unlinkat(dirfd(dir), entry->d_name, 0) == 0) ++removed;
  }
  closedir(dir);
  if (removed > 0) {
    log::info("removed stale partial downloads", {{"count", removed}, {"cache", root_}});
  }
}

kj::Maybe<kj::AutoCloseFd> BlobCache::openCached(const Digest& digest, uint64_t size) {
  std::string path = blobPath(digest);
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) return nullptr;
  kj::AutoCloseFd fd(raw);
  struct stat info {};
  if (fstat(raw, &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<uint64_t>(info.st_size) == size) {
    return kj::mv(fd);
  }
  log::warn("removing a cached blob of the wrong size", {{"digest", digest.text()}});
  unlink(path.c_str());
  return nullptr;
}

kj::Promise<void> BlobCache::download(const Digest& digest, uint64_t size, BlobSource& source) {
  std::string partial = partialPath(digest);
  std::string final = blobPath(digest);
  return onWorker<std::unique_ptr<PartialBlob>>(
             workers_,
             [partial, digest, size]() { return PartialBlob::open(partial, digest, size); })
      .then([&source, digest,
             size](std::unique_ptr<PartialBlob> blob) -> kj::Promise<std::unique_ptr<BodySink>> {
        uint64_t held = blob->resumeOffset();
        if (held == size) return std::unique_ptr<BodySink>(std::move(blob));
        if (held > 0) {
          log::info("resuming a partial download",
                    {{"digest", digest.text()}, {"offset", held}, {"size", size}});
        }
        return source.download(std::move(blob));
      })
      .then([this, final, subject = source.subject](std::unique_ptr<BodySink> sink) {
        std::shared_ptr<PartialBlob> blob(dynamic_cast<PartialBlob*>(sink.release()));
        if (blob == nullptr) failAsync(ErrorCategory::INTERNAL, "a blob download lost its file");
        return onWorker<kj::AutoCloseFd>(
            workers_, [blob, final, subject]() { return blob->commit(final, subject); });
      })
      .then([](kj::AutoCloseFd) {});
}

kj::Promise<kj::AutoCloseFd> BlobCache::fetch(const Digest& digest, uint64_t size,
                                              BlobSource source) {
  return fetchOnce(digest, size, kj::mv(source), false);
}

kj::Promise<kj::AutoCloseFd> BlobCache::fetchOnce(const Digest& digest, uint64_t size,
                                                  BlobSource source, bool retried) {
  KJ_IF_MAYBE (fd, openCached(digest, size)) {
    return kj::mv(*fd);
  }
  auto afterDownload = [this, digest, size]() -> kj::Promise<kj::AutoCloseFd> {
    KJ_IF_MAYBE (fd, openCached(digest, size)) {
      return kj::mv(*fd);
    }
    failAsync(ErrorCategory::INTERNAL,
              "blob " + digest.text() + " is missing from " + root_ + " right after its download");
  };

  const std::string& key = digest.text();
  auto it = inFlight_.find(key);
  if (it == inFlight_.end()) {
    uint64_t id = nextId_++;
    const void* owner = source.owner;
    auto own = kj::heap<BlobSource>(kj::mv(source));
    BlobSource& ref = *own;
    auto done = download(digest, size, ref).attach(kj::mv(own)).fork();
    // Forgetting the download is a branch of its own, so that it happens even when every waiter
    // has left, and never inside the forked promise itself.
    auto forget = [this, key, id]() {
      auto found = inFlight_.find(key);
      if (found != inFlight_.end() && found->second.id == id) inFlight_.erase(found);
    };
    // KJ keeps a reference to an lvalue functor, so each handler gets its own copy.
    tasks_->add(
        done.addBranch().then([forget]() { forget(); }, [forget](kj::Exception&&) { forget(); }));
    it = inFlight_.emplace(key, Download{kj::mv(done), owner, id}).first;
    return it->second.done.addBranch().then(kj::mv(afterDownload));
  }

  log::debug("waiting for a download already in flight", {{"digest", key}});
  const void* starter = it->second.owner;
  auto own = kj::heap<BlobSource>(kj::mv(source));
  return it->second.done.addBranch().then(
      kj::mv(afterDownload),
      [this, digest, size, starter, retried,
       own = kj::mv(own)](kj::Exception&& exception) mutable -> kj::Promise<kj::AutoCloseFd> {
        if (retried || starter == own->owner) return kj::mv(exception);
        log::info("a shared blob download failed; trying this pull's own source",
                  {{"digest", digest.text()},
                   {"source", own->subject},
                   {"error", exception.getDescription().cStr()}});
        return fetchOnce(digest, size, kj::mv(*own), true);
      });
}

}  // namespace crio::imaged
