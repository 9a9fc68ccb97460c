// crio-imaged's download cache of verified blobs.
//
// Layout under CACHE ([crio.suite] cache_dir):
//   CACHE/partial/sha256:HEX.part   a download in progress or interrupted; the next download of
//                                   the same digest resumes from its length
//   CACHE/blobs/sha256/HEX          a complete blob whose size and SHA-256 matched its descriptor
// A blob is hashed while its bytes arrive. At the end it is synced and renamed into blobs/, so a
// file there is always complete and verified. Such a file is handed out without network access.
//
// One download per digest is in flight at a time: every fetch of a digest that is already being
// downloaded waits for that download, whichever pull asked for it. A download keeps going when
// all its waiters leave, so that a retried pull finds the blob. When a shared download fails, a
// waiter that came from another pull tries once more with its own registry and credentials.
//
// Nothing removes verified blobs: crio-stored keeps its own copy of each layer, so the cache only
// saves downloads. Partial files untouched for PARTIAL_MAX_AGE are removed at start.
// TODO(someday): trim verified blobs by age or total size.
//
// Threads: fetch() runs on the event loop; file work that can take long (hashing an existing
// partial file, syncing and renaming a finished one) runs on a worker pool; the bytes are
// written by HttpClient's transfer thread through PartialBlob.
#pragma once

#include <kj/async.h>
#include <kj/function.h>
#include <kj/io.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/worker-pool.h"
#include "crio-imaged/digest.h"
#include "crio-imaged/http-client.h"

namespace crio::imaged {

constexpr std::chrono::hours PARTIAL_MAX_AGE{24};
// Threads for the cache's file work.
constexpr unsigned BLOB_CACHE_WORKERS = 2;

// The origin of a blob: a download into the sink it is given, resolving to that sink once the
// registry sent a complete response. `owner` identifies the pull (for the retry rule above) and
// `subject` ("registry/repository") names it in messages.
struct BlobSource {
  std::string subject;
  const void* owner = nullptr;
  kj::Function<kj::Promise<std::unique_ptr<BodySink>>(std::unique_ptr<BodySink>)> download;
};

class BlobCache {
 public:
  explicit BlobCache(std::string root);
  ~BlobCache() noexcept(false);

  // Creates the cache folders and removes stale partial files. Call once at start.
  void prepare();

  // A read-only descriptor of the verified blob, downloaded from `source` unless cached.
  // Throws INVALID_ARGUMENT when the registry's bytes do not match the digest or size.
  kj::Promise<kj::AutoCloseFd> fetch(const Digest& digest, uint64_t size, BlobSource source);

  // The descriptor of a cached blob of that size, or nothing. A cached file of another size is
  // removed.
  kj::Maybe<kj::AutoCloseFd> openCached(const Digest& digest, uint64_t size);

  std::string blobPath(const Digest& digest) const;
  std::string partialPath(const Digest& digest) const;

 private:
  struct Download {
    kj::ForkedPromise<void> done;
    const void* owner;
    uint64_t id;
  };

  kj::Promise<void> download(const Digest& digest, uint64_t size, BlobSource& source);
  kj::Promise<kj::AutoCloseFd> fetchOnce(const Digest& digest, uint64_t size, BlobSource source,
                                         bool retried);

  std::string root_;
  WorkerPool workers_;
  std::map<std::string, Download> inFlight_;
  uint64_t nextId_ = 0;
  kj::TaskSet::ErrorHandler* errorHandler_;
  kj::Own<kj::TaskSet> tasks_;
};

// A partial file on disk as the sink of a blob download: appends what arrives, hashes it, and
// limits the download to the size its descriptor declares.
class PartialBlob : public BodySink {
 public:
  // Opens (or creates) the partial file and hashes the bytes it already holds. Blocking: call on
  // a worker thread.
  static std::unique_ptr<PartialBlob> open(const std::string& path, const Digest& digest,
                                           uint64_t size);
  ~PartialBlob() override;

  uint64_t resumeOffset() override { return offset_; }
  std::string begin(long status, const HttpHeaders& headers) override;
  std::string write(const char* data, size_t size) override;
  ErrorCategory failureCategory() const override { return failureCategory_; }
  void restart() override;

  // Checks size and digest, syncs, and renames the file to `blobPath`; returns a read-only
  // descriptor of it. Removes the partial file when the content is wrong. Blocking.
  kj::AutoCloseFd commit(const std::string& blobPath, const std::string& subject);

 private:
  PartialBlob(std::string path, Digest digest, uint64_t size, int fd);

  std::string path_;
  Digest digest_;
  uint64_t size_;
  int fd_;  // owned; a plain int because kj::AutoCloseFd's destructor may throw
  uint64_t offset_ = 0;
  Sha256 hasher_;
  ErrorCategory failureCategory_ = ErrorCategory::INVALID_ARGUMENT;
};

}  // namespace crio::imaged
