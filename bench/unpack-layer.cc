// Unpacks one layer blob the way crio-stored does, and prints the time it took.
//
//   unpack-layer unpack BLOB DIFF_ID DEST   decompress, hash and unpack into the empty DEST
//   unpack-layer import BLOB DIFF_ID ROOT   the whole import into a store at ROOT: staging,
//                                           syncfs, rename, SQLite commit
//
// Prints "seconds=S entries=N bytes=B" on success. bench/unpack-layer.sh compares it with tar.
#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "crio-stored/image-store.h"
#include "crio-stored/layer-store.h"
#include "crio-stored/layer-stream.h"
#include "crio-stored/layer-unpacker.h"
#include "crio-stored/tar-reader.h"
#include "crio-stored/unique-fd.h"

using namespace crio::stored;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s unpack|import BLOB DIFF_ID DIR\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1], diffId = argv[3], dir = argv[4];
  UniqueFd blob(open(argv[2], O_RDONLY | O_CLOEXEC));
  if (!blob) {
    std::perror(argv[2]);
    return 1;
  }
  try {
    auto start = std::chrono::steady_clock::now();
    uint64_t entries = 0, bytes = 0;
    if (mode == "unpack") {
      UniqueFd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!root) crio::failSyscall("open", dir);
      LayerStream stream(blob.get(), "");
      TarReader reader(stream);
      UnpackStats stats = unpackLayer(reader, root.get(), {});
      std::string digest = stream.finish();
      if (digest != diffId) crio::fail(crio::ErrorCategory::INVALID_ARGUMENT, "digest " + digest);
      entries = stats.entries;
      bytes = stats.bytes;
    } else {
      ImageStore images(dir + "/" + DATABASE_FILE);
      LayerStore layers(dir, images);
      LayerRecord layer = layers.importLayer({blob.get(), "", diffId, ""});
      bytes = layer.size;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("seconds=%.3f entries=%llu bytes=%llu\n", seconds,
                static_cast<unsigned long long>(entries), static_cast<unsigned long long>(bytes));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unpack-layer: %s\n", e.what());
    return 1;
  }
}
