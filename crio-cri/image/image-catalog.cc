#include "crio-cri/image/image-catalog.h"

#include "crio-cri/peer-call.h"
#include "ipc/imaged.capnp.h"
#include "ipc/stored.capnp.h"

namespace crio::cri {

namespace {

using ipc::schema::Imaged;
using ipc::schema::Stored;

std::optional<ImageRecord> findExact(Daemon& daemon, const std::string& reference) {
  return callPeer(daemon, "crio-stored", [&]() {
    auto request = daemon.stored().client<Stored>().findImageRequest();
    request.setReference(storeReference(reference));
    return request.send().then([](auto&& response) -> std::optional<ImageRecord> {
      if (!response.getFound()) return std::nullopt;
      return readImageRecord(response.getImage());
    });
  });
}

std::vector<std::string> candidates(Daemon& daemon, const std::string& reference) {
  return callPeer(daemon, "crio-imaged", [&]() {
    auto request = daemon.imaged().client<Imaged>().candidatesRequest();
    request.setReference(reference);
    return request.send().then([](auto&& response) {
      std::vector<std::string> names;
      for (auto name : response.getNames())
        names.emplace_back(name);
      return names;
    });
  });
}

}  // namespace

std::optional<ImageRecord> findImage(Daemon& daemon, const std::string& reference) {
  if (reference.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "image reference is empty");
  if (auto image = findExact(daemon, reference)) return image;

  // A short or unnormalized name ("busybox", "busybox:1.36") is expanded the way a pull would
  // expand it. An invalid reference is simply not found here.
  std::vector<std::string> names;
  try {
    names = candidates(daemon, reference);
  } catch (const Error& e) {
    if (e.category() == ErrorCategory::INVALID_ARGUMENT) return std::nullopt;
    throw;
  }
  for (const auto& name : names) {
    if (name == reference) continue;
    if (auto image = findExact(daemon, name)) return image;
  }
  return std::nullopt;
}

std::vector<ImageRecord> listImages(Daemon& daemon) {
  return callPeer(daemon, "crio-stored", [&]() {
    return daemon.stored().client<Stored>().listImagesRequest().send().then([](auto&& response) {
      std::vector<ImageRecord> images;
      for (auto image : response.getImages())
        images.push_back(readImageRecord(image));
      return images;
    });
  });
}

bool removeImage(Daemon& daemon, const std::string& reference) {
  std::optional<ImageRecord> image = findImage(daemon, reference);
  if (!image) return false;
  return callPeer(daemon, "crio-stored", [&]() {
    auto request = daemon.stored().client<Stored>().removeImageRequest();
    request.setReference(image->id);
    return request.send().then([](auto&& response) { return response.getRemoved(); });
  });
}

FsUsage imageFsUsage(Daemon& daemon) {
  return callPeer(daemon, "crio-stored", [&]() {
    return daemon.stored().client<Stored>().imageFsUsageRequest().send().then([](auto&& response) {
      auto usage = response.getUsage();
      return FsUsage{usage.getMountpoint(), usage.getUsedBytes(), usage.getInodesUsed(),
                     usage.getTimestamp()};
    });
  });
}

}  // namespace crio::cri
