// imaged-pull: pulls one image through a running crio-imaged the way crio-cri does (resolve, then
// fetchBlob for the config and every layer at once) and prints how long each step took.
//
//   imaged-pull --socket /run/crio/imaged/imaged.sock --reference REGISTRY/REPO:TAG [--verify]
//
// With --verify, every received descriptor is read back and its SHA-256 compared with the
// digest asked for (after the timed part). Output: one line of key=value pairs.
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>

#include "crio-imaged/digest.h"
#include "ipc/imaged.capnp.h"
#include "ipc/unix-socket.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace schema = crio::ipc::schema;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

crio::imaged::Digest hashFd(int fd) {
  crio::imaged::Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  off_t offset = 0;
  ssize_t n;
  while ((n = pread(fd, buffer.data(), buffer.size(), offset)) > 0) {
    hasher.update(buffer.data(), static_cast<size_t>(n));
    offset += n;
  }
  return hasher.digest();
}

int run(int argc, char** argv) {
  CLI::App app{"imaged-pull: pull one image through crio-imaged and time it"};
  std::string socketPath, reference, username, password;
  bool verify = false;
  app.add_option("--socket", socketPath, "crio-imaged's socket")->required();
  app.add_option("--reference", reference, "Image to pull")->required();
  app.add_option("--username", username, "Registry user name");
  app.add_option("--password", password, "Registry password");
  app.add_flag("--verify", verify, "Hash every received blob and compare with its digest");
  CLI11_PARSE(app, argc, argv);

  auto io = kj::setupAsyncIo();
  std::vector<uid_t> allowed = {0};
  if (struct passwd* nobody = getpwnam("nobody")) allowed.push_back(nobody->pw_uid);
  int fd = crio::ipc::connectUnixSocket(socketPath, allowed);
  auto stream =
      io.lowLevelProvider->wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  capnp::TwoPartyClient client(*stream, 4);
  auto imaged = client.bootstrap().castAs<schema::Imaged>();

  auto start = Clock::now();
  auto request = imaged.resolveRequest();
  request.setReference(reference);
  request.initCredentials().setUsername(username);
  request.getCredentials().setPassword(password);
  auto pull = request.send().getPull();
  auto image = pull.imageRequest().send().wait(io.waitScope);
  double resolveSeconds = secondsSince(start);

  auto resolved = image.getImage();
  std::vector<std::string> digests = {resolved.getConfigDigest()};
  for (auto layer : resolved.getLayers())
    digests.push_back(layer.getDigest());

  kj::Vector<kj::Promise<void>> fetches;
  std::vector<int> received(digests.size(), -1);
  for (size_t i = 0; i < digests.size(); ++i) {
    auto fetch = pull.fetchBlobRequest();
    fetch.setDigest(digests[i]);
    fetches.add(fetch.send().then([&received, i](auto response) {
      // The descriptor belongs to the response message: duplicate it before that is dropped.
      auto file = response.getFile();
      return file.getFd()
          .then([&received, i](kj::Maybe<int> fd) {
            KJ_IF_MAYBE (value, fd) {
              received[i] = dup(*value);
            }
          })
          .attach(kj::mv(response), kj::mv(file));
    }));
  }
  kj::joinPromises(fetches.releaseAsArray()).wait(io.waitScope);
  double totalSeconds = secondsSince(start);

  uint64_t bytes = 0;
  bool ok = true;
  for (size_t i = 0; i < digests.size(); ++i) {
    struct stat info {};
    if (received[i] < 0 || fstat(received[i], &info) != 0) {
      ok = false;
      continue;
    }
    bytes += static_cast<uint64_t>(info.st_size);
    if (verify && hashFd(received[i]).text() != digests[i]) {
      std::cerr << "digest mismatch for " << digests[i] << "\n";
      ok = false;
    }
    close(received[i]);
  }
  std::string verified = "no";
  if (verify) verified = ok ? "yes" : "FAILED";
  std::cout << "reference=" << reference << " blobs=" << digests.size() << " bytes=" << bytes
            << " resolve_s=" << resolveSeconds << " total_s=" << totalSeconds
            << " verified=" << verified << "\n";
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const kj::Exception& e) {
    std::cerr << "imaged-pull: " << e.getDescription().cStr() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "imaged-pull: " << e.what() << "\n";
  }
  return 1;
}
