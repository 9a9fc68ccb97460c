#include "crio-imaged/policy.h"

#include <sys/stat.h>

#include <initializer_list>
#include <optional>
#include <set>

#include "common/error.h"
#include "crio-imaged/bounded-file.h"

namespace crio::imaged {

namespace {

using json = nlohmann::json;

constexpr std::string_view DOCKER_TRANSPORT = "docker";
constexpr size_t MAX_NAMESPACE_LENGTH = 63;

// The field name as it appears in a path: .name, or ."name" when it needs quoting.
std::string fieldPath(const std::string& parent, const std::string& key) {
  bool plain = !key.empty();
  for (char c : key) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    if (!word) plain = false;
  }
  std::string separator = parent.empty() ? "" : ".";
  return parent + separator + (plain ? key : quoteInput(key));
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Reads policy.json text into a checked Policy. Every method throws INVALID_ARGUMENT naming the
// file and the path of the field.
class PolicyParser {
 public:
  PolicyParser(const std::string& file, std::vector<ConfigWarning>& warnings)
      : file_(file), warnings_(warnings) {}

  json parseJson(std::string_view text);
  std::vector<Requirement> requirements(const json& node, const std::string& path);
  void checkShape(const json& scopes, const std::string& path);

  [[noreturn]] void invalid(const std::string& path, const std::string& reason) const {
    fail(ErrorCategory::INVALID_ARGUMENT, file_ + ": " + path + ": " + reason);
  }
  void checkObject(const json& node, const std::string& path) const {
    if (!node.is_object()) invalid(path, "expected an object");
  }
  void checkFields(const json& object, const std::string& path,
                   std::initializer_list<const char*> allowed) const;
  // Returns the string field `key` of `object`, or nullopt when it is absent.
  std::optional<std::string> string(const json& object, const std::string& path,
                                    const char* key) const;
  void stringArray(const json& object, const std::string& path, const char* key) const;
  void tooMany(const std::string& path, size_t limit) const {
    fail(ErrorCategory::RESOURCE_EXHAUSTED,
         file_ + ": " + path + ": more than " + std::to_string(limit) + " entries");
  }

 private:
  Requirement requirement(const json& node, const std::string& path);
  void signedBy(const json& node, const std::string& path) const;
  void sigstoreSigned(const json& node, const std::string& path) const;
  void identity(const json& node, const std::string& path) const;
  void exactlyOne(const json& object, const std::string& path,
                  std::initializer_list<const char*> keys) const;

  const std::string& file_;
  std::vector<ConfigWarning>& warnings_;
};

json PolicyParser::parseJson(std::string_view text) {
  // nlohmann_json silently keeps the last of duplicated keys. The callback rejects them and
  // bounds the nesting while the document is read.
  std::vector<std::set<std::string>> keysPerObject;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > MAX_POLICY_DEPTH) invalid("(document)", "nested too deeply");
    switch (event) {
      case json::parse_event_t::object_start:
        keysPerObject.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keysPerObject.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keysPerObject.back().insert(parsed.get<std::string>()).second) {
          invalid("(document)", "duplicated key " + quoteInput(parsed.get<std::string>()));
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::parse_error& e) {
    fail(ErrorCategory::INVALID_ARGUMENT, file_ + ": invalid JSON: " + e.what());
  }
}

void PolicyParser::checkFields(const json& object, const std::string& path,
                               std::initializer_list<const char*> allowed) const {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) {
      if (key == name) known = true;
    }
    if (!known) invalid(fieldPath(path, key), "unknown field");
  }
}

std::optional<std::string> PolicyParser::string(const json& object, const std::string& path,
                                                const char* key) const {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (!it->is_string()) invalid(fieldPath(path, key), "expected a string");
  return it->get<std::string>();
}

void PolicyParser::stringArray(const json& object, const std::string& path, const char* key) const {
  auto it = object.find(key);
  if (it == object.end()) return;
  if (!it->is_array() || it->empty()) {
    invalid(fieldPath(path, key), "expected a non-empty array of strings");
  }
  for (const auto& element : *it) {
    if (!element.is_string())
      invalid(fieldPath(path, key), "expected a non-empty array of strings");
  }
}

void PolicyParser::exactlyOne(const json& object, const std::string& path,
                              std::initializer_list<const char*> keys) const {
  size_t present = 0;
  std::string names;
  for (const char* key : keys) {
    if (object.contains(key)) ++present;
    names += names.empty() ? "" : ", ";
    names += key;
  }
  if (present != 1) invalid(path, "exactly one of " + names + " must be set");
}

// signedIdentity and baseLayerIdentity objects.
void PolicyParser::identity(const json& node, const std::string& path) const {
  checkObject(node, path);
  std::optional<std::string> type = string(node, path, "type");
  if (!type) invalid(path, "the \"type\" field is missing");

  if (*type == "matchExact" || *type == "matchRepoDigestOrExact" || *type == "matchRepository") {
    checkFields(node, path, {"type"});
  } else if (*type == "exactReference") {
    checkFields(node, path, {"type", "dockerReference"});
    std::optional<std::string> value = string(node, path, "dockerReference");
    std::string valuePath = fieldPath(path, "dockerReference");
    if (!value) invalid(valuePath, "is required");
    Reference reference;
    try {
      reference = parseReference(*value);
    } catch (const Error& e) {
      invalid(valuePath, e.what());
    }
    if (reference.isShortName() || (!reference.hasTag() && !reference.hasDigest())) {
      invalid(valuePath, "must be a fully qualified name with a tag or digest");
    }
  } else if (*type == "exactRepository") {
    checkFields(node, path, {"type", "dockerRepository"});
    std::optional<std::string> value = string(node, path, "dockerRepository");
    std::string valuePath = fieldPath(path, "dockerRepository");
    if (!value) invalid(valuePath, "is required");
    Reference reference;
    try {
      reference = parseReference(*value);
    } catch (const Error& e) {
      invalid(valuePath, e.what());
    }
    if (reference.isShortName() || reference.hasTag() || reference.hasDigest()) {
      invalid(valuePath, "must be a fully qualified repository without tag or digest");
    }
  } else if (*type == "remapIdentity") {
    checkFields(node, path, {"type", "prefix", "signedPrefix"});
    if (!string(node, path, "prefix")) invalid(fieldPath(path, "prefix"), "is required");
    if (!string(node, path, "signedPrefix")) {
      invalid(fieldPath(path, "signedPrefix"), "is required");
    }
  } else {
    invalid(fieldPath(path, "type"), "unknown identity type " + quoteInput(*type));
  }
}

void PolicyParser::signedBy(const json& node, const std::string& path) const {
  checkFields(node, path, {"type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"});
  std::optional<std::string> keyType = string(node, path, "keyType");
  if (!keyType) invalid(fieldPath(path, "keyType"), "is required");
  if (*keyType != "GPGKeys" && *keyType != "X509Certificates" && *keyType != "signedByX509CAs") {
    invalid(fieldPath(path, "keyType"), "unknown key type " + quoteInput(*keyType));
  }
  exactlyOne(node, path, {"keyPath", "keyPaths", "keyData"});
  string(node, path, "keyPath");
  stringArray(node, path, "keyPaths");
  string(node, path, "keyData");
  if (node.contains("signedIdentity")) {
    identity(node["signedIdentity"], fieldPath(path, "signedIdentity"));
  }
}

void PolicyParser::sigstoreSigned(const json& node, const std::string& path) const {
  checkFields(
      node, path,
      {"type", "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki", "rekorPublicKeyPath",
       "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas", "signedIdentity"});
  exactlyOne(node, path, {"keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki"});
  for (const char* key : {"keyPath", "keyData", "rekorPublicKeyPath", "rekorPublicKeyData"}) {
    string(node, path, key);
  }
  for (const char* key : {"keyPaths", "keyDatas", "rekorPublicKeyPaths", "rekorPublicKeyDatas"}) {
    stringArray(node, path, key);
  }
  if (node.contains("fulcio")) {
    std::string fulcioPath = fieldPath(path, "fulcio");
    const json& fulcio = node["fulcio"];
    checkObject(fulcio, fulcioPath);
    checkFields(fulcio, fulcioPath, {"caPath", "caData", "oidcIssuer", "subjectEmail"});
    for (const char* key : {"caPath", "caData", "oidcIssuer", "subjectEmail"}) {
      string(fulcio, fulcioPath, key);
    }
  }
  if (node.contains("pki")) {
    std::string pkiPath = fieldPath(path, "pki");
    const json& pki = node["pki"];
    checkObject(pki, pkiPath);
    checkFields(pki, pkiPath,
                {"caRootsPath", "caRootsData", "caIntermediatesPath", "caIntermediatesData",
                 "subjectEmail", "subjectHostname"});
    for (const auto& [key, value] : pki.items()) {
      string(pki, pkiPath, key.c_str());
    }
  }
  if (node.contains("signedIdentity")) {
    identity(node["signedIdentity"], fieldPath(path, "signedIdentity"));
  }
}

Requirement PolicyParser::requirement(const json& node, const std::string& path) {
  checkObject(node, path);
  std::optional<std::string> type = string(node, path, "type");
  if (!type) invalid(path, "the \"type\" field is missing");

  Requirement requirement;
  requirement.typeName = *type;
  requirement.json = node;
  if (*type == "insecureAcceptAnything") {
    checkFields(node, path, {"type"});
    requirement.type = RequirementType::INSECURE_ACCEPT_ANYTHING;
  } else if (*type == "reject") {
    checkFields(node, path, {"type"});
    requirement.type = RequirementType::REJECT;
  } else if (*type == "signedBy") {
    signedBy(node, path);
    requirement.type = RequirementType::SIGNED_BY;
  } else if (*type == "sigstoreSigned") {
    sigstoreSigned(node, path);
    requirement.type = RequirementType::SIGSTORE_SIGNED;
  } else if (*type == "signedBaseLayer") {
    checkFields(node, path, {"type", "baseLayerIdentity"});
    if (!node.contains("baseLayerIdentity")) {
      invalid(fieldPath(path, "baseLayerIdentity"), "is required");
    }
    identity(node["baseLayerIdentity"], fieldPath(path, "baseLayerIdentity"));
    requirement.type = RequirementType::SIGNED_BASE_LAYER;
  } else {
    warnings_.push_back(
        {file_, path,
         "unknown requirement type " + quoteInput(*type) + "; pulls in this scope are rejected"});
    requirement.type = RequirementType::UNKNOWN;
  }
  return requirement;
}

std::vector<Requirement> PolicyParser::requirements(const json& node, const std::string& path) {
  if (!node.is_array()) invalid(path, "expected an array of requirements");
  if (node.empty()) {
    invalid(path,
            "the list of requirements must not be empty (use insecureAcceptAnything to "
            "accept any image)");
  }
  if (node.size() > MAX_POLICY_REQUIREMENTS) tooMany(path, MAX_POLICY_REQUIREMENTS);
  std::vector<Requirement> list;
  for (size_t i = 0; i < node.size(); ++i) {
    list.push_back(requirement(node[i], indexPath(path, i)));
  }
  return list;
}

// Checks a transport other than docker: each scope maps to a non-empty array, and the
// requirements are not read.
void PolicyParser::checkShape(const json& scopes, const std::string& path) {
  checkObject(scopes, path);
  if (scopes.size() > MAX_POLICY_SCOPES) tooMany(path, MAX_POLICY_SCOPES);
  for (const auto& [scope, list] : scopes.items()) {
    if (!list.is_array() || list.empty()) {
      invalid(fieldPath(path, scope), "expected a non-empty array of requirements");
    }
  }
}

bool isDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > MAX_NAMESPACE_LENGTH) return false;
  if (name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Policy

std::string PolicyScope::describe() const {
  if (global) return "the global default";
  if (scope.empty()) return "the docker transport's default scope";
  return "scope " + quoteInput(scope);
}

Policy Policy::parse(std::string_view text, const std::string& fileName) {
  Policy policy;
  policy.file_ = fileName;
  PolicyParser parser(policy.file_, policy.warnings_);

  json root = parser.parseJson(text);
  parser.checkObject(root, "(document)");
  parser.checkFields(root, "", {"default", "transports"});
  if (!root.contains("default")) parser.invalid("default", "is required");
  policy.default_.global = true;
  policy.default_.requirements = parser.requirements(root["default"], "default");

  if (!root.contains("transports")) return policy;
  const json& transports = root["transports"];
  parser.checkObject(transports, "transports");
  for (const auto& [transport, scopes] : transports.items()) {
    std::string transportPath = fieldPath("transports", transport);
    if (transport != DOCKER_TRANSPORT) {
      parser.checkShape(scopes, transportPath);
      continue;
    }
    parser.checkObject(scopes, transportPath);
    if (scopes.size() > MAX_POLICY_SCOPES) parser.tooMany(transportPath, MAX_POLICY_SCOPES);
    for (const auto& [scope, list] : scopes.items()) {
      PolicyScope entry;
      entry.scope = scope;
      entry.requirements = parser.requirements(list, fieldPath(transportPath, scope));
      policy.docker_.emplace(scope, std::move(entry));
    }
  }
  return policy;
}

Policy Policy::load(const std::string& path) {
  std::optional<std::string> text = readBoundedFile(path, MAX_POLICY_FILE_SIZE);
  if (!text) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "no policy.json at " + path +
             ": every pull is rejected until a policy exists there (see "
             "containers-policy.json(5); [crio.image] signature_policy sets the path)");
  }
  return parse(*text, path);
}

const PolicyScope& Policy::scopeFor(const Reference& reference) const {
  for (const auto& scope : dockerScopes(reference)) {
    auto it = docker_.find(scope);
    if (it != docker_.end()) return it->second;
  }
  auto transportDefault = docker_.find("");
  if (transportDefault != docker_.end()) return transportDefault->second;
  return default_;
}

std::vector<std::string> dockerScopes(const Reference& reference) {
  std::vector<std::string> scopes;
  if (reference.hasDigest()) {
    scopes.push_back(reference.repoDigest());
  } else if (reference.hasTag()) {
    scopes.push_back(reference.name() + ":" + reference.tag);
  }

  std::string name = reference.name();
  while (true) {
    scopes.push_back(name);
    size_t slash = name.rfind('/');
    if (slash == std::string::npos) break;
    name.resize(slash);
  }

  // name is now host[:port]. An IPv6 literal has no subdomains to match.
  if (name.empty() || name.front() == '[') return scopes;
  std::string host = name.substr(0, name.find(':'));
  size_t dot = host.find('.');
  while (dot != std::string::npos) {
    host = host.substr(dot + 1);
    scopes.push_back("*." + host);
    dot = host.find('.');
  }
  return scopes;
}

std::string policyPathFor(const std::string& defaultPath, const std::string& policyDir,
                          std::string_view podNamespace) {
  if (podNamespace.empty() || policyDir.empty()) return defaultPath;
  if (!isDnsLabel(podNamespace)) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "pod namespace " + quoteInput(podNamespace) +
             " is not a valid namespace name (lowercase letters, digits and '-', at most 63)");
  }
  std::string path = policyDir + "/" + std::string(podNamespace) + ".json";
  struct stat info;
  if (stat(path.c_str(), &info) == 0) return path;
  return defaultPath;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

PolicyEvaluator::PolicyEvaluator(std::shared_ptr<const Policy> policy)
    : policy_(std::move(policy)) {}

void PolicyEvaluator::addVerifier(const std::string& type,
                                  std::shared_ptr<SignatureVerifier> verifier) {
  verifiers_[type] = std::move(verifier);
}

SignatureVerifier* PolicyEvaluator::verifierFor(const Requirement& requirement,
                                                const PolicyScope& scope,
                                                const Reference& name) const {
  std::string rejected = "pulling " + quoteInput(name.string()) + " is rejected by " +
                         policy_->file() + ": " + scope.describe();
  switch (requirement.type) {
    case RequirementType::INSECURE_ACCEPT_ANYTHING:
      return nullptr;
    case RequirementType::REJECT:
      fail(ErrorCategory::PERMISSION_DENIED, rejected + " requires \"reject\"");
    case RequirementType::UNKNOWN:
      fail(ErrorCategory::PERMISSION_DENIED, rejected + " has the requirement type " +
                                                 quoteInput(requirement.typeName) +
                                                 ", which this runtime does not know");
    case RequirementType::SIGNED_BY:
    case RequirementType::SIGSTORE_SIGNED:
    case RequirementType::SIGNED_BASE_LAYER:
      break;
  }

  auto it = verifiers_.find(requirement.typeName);
  if (it == verifiers_.end() || it->second == nullptr) {
    fail(ErrorCategory::PERMISSION_DENIED,
         rejected + " requires a " + quoteInput(requirement.typeName) +
             " signature, and signature verification of that type is not supported yet; the "
             "pull was rejected rather than accepted unverified");
  }
  return it->second.get();
}

void PolicyEvaluator::precheck(const Reference& name) const {
  const PolicyScope& scope = policy_->scopeFor(name);
  for (const auto& requirement : scope.requirements) {
    verifierFor(requirement, scope, name);
  }
}

void PolicyEvaluator::evaluate(const PolicyImage& image) const {
  const PolicyScope& scope = policy_->scopeFor(image.name);
  for (const auto& requirement : scope.requirements) {
    SignatureVerifier* verifier = verifierFor(requirement, scope, image.name);
    if (verifier == nullptr) continue;
    std::string context = "pulling " + quoteInput(image.name.string()) + ": " + policy_->file() +
                          ": " + scope.describe() + ": " + requirement.typeName;
    withContext(context, [&]() { verifier->verify(requirement.json, image); });
  }
}

}  // namespace crio::imaged
