#include "crio-imaged/auth-challenge.h"

#include <cctype>

namespace crio::imaged {

namespace {

// A cursor over a header value with the few lexical rules of RFC 7235 section 2.1.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  bool atEnd() {
    skipSpaces();
    return pos_ >= text_.size();
  }

  bool consume(char c) {
    skipSpaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // A token (RFC 7230 tchar run), "" when none is here.
  std::string token() {
    skipSpaces();
    size_t start = pos_;
    while (pos_ < text_.size() && isTokenChar(text_[pos_]))
      ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // A quoted string with backslash escapes removed; false when unterminated.
  bool quoted(std::string& out) {
    skipSpaces();
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
      out.push_back(c);
    }
    return false;
  }

  size_t position() const { return pos_; }
  void rewind(size_t position) { pos_ = position; }

 private:
  static bool isTokenChar(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
  }

  void skipSpaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string AuthChallenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

std::vector<AuthChallenge> parseAuthChallenges(std::string_view header) {
  std::vector<AuthChallenge> challenges;
  Lexer lexer(header);
  while (!lexer.atEnd()) {
    if (lexer.consume(',')) continue;
    std::string scheme = lexer.token();
    if (scheme.empty()) break;
    AuthChallenge challenge;
    challenge.scheme = lower(scheme);

    // Parameters follow until a token that is not followed by '=' starts the next challenge.
    while (!lexer.atEnd()) {
      size_t mark = lexer.position();
      lexer.consume(',');
      std::string name = lexer.token();
      if (name.empty() || !lexer.consume('=')) {
        lexer.rewind(mark);
        break;
      }
      std::string value;
      if (!lexer.quoted(value)) value = lexer.token();
      challenge.params[lower(name)] = value;
    }
    challenges.push_back(std::move(challenge));

    size_t before = lexer.position();
    lexer.consume(',');
    if (lexer.position() == before && !lexer.atEnd()) {
      // Neither a separator nor a new scheme: something this parser does not understand.
      std::string next = lexer.token();
      if (next.empty()) break;
      lexer.rewind(before);
    }
  }
  return challenges;
}

}  // namespace crio::imaged
