// The client side of the Distribution API v2 for one repository of one registry, with the
// credentials of one pull: manifests and blobs by GET, authentication, redirects and retries.
//
// Authentication: a request goes out anonymously, or with the Authorization the client already
// holds. On HTTP 401 the WWW-Authenticate challenges decide:
//   - Bearer: a token for the challenge's scope (default "repository:NAME:pull") comes from the
//     token cache, or from the realm: GET REALM?service=S&scope=SCOPE, with Basic credentials when
//     the pull has a username; with an identity token, POST REALM with the OAuth2 refresh_token
//     grant. The request is then sent again with "Authorization: Bearer TOKEN".
//   - Basic: the request is sent again with the pull's username and password.
// A registry token given with the pull is sent as a Bearer token from the first request on. A
// second 401, or any 403, fails with PERMISSION_DENIED.
//
// Redirects (3xx with Location) are followed up to MAX_REDIRECTS. The Authorization header goes
// only to the registry's own origin (scheme, host and port), never to a redirect target or a
// token realm elsewhere, and https is never downgraded to http unless the registry is insecure.
//
// Retries: connection failures, HTTP 429 and 5xx are tried MAX_ATTEMPTS times in all, backing
// off from RETRY_BACKOFF and doubling, or waiting as long as Retry-After requests (at most
// MAX_RETRY_AFTER). A blob download that breaks after receiving bytes resumes at once with a
// Range request, up to MAX_RESUMES times. TLS verification failures and stalls (no byte for
// the progress timeout) are not retried.
//
// Insecure registries: https without certificate verification is tried first, and plain http
// when that cannot connect or handshake; the scheme that worked is kept for the client's life.
//
// Errors name the repository and what was fetched; categories: NOT_FOUND (HTTP 404),
// PERMISSION_DENIED (401, 403), UNAVAILABLE (connection, TLS, 5xx after retries),
// DEADLINE_EXCEEDED (stall), INVALID_ARGUMENT (oversized or malformed responses).
#pragma once

#include <kj/async.h>
#include <kj/refcount.h>
#include <kj/timer.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "crio-imaged/certs-dir.h"
#include "crio-imaged/credentials.h"
#include "crio-imaged/digest.h"
#include "crio-imaged/http-client.h"
#include "crio-imaged/token-cache.h"

namespace crio::imaged {

// The physical location one RegistryClient pulls from: a registry, mirror or remapped location,
// which may differ from the name the image is stored under.
struct RegistrySource {
  std::string registry;    // host[:port], as used in URLs, certs.d folder names and auth files
  std::string repository;  // path inside the registry: "library/busybox"
  std::string tag;         // "" when pulling by digest alone
  std::string digest;      // "sha256:..." when pulling by digest, else ""
  bool insecure = false;   // plain HTTP and unverified TLS are allowed

  // "registry/repository:tag", "registry/repository@digest" or both forms combined.
  std::string name() const;
  // The REF of GET /v2/REPOSITORY/manifests/REF: the digest when there is one, else the tag.
  std::string manifestReference() const;
};

constexpr int MAX_ATTEMPTS = 4;
constexpr std::chrono::milliseconds RETRY_BACKOFF{250};
constexpr std::chrono::seconds MAX_RETRY_AFTER{10};
constexpr int MAX_REDIRECTS = 5;
constexpr int MAX_RESUMES = 10;
constexpr std::chrono::seconds CONNECT_TIMEOUT{30};

// State every pull of the daemon shares. Event-loop thread only.
struct RegistryContext {
  HttpClient& http;
  TokenCache& tokens;
  kj::Timer& timer;
  std::string certsDir;
  std::chrono::milliseconds progressTimeout;  // 0 disables the stall check
};

struct FetchedManifest {
  std::string body;
  std::string contentType;
  std::string digestHeader;  // Docker-Content-Digest, "" when absent
};

class RegistryClient : public kj::Refcounted {
 public:
  RegistryClient(RegistryContext& context, RegistrySource source, RegistryCredentials credentials);
  ~RegistryClient() noexcept(false);

  // GET /v2/NAME/manifests/REFERENCE with every usable manifest type in Accept, at most
  // MAX_MANIFEST_BYTES.
  kj::Promise<FetchedManifest> fetchManifest(const std::string& reference);

  // GET /v2/NAME/blobs/DIGEST into memory, at most `maxBytes`. Not verified here.
  kj::Promise<std::string> fetchSmallBlob(const Digest& digest, size_t maxBytes);

  // GET /v2/NAME/blobs/DIGEST into `sink`, resuming from sink->resumeOffset(). Resolves to the
  // sink once a complete 2xx response has been written to it; the caller verifies the content.
  kj::Promise<std::unique_ptr<BodySink>> fetchBlob(const Digest& digest,
                                                   std::unique_ptr<BodySink> sink);

  const RegistrySource& source() const { return source_; }

 private:
  struct Exchange;
  struct Origin {
    std::string scheme;
    std::string hostPort;  // host, or host:port when the URL names a port
    bool operator==(const Origin&) const = default;
  };

  kj::Promise<HttpResponse> send(kj::Own<Exchange> exchange);
  kj::Promise<HttpResponse> attempt(Exchange& exchange);
  kj::Promise<HttpResponse> handleResponse(Exchange& exchange, HttpResponse response);
  kj::Promise<HttpResponse> handleTransferError(Exchange& exchange, HttpResponse response);
  kj::Promise<HttpResponse> retry(Exchange& exchange, std::chrono::milliseconds delay,
                                  const std::string& reason);
  kj::Promise<void> authenticate(Exchange& exchange, const HttpResponse& response);
  kj::Promise<BearerToken> requestToken(const std::string& realm, const std::string& service,
                                        const std::string& scope, int attempt);

  std::string baseUrl() const;
  Origin registryOrigin() const;
  TlsSettings tlsFor(const Origin& origin);
  [[noreturn]] void failExchange(const Exchange& exchange, ErrorCategory category,
                                 const std::string& reason) const;

  RegistryContext& context_;
  RegistrySource source_;
  RegistryCredentials credentials_;
  std::string scheme_;         // "https", or "http" once an insecure registry needed it
  std::string authorization_;  // Authorization header value for the registry, "" for none
  std::map<std::string, TlsFiles> tlsFiles_;  // per host[:port], read once
};

}  // namespace crio::imaged
