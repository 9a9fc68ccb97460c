#include "common/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-config-test-XXXXXX";
    root_ = mkdtemp(pattern);
    fs::create_directories(root_ + "/etc/crio/crio.conf.d");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, const std::string& text) {
    std::ofstream(root_ + relative) << text;
  }

  LoadedConfig load() {
    ConfigSources sources;
    sources.paths = Paths(root_);
    return loadConfig(sources);
  }

  std::string root_;
};

TEST_F(ConfigTest, DefaultsWithoutAnyFileLiveUnderTheRoot) {
  LoadedConfig loaded = load();
  EXPECT_TRUE(loaded.filesRead.empty());
  EXPECT_EQ(loaded.config.listen, root_ + "/run/crio/crio.sock");
  EXPECT_EQ(loaded.config.storageRoot, root_ + "/var/lib/crio/storage");
  EXPECT_EQ(loaded.config.defaultRuntime, "runc");
  EXPECT_EQ(loaded.config.pluginDirs.front(), "/opt/cni/bin/");
  EXPECT_EQ(loaded.config.defaultCapabilities.size(), 9u);
}

TEST_F(ConfigTest, DropInsOverrideInLexicalOrder) {
  write("/etc/crio/crio.conf", "[crio.runtime]\nlog_level = \"debug\"\npids_limit = 10\n");
  write("/etc/crio/crio.conf.d/20-b.conf", "[crio.runtime]\nlog_level = \"error\"\n");
  write("/etc/crio/crio.conf.d/10-a.conf",
        "[crio.runtime]\nlog_level = \"warn\"\npids_limit = 20\n");
  write("/etc/crio/crio.conf.d/30-ignored.txt", "[crio.runtime]\nlog_level = \"trace\"\n");

  LoadedConfig loaded = load();
  EXPECT_EQ(loaded.config.logLevel, "error");
  EXPECT_EQ(loaded.config.pidsLimit, 20);
  ASSERT_EQ(loaded.filesRead.size(), 3u);
  EXPECT_NE(loaded.filesRead[1].find("10-a.conf"), std::string::npos);
  EXPECT_NE(loaded.filesRead[2].find("20-b.conf"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeysAreWarnings) {
  write("/etc/crio/crio.conf",
        "[crio.runtime]\nno_such_key = 1\n[crio.bogus]\nx = 1\n[other]\ny = 2\n"
        "[crio.runtime]\nselinux = false\n");
  LoadedConfig loaded;
  // Redefining [crio.runtime] is a TOML error; use a valid document instead.
  write("/etc/crio/crio.conf",
        "[crio.runtime]\nno_such_key = 1\nselinux = false\n[crio.bogus]\nx = 1\n[other]\ny = 2\n");
  loaded = load();
  ASSERT_EQ(loaded.warnings.size(), 3u);
  EXPECT_EQ(loaded.warnings[0].key, "other");
  bool sawKey = false, sawTable = false;
  for (const auto& w : loaded.warnings) {
    EXPECT_NE(w.file.find("crio.conf"), std::string::npos);
    if (w.key == "crio.runtime.no_such_key") sawKey = true;
    if (w.key == "crio.bogus") sawTable = true;
  }
  EXPECT_TRUE(sawKey);
  EXPECT_TRUE(sawTable);
}

TEST_F(ConfigTest, WrongTypeNamesFileAndKey) {
  write("/etc/crio/crio.conf.d/50-bad.conf", "[crio.api]\nlisten = 5\n");
  try {
    load();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(message.find("50-bad.conf"), std::string::npos) << message;
    EXPECT_NE(message.find("crio.api.listen"), std::string::npos) << message;
    EXPECT_NE(message.find("expected a string"), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, InvalidValuesAreRejected) {
  const char* cases[] = {
      "[crio.runtime]\ncgroup_manager = \"upstart\"\n",
      "[crio.runtime]\nlog_level = \"loud\"\n",
      "[crio.api]\nlisten = \"relative/path.sock\"\n",
      "[crio.api]\nlisten = \"/run/a\\u0000b.sock\"\n",
      "[crio.api]\nstream_port = \"70000\"\n",
      "[crio.runtime]\nlog_size_max = -5\n",
      "[crio.runtime]\ndefault_capabilities = [\"CHOWN\", 3]\n",
      "[crio.runtime]\ndefault_runtime = \"missing\"\n",
      "[crio.runtime.runtimes.crun]\nruntime_type = \"vm\"\n",
      "[crio.runtime\nbroken",
      "[crio.api]\ngrpc_max_recv_msg_size = 4294967296\n",
      "[crio.suite]\nallowed_peer_uids = [0, 4295032830]\n",
      "[crio.suite]\nallowed_peer_uids = [-1]\n",
      "[crio.metrics]\nmetrics_port = 99999999\n",
  };
  for (const char* text : cases) {
    write("/etc/crio/crio.conf", text);
    EXPECT_THROW(load(), Error) << text;
  }
}

TEST_F(ConfigTest, PullProgressTimeoutTakesDurationsAndSeconds) {
  EXPECT_EQ(load().config.pullProgressTimeout, DEFAULT_PULL_PROGRESS_TIMEOUT);
  write("/etc/crio/crio.conf", "[crio.image]\npull_progress_timeout = \"1m30s\"\n");
  EXPECT_EQ(load().config.pullProgressTimeout, std::chrono::seconds(90));
  write("/etc/crio/crio.conf", "[crio.image]\npull_progress_timeout = 5\n");
  EXPECT_EQ(load().config.pullProgressTimeout, std::chrono::seconds(5));
  write("/etc/crio/crio.conf", "[crio.image]\npull_progress_timeout = \"0s\"\n");
  EXPECT_EQ(load().config.pullProgressTimeout.count(), 0);
  for (const char* bad : {"\"30\"", "\"-5s\"", "\"5x\"", "-1", "true", "\"1..5s\""}) {
    write("/etc/crio/crio.conf", std::string("[crio.image]\npull_progress_timeout = ") + bad);
    EXPECT_THROW(load(), Error) << bad;
  }
}

TEST(Duration, ParsesGoDurations) {
  std::chrono::milliseconds value;
  ASSERT_TRUE(parseDuration("1h2m3.5s", value));
  EXPECT_EQ(value.count(), 3723500);
  ASSERT_TRUE(parseDuration("250ms", value));
  EXPECT_EQ(value.count(), 250);
  ASSERT_TRUE(parseDuration("1500us", value));
  EXPECT_EQ(value.count(), 2);
  ASSERT_TRUE(parseDuration("0", value));
  EXPECT_EQ(value.count(), 0);
  EXPECT_FALSE(parseDuration("", value));
  EXPECT_FALSE(parseDuration("10", value));
  EXPECT_FALSE(parseDuration("1d", value));
  EXPECT_FALSE(parseDuration("999999999999h", value));
}

TEST(Duration, FormatsAsGoDoes) {
  using std::chrono::milliseconds;
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(formatDuration(milliseconds(30000)), "30s");
  EXPECT_EQ(formatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(formatDuration(milliseconds(3600000)), "1h0m0s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1.5s");
  for (int64_t ms : {1, 999, 1001, 61500, 7322000}) {
    milliseconds parsed;
    ASSERT_TRUE(parseDuration(formatDuration(milliseconds(ms)), parsed)) << ms;
    EXPECT_EQ(parsed.count(), ms);
  }
}

TEST_F(ConfigTest, SpecialFilesAreNotRead) {
  // A FIFO must not block the load, and a symlink to a device must not be read without end.
  std::string fifo = root_ + "/etc/crio/crio.conf.d/10-fifo.conf";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", root_ + "/etc/crio/crio.conf.d/20-zero.conf");
  LoadedConfig loaded = load();
  EXPECT_EQ(loaded.filesRead.size(), 0u);
  EXPECT_EQ(loaded.warnings.size(), 2u);
}

TEST_F(ConfigTest, OversizedFileIsRejected) {
  write("/etc/crio/crio.conf", "# " + std::string(MAX_CONFIG_FILE_BYTES, 'x') + "\n");
  EXPECT_THROW(load(), Error);
}

TEST_F(ConfigTest, ExplicitMissingFolderIsAnError) {
  ConfigSources sources;
  sources.paths = Paths(root_);
  sources.dropInDir = root_ + "/absent";
  sources.dropInDirExplicit = true;
  EXPECT_THROW(loadConfig(sources), Error);
}

TEST_F(ConfigTest, RuntimeHandlersMerge) {
  write("/etc/crio/crio.conf", "[crio.runtime.runtimes.crun]\nruntime_path = \"/usr/bin/crun\"\n");
  write("/etc/crio/crio.conf.d/10.conf",
        "[crio.runtime]\ndefault_runtime = \"crun\"\n"
        "[crio.runtime.runtimes.crun]\nruntime_root = \"/run/crun\"\n");
  LoadedConfig loaded = load();
  ASSERT_EQ(loaded.config.runtimes.count("crun"), 1u);
  EXPECT_EQ(loaded.config.runtimes["crun"].runtimePath, "/usr/bin/crun");
  EXPECT_EQ(loaded.config.runtimes["crun"].runtimeRoot, "/run/crun");
  EXPECT_EQ(loaded.config.runtimes.count("runc"), 1u);
  EXPECT_EQ(loaded.config.defaultRuntime, "crun");
}

TEST_F(ConfigTest, ExplicitMissingFileIsAnError) {
  ConfigSources sources;
  sources.paths = Paths(root_);
  sources.file = root_ + "/nope.conf";
  sources.fileExplicit = true;
  EXPECT_THROW(loadConfig(sources), Error);
}

TEST_F(ConfigTest, RenderedConfigLoadsBackToTheSameValues) {
  write("/etc/crio/crio.conf",
        "[crio.image]\npinned_images = [\"a\", \"b\"]\n[crio.suite]\nimaged_user = \"daemon\"\n");
  LoadedConfig loaded = load();
  std::string text = renderConfig(loaded.config);
  Config again = Config::defaults(Paths("/elsewhere"));
  std::vector<ConfigWarning> warnings;
  applyConfigText(again, text, "rendered", warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(again.pinnedImages, loaded.config.pinnedImages);
  EXPECT_EQ(again.imagedUser, "daemon");
  EXPECT_EQ(again.listen, loaded.config.listen);
  EXPECT_EQ(renderConfig(again), text);
}

}  // namespace
}  // namespace crio
