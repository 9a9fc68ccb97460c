#include "crio-imaged/registry-client.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "crio-imaged/async-error.h"
#include "crio-imaged/auth-challenge.h"
#include "crio-imaged/manifest.h"

namespace crio::imaged {

namespace {

// Docker Hub's registry API is served from this host, while images are named "docker.io/...".
constexpr std::string_view DOCKER_HUB = "docker.io";
constexpr std::string_view DOCKER_HUB_API = "registry-1.docker.io";
// The part of a registry's error body quoted in a message.
constexpr size_t MAX_QUOTED_ERROR = 200;

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string port;  // "" when the URL names none
};

// Splits an absolute URL with curl's parser; false when it is not one.
bool parseUrl(const std::string& url, UrlParts& parts) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return false;
  bool ok = curl_url_set(handle, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  auto get = [&](CURLUPart part, std::string& out) {
    char* value = nullptr;
    if (curl_url_get(handle, part, &value, 0) == CURLUE_OK && value != nullptr) {
      out = value;
      curl_free(value);
      return true;
    }
    return false;
  };
  ok = ok && get(CURLUPART_SCHEME, parts.scheme) && get(CURLUPART_HOST, parts.host);
  if (ok) get(CURLUPART_PORT, parts.port);
  curl_url_cleanup(handle);
  return ok;
}

std::string percentEncode(std::string_view text) {
  static constexpr char HEX[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(HEX[c >> 4]);
      out.push_back(HEX[c & 0xf]);
    }
  }
  return out;
}

// "HTTP 404, MANIFEST_UNKNOWN: manifest unknown" from a Distribution API error body.
std::string describeStatus(const HttpResponse& response) {
  std::string out = "HTTP " + std::to_string(response.status);
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("errors") && json["errors"].is_array() &&
      !json["errors"].empty() && json["errors"][0].is_object()) {
    const auto& first = json["errors"][0];
    std::string detail;
    if (first.contains("code") && first["code"].is_string()) detail = first["code"];
    if (first.contains("message") && first["message"].is_string()) {
      detail += (detail.empty() ? "" : ": ") + first["message"].get<std::string>();
    }
    if (detail.size() > MAX_QUOTED_ERROR) detail = detail.substr(0, MAX_QUOTED_ERROR) + "...";
    if (!detail.empty()) out += ", " + detail;
  }
  return out;
}

bool isRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Seconds from a Retry-After header, bounded; `fallback` when absent or a date.
std::chrono::milliseconds retryAfter(const HttpResponse& response,
                                     std::chrono::milliseconds fallback) {
  std::string value = response.headers.get("retry-after");
  if (value.empty() || value.size() > 6) return fallback;
  for (char c : value) {
    if (c < '0' || c > '9') return fallback;
  }
  std::chrono::milliseconds asked = std::chrono::seconds(std::stoi(value));
  return std::min<std::chrono::milliseconds>(asked, MAX_RETRY_AFTER);
}

}  // namespace

std::string RegistrySource::name() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string RegistrySource::manifestReference() const {
  return digest.empty() ? tag : digest;
}

// One logical request: what to fetch and the state of its attempts, redirects and resumes.
struct RegistryClient::Exchange {
  std::string what;  // for messages: "manifest \"latest\"", "blob sha256:..."
  std::string path;  // below the registry's base URL: "/v2/NAME/manifests/REF"
  std::vector<std::string> headers;
  size_t maxBodyBytes = 0;
  std::unique_ptr<BodySink> sink;
  std::string url;  // a redirect target being followed, else ""
  int failedAttempts = 0;
  int resumes = 0;
  int redirects = 0;
  int authRounds = 0;
  bool cachedToken = false;  // the last authentication round took a token from the cache
};

RegistryClient::RegistryClient(RegistryContext& context, RegistrySource source,
                               RegistryCredentials credentials)
    : context_(context),
      source_(std::move(source)),
      credentials_(std::move(credentials)),
      scheme_("https") {
  if (!credentials_.registryToken.empty()) {
    authorization_ = "Bearer " + credentials_.registryToken;
  }
}

RegistryClient::~RegistryClient() noexcept(false) {}

std::string RegistryClient::baseUrl() const {
  std::string host =
      source_.registry == DOCKER_HUB ? std::string(DOCKER_HUB_API) : source_.registry;
  return scheme_ + "://" + host;
}

RegistryClient::Origin RegistryClient::registryOrigin() const {
  std::string host =
      source_.registry == DOCKER_HUB ? std::string(DOCKER_HUB_API) : source_.registry;
  return Origin{scheme_, host};
}

TlsSettings RegistryClient::tlsFor(const Origin& origin) {
  TlsSettings tls;
  tls.verify = !source_.insecure;
  // certs.d folders are named as the registry is, so Docker Hub's is "docker.io".
  std::string key = origin == registryOrigin() ? source_.registry : origin.hostPort;
  auto it = tlsFiles_.find(key);
  if (it == tlsFiles_.end()) {
    TlsFiles files = keepCategory([&] { return loadCertsDir(context_.certsDir, key); });
    if (!files.paths.empty()) {
      log::debug("using certs.d files",
                 {{"registry", key}, {"files", std::to_string(files.paths.size())}});
    }
    it = tlsFiles_.emplace(key, std::move(files)).first;
  }
  tls.extraCaPem = it->second.extraCaPem;
  tls.clientCertPem = it->second.clientCertPem;
  tls.clientKeyPem = it->second.clientKeyPem;
  return tls;
}

void RegistryClient::failExchange(const Exchange& exchange, ErrorCategory category,
                                  const std::string& reason) const {
  failAsync(category,
            source_.registry + "/" + source_.repository + ": " + exchange.what + ": " + reason);
}

kj::Promise<FetchedManifest> RegistryClient::fetchManifest(const std::string& reference) {
  auto exchange = kj::heap<Exchange>();
  exchange->what = "manifest \"" + reference + "\"";
  exchange->path = "/v2/" + source_.repository + "/manifests/" + reference;
  exchange->headers.push_back("Accept: " + manifestAcceptHeader());
  exchange->maxBodyBytes = MAX_MANIFEST_BYTES;
  return send(kj::mv(exchange)).then([](HttpResponse response) {
    FetchedManifest manifest;
    manifest.body = std::move(response.body);
    manifest.contentType = response.headers.get("content-type");
    manifest.digestHeader = response.headers.get("docker-content-digest");
    return manifest;
  });
}

kj::Promise<std::string> RegistryClient::fetchSmallBlob(const Digest& digest, size_t maxBytes) {
  auto exchange = kj::heap<Exchange>();
  exchange->what = "blob " + digest.text();
  exchange->path = "/v2/" + source_.repository + "/blobs/" + digest.text();
  exchange->maxBodyBytes = maxBytes;
  return send(kj::mv(exchange)).then([](HttpResponse response) {
    return std::move(response.body);
  });
}

kj::Promise<std::unique_ptr<BodySink>> RegistryClient::fetchBlob(const Digest& digest,
                                                                 std::unique_ptr<BodySink> sink) {
  auto exchange = kj::heap<Exchange>();
  exchange->what = "blob " + digest.text();
  exchange->path = "/v2/" + source_.repository + "/blobs/" + digest.text();
  exchange->sink = std::move(sink);
  return send(kj::mv(exchange)).then([](HttpResponse response) {
    return std::move(response.sink);
  });
}

kj::Promise<HttpResponse> RegistryClient::send(kj::Own<Exchange> exchange) {
  Exchange& ref = *exchange;
  return attempt(ref).attach(kj::mv(exchange), kj::addRef(*this));
}

kj::Promise<HttpResponse> RegistryClient::attempt(Exchange& exchange) {
  HttpRequest request;
  request.url = exchange.url.empty() ? baseUrl() + exchange.path : exchange.url;
  UrlParts parts;
  if (!parseUrl(request.url, parts))
    failExchange(exchange, ErrorCategory::UNAVAILABLE, "invalid URL");
  Origin origin{parts.scheme, parts.port.empty() ? parts.host : parts.host + ":" + parts.port};

  request.headers = exchange.headers;
  if (origin == registryOrigin() && !authorization_.empty()) {
    request.headers.push_back("Authorization: " + authorization_);
  }
  request.tls = tlsFor(origin);
  request.maxBodyBytes = exchange.maxBodyBytes;
  request.sink = std::move(exchange.sink);
  request.progressTimeout = context_.progressTimeout;
  request.connectTimeout = CONNECT_TIMEOUT;
  return context_.http.perform(std::move(request)).then([this, &exchange](HttpResponse response) {
    return handleResponse(exchange, std::move(response));
  });
}

kj::Promise<HttpResponse> RegistryClient::handleResponse(Exchange& exchange,
                                                         HttpResponse response) {
  exchange.sink = std::move(response.sink);
  if (response.error != TransferError::NONE) {
    return handleTransferError(exchange, std::move(response));
  }
  long status = response.status;
  bool atRegistry = exchange.url.empty();

  if (status == 401 && atRegistry) {
    // One round of authentication, and a second only when the first reused a cached token.
    bool again = exchange.authRounds == 0 || (exchange.authRounds == 1 && exchange.cachedToken);
    if (!again) {
      std::string reason = credentials_.empty()
                               ? "unauthorized: the registry requires credentials and the pull "
                                 "has none"
                               : "unauthorized: the registry rejected the credentials";
      failExchange(exchange, ErrorCategory::PERMISSION_DENIED,
                   reason + " (" + describeStatus(response) + ")");
    }
    ++exchange.authRounds;
    exchange.cachedToken = false;
    return authenticate(exchange, response).then([this, &exchange]() { return attempt(exchange); });
  }
  if (status == 401 || status == 403) {
    std::string reason = credentials_.empty() ? "access denied to an anonymous pull"
                                              : "access denied with the given credentials";
    failExchange(exchange, ErrorCategory::PERMISSION_DENIED,
                 reason + " (" + describeStatus(response) + ")");
  }

  if (isRedirect(status)) {
    if (response.redirectUrl.empty()) {
      failExchange(exchange, ErrorCategory::UNAVAILABLE,
                   "HTTP " + std::to_string(status) + " redirect without a Location");
    }
    if (++exchange.redirects > MAX_REDIRECTS) {
      failExchange(exchange, ErrorCategory::UNAVAILABLE,
                   "more than " + std::to_string(MAX_REDIRECTS) + " redirects");
    }
    UrlParts target;
    if (!parseUrl(response.redirectUrl, target) ||
        (target.scheme != "https" && target.scheme != "http")) {
      failExchange(exchange, ErrorCategory::UNAVAILABLE, "redirect to an invalid or non-HTTP URL");
    }
    if (target.scheme == "http" && !source_.insecure) {
      failExchange(exchange, ErrorCategory::UNAVAILABLE,
                   "redirect from https to plain http refused (the registry is not insecure)");
    }
    log::debug("following redirect", {{"registry", source_.registry}, {"target", target.host}});
    exchange.url = response.redirectUrl;
    return attempt(exchange);
  }

  if (status == 416 && exchange.sink != nullptr && exchange.sink->resumeOffset() > 0 &&
      exchange.resumes < MAX_RESUMES) {
    // The partial bytes do not fit what the registry has: start over.
    ++exchange.resumes;
    exchange.sink->restart();
    exchange.url.clear();
    return attempt(exchange);
  }

  if (status == 429 || status >= 500) {
    auto delay = RETRY_BACKOFF * (1 << std::min(exchange.failedAttempts, 6));
    return retry(exchange, retryAfter(response, delay), describeStatus(response));
  }
  if (status == 404) {
    failExchange(exchange, ErrorCategory::NOT_FOUND,
                 "not found (" + describeStatus(response) + ")");
  }
  if (status >= 200 && status < 300) {
    response.sink = std::move(exchange.sink);
    return kj::mv(response);
  }
  failExchange(exchange, ErrorCategory::INVALID_ARGUMENT,
               "the registry rejected the request (" + describeStatus(response) + ")");
}

kj::Promise<HttpResponse> RegistryClient::handleTransferError(Exchange& exchange,
                                                              HttpResponse response) {
  const std::string& message = response.errorMessage;
  bool atRegistry = exchange.url.empty();
  switch (response.error) {
    case TransferError::CONNECT:
    case TransferError::TLS:
      if (source_.insecure && scheme_ == "https" && atRegistry) {
        log::info("insecure registry does not serve https; using http",
                  {{"registry", source_.registry}});
        scheme_ = "http";
        return attempt(exchange);
      }
      if (response.error == TransferError::TLS) {
        // OpenSSL's error for a server that replied to the TLS hello in plain HTTP.
        bool plainHttp = message.find("wrong version number") != std::string::npos;
        failExchange(
            exchange, ErrorCategory::UNAVAILABLE,
            "TLS connection failed: " + message +
                (plainHttp
                     ? " (the registry seems to serve plain HTTP: list " + source_.registry +
                           " in [crio.image] insecure_registries or mark it "
                           "insecure = true in registries.conf)"
                     : " (a private CA goes in " + context_.certsDir + "/" + source_.registry +
                           "/*.crt, a client certificate in *.cert with its "
                           "*.key)"));
      }
      return retry(exchange, RETRY_BACKOFF * (1 << std::min(exchange.failedAttempts, 6)),
                   "cannot connect: " + message);

    case TransferError::DROPPED:
      if (response.bodyBytes > 0 && exchange.sink != nullptr && exchange.resumes < MAX_RESUMES) {
        ++exchange.resumes;
        log::info("connection dropped during a download; resuming",
                  {{"registry", source_.registry},
                   {"what", exchange.what},
                   {"offset", exchange.sink->resumeOffset()},
                   {"resume", exchange.resumes}});
        exchange.url.clear();
        return attempt(exchange);
      }
      return retry(exchange, RETRY_BACKOFF * (1 << std::min(exchange.failedAttempts, 6)),
                   "connection dropped: " + message);

    case TransferError::STALLED:
      failExchange(exchange, ErrorCategory::DEADLINE_EXCEEDED,
                   "the transfer stalled: " + message + " ([crio.image] pull_progress_timeout)");
    case TransferError::TOO_LARGE:
      failExchange(exchange, ErrorCategory::INVALID_ARGUMENT, message);
    case TransferError::SINK:
      failExchange(
          exchange,
          exchange.sink != nullptr ? exchange.sink->failureCategory() : ErrorCategory::INTERNAL,
          message);
    case TransferError::OTHER:
    case TransferError::NONE:
      break;
  }
  failExchange(exchange, ErrorCategory::UNAVAILABLE, "request failed: " + message);
}

kj::Promise<HttpResponse> RegistryClient::retry(Exchange& exchange, std::chrono::milliseconds delay,
                                                const std::string& reason) {
  if (++exchange.failedAttempts >= MAX_ATTEMPTS) {
    failExchange(exchange, ErrorCategory::UNAVAILABLE,
                 reason + " (gave up after " + std::to_string(MAX_ATTEMPTS) + " attempts)");
  }
  log::info("registry request failed; retrying",
            {{"registry", source_.registry},
             {"what", exchange.what},
             {"reason", reason},
             {"attempt", exchange.failedAttempts + 1},
             {"delay_ms", static_cast<int64_t>(delay.count())}});
  exchange.url.clear();
  return context_.timer.afterDelay(delay.count() * kj::MILLISECONDS).then([this, &exchange]() {
    return attempt(exchange);
  });
}

kj::Promise<void> RegistryClient::authenticate(Exchange& exchange, const HttpResponse& response) {
  std::vector<AuthChallenge> challenges;
  for (const auto& value : response.headers.getAll("www-authenticate")) {
    for (auto& challenge : parseAuthChallenges(value))
      challenges.push_back(std::move(challenge));
  }
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic = nullptr;
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "bearer" && bearer == nullptr) bearer = &challenge;
    if (challenge.scheme == "basic" && basic == nullptr) basic = &challenge;
  }

  if (bearer != nullptr) {
    if (!credentials_.registryToken.empty()) {
      failExchange(exchange, ErrorCategory::PERMISSION_DENIED,
                   "unauthorized: the registry rejected the registry token (" +
                       describeStatus(response) + ")");
    }
    std::string realm = bearer->param("realm");
    if (realm.empty()) {
      failExchange(exchange, ErrorCategory::PERMISSION_DENIED,
                   "unauthorized, and the Bearer challenge names no realm");
    }
    std::string service = bearer->param("service");
    std::string scope = bearer->param("scope");
    if (scope.empty()) scope = "repository:" + source_.repository + ":pull";
    std::string key = TokenCache::key(source_.registry, scope, credentials_.cacheKey());

    // The first round may use a cached token; a second 401 means it is no good any more.
    if (exchange.authRounds == 1) {
      if (auto cached = context_.tokens.find(key, Clock::now())) {
        std::string header = "Bearer " + *cached;
        if (header != authorization_) {
          authorization_ = header;
          exchange.cachedToken = true;
          return kj::READY_NOW;
        }
      }
    }
    return requestToken(realm, service, scope, 0).then([this, key](BearerToken token) {
      authorization_ = "Bearer " + token.token;
      context_.tokens.store(key, std::move(token), Clock::now());
    });
  }

  if (basic != nullptr) {
    if (credentials_.username.empty()) {
      failExchange(exchange, ErrorCategory::PERMISSION_DENIED,
                   "unauthorized: the registry requires credentials and the pull has none (" +
                       describeStatus(response) + ")");
    }
    std::string header = basicAuthorization(credentials_.username, credentials_.password);
    if (header == authorization_) {
      failExchange(
          exchange, ErrorCategory::PERMISSION_DENIED,
          "unauthorized: the registry rejected the credentials (" + describeStatus(response) + ")");
    }
    authorization_ = header;
    return kj::READY_NOW;
  }
  failExchange(
      exchange, ErrorCategory::PERMISSION_DENIED,
      "unauthorized, without a Bearer or Basic challenge (" + describeStatus(response) + ")");
}

kj::Promise<BearerToken> RegistryClient::requestToken(const std::string& realm,
                                                      const std::string& service,
                                                      const std::string& scope, int attempt) {
  std::string subject = source_.registry + "/" + source_.repository + ": token for " + scope;
  UrlParts parts;
  if (!parseUrl(realm, parts) || (parts.scheme != "https" && parts.scheme != "http")) {
    failAsync(ErrorCategory::PERMISSION_DENIED, subject + ": the token realm is not an HTTP URL");
  }
  if (parts.scheme == "http" && !source_.insecure) {
    failAsync(ErrorCategory::PERMISSION_DENIED,
              subject + ": the token realm " + parts.host +
                  " is plain http, which is allowed only for insecure registries");
  }
  Origin origin{parts.scheme, parts.port.empty() ? parts.host : parts.host + ":" + parts.port};

  HttpRequest request;
  std::string query;
  if (!service.empty()) query += "service=" + percentEncode(service) + "&";
  query += "scope=" + percentEncode(scope);
  if (!credentials_.identityToken.empty()) {
    // OAuth2 refresh-token grant, as the Docker token specification describes for identity
    // tokens.
    request.method = "POST";
    request.url = realm;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    request.postBody = query + "&grant_type=refresh_token&client_id=crio-imaged&refresh_token=" +
                       percentEncode(credentials_.identityToken);
  } else {
    request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
    if (!credentials_.username.empty()) {
      request.headers.push_back("Authorization: " +
                                basicAuthorization(credentials_.username, credentials_.password));
    }
  }
  request.tls = tlsFor(origin);
  request.maxBodyBytes = MAX_TOKEN_RESPONSE_BYTES;
  request.progressTimeout = context_.progressTimeout;
  request.connectTimeout = CONNECT_TIMEOUT;

  return context_.http.perform(std::move(request))
      .then([this, realm, service, scope, attempt, subject,
             host = origin.hostPort](HttpResponse response) -> kj::Promise<BearerToken> {
        bool transient = response.error == TransferError::CONNECT ||
                         response.error == TransferError::DROPPED ||
                         (response.error == TransferError::NONE &&
                          (response.status == 429 || response.status >= 500));
        if (transient && attempt + 1 < MAX_ATTEMPTS) {
          auto delay = RETRY_BACKOFF * (1 << attempt);
          log::info(
              "token request failed; retrying",
              {{"registry", source_.registry}, {"realm_host", host}, {"attempt", attempt + 2}});
          return context_.timer.afterDelay(delay.count() * kj::MILLISECONDS)
              .then([this, realm, service, scope, attempt]() {
                return requestToken(realm, service, scope, attempt + 1);
              });
        }
        if (response.error == TransferError::STALLED) {
          failAsync(ErrorCategory::DEADLINE_EXCEEDED, subject + ": the token service at " + host +
                                                          " stalled: " + response.errorMessage);
        }
        if (response.error != TransferError::NONE) {
          failAsync(ErrorCategory::UNAVAILABLE, subject + ": the token service at " + host +
                                                    " failed: " + response.errorMessage);
        }
        if (response.status == 401 || response.status == 403) {
          std::string reason = credentials_.empty()
                                   ? "refused an anonymous token; the pull needs credentials"
                                   : "rejected the credentials";
          failAsync(ErrorCategory::PERMISSION_DENIED, subject + ": the token service at " + host +
                                                          " " + reason + " (HTTP " +
                                                          std::to_string(response.status) + ")");
        }
        if (response.status != 200) {
          failAsync(ErrorCategory::UNAVAILABLE, subject + ": the token service at " + host +
                                                    " answered HTTP " +
                                                    std::to_string(response.status));
        }
        return keepCategory([&] {
          try {
            return parseTokenResponse(response.body, Clock::now());
          } catch (const Error& e) {
            throw e.withContext(subject + ": the token service at " + host);
          }
        });
      });
}

}  // namespace crio::imaged
