#include "crio-stored/image-store.h"

#include <chrono>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "crio-stored/digest.h"

namespace crio::stored {

namespace {

// Version 2 added the containers table.
constexpr int SCHEMA_VERSION = 2;

constexpr const char* SCHEMA = R"sql(
CREATE TABLE IF NOT EXISTS layers (
  chain_id TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  parent TEXT REFERENCES layers(chain_id),
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS layers_parent ON layers(parent);
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY,
  top_chain_id TEXT NOT NULL,
  config BLOB NOT NULL,
  manifest BLOB NOT NULL,
  manifest_media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  chain_id TEXT NOT NULL REFERENCES layers(chain_id),
  PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS image_names (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_names_image ON image_names(image_id);
CREATE TABLE IF NOT EXISTS image_digests (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (image_id, digest)
);
CREATE INDEX IF NOT EXISTS image_digests_digest ON image_digests(digest);
CREATE TABLE IF NOT EXISTS holders (
  chain_id TEXT NOT NULL REFERENCES layers(chain_id),
  holder TEXT NOT NULL,
  PRIMARY KEY (chain_id, holder)
);
CREATE TABLE IF NOT EXISTS containers (
  id TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
)sql";

bool isHexPrefix(const std::string& text) {
  if (text.size() < 3 || text.size() > 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void requireBounded(const std::string& text, size_t bound, const std::string& what) {
  if (text.size() > bound) {
    fail(ErrorCategory::INVALID_ARGUMENT, what + " is longer than " + std::to_string(bound));
  }
}

}  // namespace

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ImageStore::ImageStore(const std::string& databasePath) : db_(databasePath) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  db_.exec("PRAGMA foreign_keys=ON");
  db_.exec("PRAGMA busy_timeout=5000");
  createSchema();
}

void ImageStore::createSchema() {
  auto version = db_.prepare("PRAGMA user_version");
  version.step();
  int64_t current = version.integer(0);
  if (current > SCHEMA_VERSION) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "the store's database has schema version " + std::to_string(current) +
             ", newer than this crio-stored knows (" + std::to_string(SCHEMA_VERSION) + ")");
  }
  sqlite::Transaction tx(db_);
  db_.exec(SCHEMA);
  db_.exec("PRAGMA user_version=" + std::to_string(SCHEMA_VERSION));
  tx.commit();
}

// ---------------------------------------------------------------------------------------------
// Layers

std::optional<LayerRecord> ImageStore::readLayer(const std::string& chainId) {
  auto stmt = db_.prepare(
      "SELECT chain_id, diff_id, IFNULL(parent, ''), size, created_at FROM layers "
      "WHERE chain_id = ?");
  stmt.bind(1, chainId);
  if (!stmt.step()) return std::nullopt;
  return LayerRecord{stmt.text(0), stmt.text(1), stmt.text(2),
                     static_cast<uint64_t>(stmt.integer(3)), stmt.integer(4)};
}

std::optional<LayerRecord> ImageStore::findLayer(const std::string& chainId) {
  std::lock_guard<std::mutex> lock(mutex_);
  return readLayer(chainId);
}

std::vector<LayerRecord> ImageStore::listLayers() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT chain_id, diff_id, IFNULL(parent, ''), size, created_at FROM layers "
      "ORDER BY created_at");
  std::vector<LayerRecord> layers;
  while (stmt.step()) {
    layers.push_back({stmt.text(0), stmt.text(1), stmt.text(2),
                      static_cast<uint64_t>(stmt.integer(3)), stmt.integer(4)});
  }
  return layers;
}

void ImageStore::addLayer(const LayerRecord& layer) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);
  if (readLayer(layer.chainId)) {
    fail(ErrorCategory::ALREADY_EXISTS, "layer " + layer.chainId + " is already in the store");
  }
  if (!layer.parentChainId.empty() && !readLayer(layer.parentChainId)) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "parent layer " + layer.parentChainId + " is not in the store");
  }
  auto stmt = db_.prepare(
      "INSERT INTO layers (chain_id, diff_id, parent, size, created_at) "
      "VALUES (?, ?, NULLIF(?, ''), ?, ?)");
  stmt.bind(1, layer.chainId)
      .bind(2, layer.diffId)
      .bind(3, layer.parentChainId)
      .bind(4, static_cast<int64_t>(layer.size))
      .bind(5, layer.createdAt);
  stmt.run();
  tx.commit();
}

std::vector<std::string> ImageStore::forgetLayers(const std::vector<std::string>& chainIds) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);

  // Every layer above a lost one is lost too.
  std::vector<std::string> lost(chainIds.begin(), chainIds.end());
  std::set<std::string> seen(lost.begin(), lost.end());
  for (size_t i = 0; i < lost.size(); ++i) {
    auto children = db_.prepare("SELECT chain_id FROM layers WHERE parent = ?");
    children.bind(1, lost[i]);
    while (children.step()) {
      std::string child = children.text(0);
      if (seen.insert(child).second) lost.push_back(child);
    }
  }

  std::set<std::string> images;
  for (const auto& chain : lost) {
    auto users = db_.prepare("SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ?");
    users.bind(1, chain);
    while (users.step())
      images.insert(users.text(0));
  }
  for (const auto& id : images) {
    // A container layer on a lost image cannot be mounted any more.
    db_.prepare(
           "DELETE FROM holders WHERE holder IN (SELECT id FROM containers WHERE image_id = ?)")
        .bind(1, id)
        .run();
    db_.prepare("DELETE FROM containers WHERE image_id = ?").bind(1, id).run();
    db_.prepare("DELETE FROM images WHERE id = ?").bind(1, id).run();
  }
  // Children were appended after their parents: delete from the end.
  for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
    db_.prepare("DELETE FROM holders WHERE chain_id = ?").bind(1, *it).run();
    db_.prepare("DELETE FROM layers WHERE chain_id = ?").bind(1, *it).run();
  }
  tx.commit();
  return {images.begin(), images.end()};
}

// ---------------------------------------------------------------------------------------------
// Holders

void ImageStore::addHolder(const std::string& chainId, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!readLayer(chainId)) {
    fail(ErrorCategory::FAILED_PRECONDITION, "layer " + chainId + " is not in the store");
  }
  db_.prepare("INSERT OR IGNORE INTO holders (chain_id, holder) VALUES (?, ?)")
      .bind(1, chainId)
      .bind(2, holder)
      .run();
}

void ImageStore::removeHolder(const std::string& chainId, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mutex_);
  db_.prepare("DELETE FROM holders WHERE chain_id = ? AND holder = ?")
      .bind(1, chainId)
      .bind(2, holder)
      .run();
}

std::vector<std::string> ImageStore::holders(const std::string& chainId) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto stmt = db_.prepare("SELECT holder FROM holders WHERE chain_id = ? ORDER BY holder");
  stmt.bind(1, chainId);
  std::vector<std::string> result;
  while (stmt.step())
    result.push_back(stmt.text(0));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Container layers

std::optional<ContainerLayerRecord> ImageStore::readContainer(const std::string& containerId) {
  auto stmt = db_.prepare("SELECT id, image_id, created_at FROM containers WHERE id = ?");
  stmt.bind(1, containerId);
  if (!stmt.step()) return std::nullopt;
  ContainerLayerRecord record{stmt.text(0), stmt.text(1), {}, stmt.integer(2)};
  auto layers =
      db_.prepare("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY position");
  layers.bind(1, record.imageId);
  while (layers.step())
    record.layerChainIds.push_back(layers.text(0));
  return record;
}

ContainerLayerRecord ImageStore::addContainer(const std::string& containerId,
                                              const std::string& imageId) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);
  if (auto existing = readContainer(containerId)) {
    if (existing->imageId == imageId) return *existing;
    fail(ErrorCategory::ALREADY_EXISTS,
         "container " + containerId + " already has a layer on image " + existing->imageId);
  }
  auto image = db_.prepare("SELECT 1 FROM images WHERE id = ?");
  image.bind(1, imageId);
  if (!image.step()) fail(ErrorCategory::NOT_FOUND, "image " + imageId + " is not in the store");

  db_.prepare("INSERT INTO containers (id, image_id, created_at) VALUES (?, ?, ?)")
      .bind(1, containerId)
      .bind(2, imageId)
      .bind(3, nowNanos())
      .run();
  auto record = readContainer(containerId);
  if (record->layerChainIds.empty()) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "image " + imageId + " has no layers to make a root filesystem of");
  }
  for (const auto& chain : record->layerChainIds) {
    db_.prepare("INSERT OR IGNORE INTO holders (chain_id, holder) VALUES (?, ?)")
        .bind(1, chain)
        .bind(2, containerId)
        .run();
  }
  tx.commit();
  return *record;
}

std::optional<ContainerLayerRecord> ImageStore::findContainer(const std::string& containerId) {
  std::lock_guard<std::mutex> lock(mutex_);
  return readContainer(containerId);
}

std::vector<std::string> ImageStore::listContainers() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto stmt = db_.prepare("SELECT id FROM containers ORDER BY id");
  std::vector<std::string> ids;
  while (stmt.step())
    ids.push_back(stmt.text(0));
  return ids;
}

bool ImageStore::removeContainer(const std::string& containerId) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);
  if (!readContainer(containerId)) return false;
  db_.prepare("DELETE FROM holders WHERE holder = ?").bind(1, containerId).run();
  db_.prepare("DELETE FROM containers WHERE id = ?").bind(1, containerId).run();
  tx.commit();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Images

void ImageStore::validate(const ImageRecord& image, std::vector<LayerRecord>& layers) {
  if (!isHex64(image.id)) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "image id must be 64 hex digits, got \"" + image.id.substr(0, 80) + "\"");
  }
  if (image.names.size() > MAX_IMAGE_NAMES) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "more than " + std::to_string(MAX_IMAGE_NAMES) + " names for image " + image.id);
  }
  for (const auto& name : image.names) {
    if (name.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "empty image name");
    requireBounded(name, MAX_IMAGE_NAME_LENGTH, "image name");
  }
  if (image.repoDigests.size() > MAX_IMAGE_NAMES) {
    fail(ErrorCategory::INVALID_ARGUMENT, "too many repo digests for image " + image.id);
  }
  for (const auto& digest : image.repoDigests) {
    requireBounded(digest, MAX_IMAGE_NAME_LENGTH, "repo digest");
    if (digest.find('@') == std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT, "repo digest \"" + digest + "\" has no '@'");
    }
  }
  requireBounded(image.config, MAX_IMAGE_BLOB, "image config");
  requireBounded(image.manifest, MAX_IMAGE_BLOB, "image manifest");
  requireBounded(image.manifestMediaType, MAX_IMAGE_NAME_LENGTH, "manifest media type");
  if (!image.config.empty() && sha256Hex(image.config) != image.id) {
    fail(ErrorCategory::INVALID_ARGUMENT, "the config does not hash to the image id " + image.id);
  }

  if (image.layerChainIds.size() > MAX_IMAGE_LAYERS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "more than " + std::to_string(MAX_IMAGE_LAYERS) + " layers in image " + image.id);
  }
  std::string parent;
  for (const auto& chain : image.layerChainIds) {
    requireDigest(chain, "layer chain id");
    auto layer = readLayer(chain);
    if (!layer) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "layer " + chain + " of image " + image.id + " is not in the store");
    }
    if (layer->parentChainId != parent) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "layer " + chain + " of image " + image.id + " does not sit on the layer before it");
    }
    parent = chain;
    layers.push_back(*layer);
  }
  if (!image.topChainId.empty() && image.topChainId != parent) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "top layer " + image.topChainId + " is not the last layer of image " + image.id);
  }
}

ImageRecord ImageStore::commitImage(const ImageRecord& image) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);
  std::vector<LayerRecord> layers;
  validate(image, layers);

  uint64_t size = image.config.size() + image.manifest.size();
  for (const auto& layer : layers)
    size += layer.size;
  std::string top = layers.empty() ? "" : layers.back().chainId;

  auto existing = db_.prepare("SELECT 1 FROM images WHERE id = ?");
  existing.bind(1, image.id);
  if (existing.step()) {
    // The same config means the same layers; a new pull may bring names, digests, a manifest.
    auto update = db_.prepare(
        "UPDATE images SET top_chain_id = ?, size = ?, "
        "config = CASE WHEN length(?) > 0 THEN ? ELSE config END, "
        "manifest = CASE WHEN length(?) > 0 THEN ? ELSE manifest END, "
        "manifest_media_type = CASE WHEN length(?) > 0 THEN ? ELSE manifest_media_type END "
        "WHERE id = ?");
    update.bind(1, top).bind(2, static_cast<int64_t>(size));
    update.bindBlob(3, image.config).bindBlob(4, image.config);
    update.bindBlob(5, image.manifest).bindBlob(6, image.manifest);
    update.bind(7, image.manifestMediaType).bind(8, image.manifestMediaType);
    update.bind(9, image.id);
    update.run();
    db_.prepare("DELETE FROM image_layers WHERE image_id = ?").bind(1, image.id).run();
  } else {
    auto insert = db_.prepare(
        "INSERT INTO images (id, top_chain_id, config, manifest, manifest_media_type, size, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, image.id).bind(2, top).bindBlob(3, image.config).bindBlob(4, image.manifest);
    insert.bind(5, image.manifestMediaType).bind(6, static_cast<int64_t>(size));
    insert.bind(7, nowNanos());
    insert.run();
  }

  for (size_t i = 0; i < layers.size(); ++i) {
    db_.prepare("INSERT INTO image_layers (image_id, position, chain_id) VALUES (?, ?, ?)")
        .bind(1, image.id)
        .bind(2, static_cast<int64_t>(i))
        .bind(3, layers[i].chainId)
        .run();
  }
  for (const auto& name : image.names) {
    auto owner = db_.prepare("SELECT image_id FROM image_names WHERE name = ?");
    owner.bind(1, name);
    if (owner.step()) {
      if (owner.text(0) == image.id) continue;
      // The name moves; the image it leaves stays, even with no name left (as in CRI-O).
      db_.prepare("DELETE FROM image_names WHERE name = ?").bind(1, name).run();
    }
    db_.prepare("INSERT INTO image_names (name, image_id) VALUES (?, ?)")
        .bind(1, name)
        .bind(2, image.id)
        .run();
  }
  for (const auto& digest : image.repoDigests) {
    db_.prepare("INSERT OR IGNORE INTO image_digests (image_id, digest) VALUES (?, ?)")
        .bind(1, image.id)
        .bind(2, digest)
        .run();
  }
  tx.commit();
  return loadImage(image.id);
}

ImageRecord ImageStore::loadImage(const std::string& id) {
  auto stmt = db_.prepare(
      "SELECT top_chain_id, config, manifest, manifest_media_type, size, created_at "
      "FROM images WHERE id = ?");
  stmt.bind(1, id);
  if (!stmt.step()) fail(ErrorCategory::NOT_FOUND, "image " + id + " is not in the store");
  ImageRecord image;
  image.id = id;
  image.topChainId = stmt.text(0);
  image.config = stmt.blob(1);
  image.manifest = stmt.blob(2);
  image.manifestMediaType = stmt.text(3);
  image.size = static_cast<uint64_t>(stmt.integer(4));
  image.createdAt = stmt.integer(5);

  auto names = db_.prepare("SELECT name FROM image_names WHERE image_id = ? ORDER BY rowid");
  names.bind(1, id);
  while (names.step())
    image.names.push_back(names.text(0));
  auto digests = db_.prepare("SELECT digest FROM image_digests WHERE image_id = ? ORDER BY rowid");
  digests.bind(1, id);
  while (digests.step())
    image.repoDigests.push_back(digests.text(0));
  auto layers =
      db_.prepare("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY position");
  layers.bind(1, id);
  while (layers.step())
    image.layerChainIds.push_back(layers.text(0));
  return image;
}

std::vector<ImageRecord> ImageStore::listImages() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  auto stmt = db_.prepare("SELECT id FROM images ORDER BY created_at, id");
  while (stmt.step())
    ids.push_back(stmt.text(0));
  std::vector<ImageRecord> images;
  for (const auto& id : ids)
    images.push_back(loadImage(id));
  return images;
}

std::optional<std::string> ImageStore::resolveImage(const std::string& reference) {
  std::string id = reference;
  if (id.rfind(SHA256_PREFIX, 0) == 0) id = id.substr(SHA256_PREFIX.size());

  auto byId = db_.prepare("SELECT id FROM images WHERE id = ?");
  byId.bind(1, id);
  if (byId.step()) return byId.text(0);

  auto byName = db_.prepare("SELECT image_id FROM image_names WHERE name = ?");
  byName.bind(1, reference);
  if (byName.step()) return byName.text(0);

  auto byDigest = db_.prepare("SELECT image_id FROM image_digests WHERE digest = ? LIMIT 1");
  byDigest.bind(1, reference);
  if (byDigest.step()) return byDigest.text(0);

  if (!isHexPrefix(id)) return std::nullopt;
  auto byPrefix = db_.prepare("SELECT id FROM images WHERE substr(id, 1, ?) = ? LIMIT 2");
  byPrefix.bind(1, static_cast<int64_t>(id.size())).bind(2, id);
  if (!byPrefix.step()) return std::nullopt;
  std::string found = byPrefix.text(0);
  if (byPrefix.step()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "image id prefix " + id + " is ambiguous");
  }
  return found;
}

std::optional<ImageRecord> ImageStore::findImage(const std::string& reference) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto id = resolveImage(reference);
  if (!id) return std::nullopt;
  return loadImage(*id);
}

bool ImageStore::layerUsed(const std::string& chainId) {
  auto stmt = db_.prepare(
      "SELECT EXISTS (SELECT 1 FROM image_layers WHERE chain_id = ?1) "
      "OR EXISTS (SELECT 1 FROM holders WHERE chain_id = ?1) "
      "OR EXISTS (SELECT 1 FROM layers WHERE parent = ?1)");
  stmt.bind(1, chainId);
  stmt.step();
  return stmt.integer(0) != 0;
}

RemovedImage ImageStore::removeImage(const std::string& reference) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite::Transaction tx(db_);
  auto id = resolveImage(reference);
  if (!id) return {};
  ImageRecord image = loadImage(*id);

  auto user = db_.prepare("SELECT id FROM containers WHERE image_id = ? LIMIT 1");
  user.bind(1, image.id);
  if (user.step()) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "image " + image.id + " is in use by container " + user.text(0));
  }
  for (const auto& chain : image.layerChainIds) {
    auto held = db_.prepare(
        "SELECT holder FROM holders WHERE chain_id = ? "
        "AND holder NOT IN (SELECT id FROM containers WHERE image_id != ?) LIMIT 1");
    held.bind(1, chain).bind(2, image.id);
    if (held.step()) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "image " + image.id + " is in use by " + held.text(0));
    }
  }

  RemovedImage result{true, image.id, {}};
  db_.prepare("DELETE FROM images WHERE id = ?").bind(1, image.id).run();
  for (auto it = image.layerChainIds.rbegin(); it != image.layerChainIds.rend(); ++it) {
    if (layerUsed(*it)) continue;
    db_.prepare("DELETE FROM layers WHERE chain_id = ?").bind(1, *it).run();
    result.freedLayers.push_back(*it);
  }
  tx.commit();
  return result;
}

}  // namespace crio::stored
