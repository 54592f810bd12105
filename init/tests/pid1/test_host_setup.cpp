// apply_host_config on temporary directories: which source wins, what is written where, that
// the config is kept for later boots, and that a bad config is an error that writes nothing.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "berth/pid1/host_setup.hpp"

using namespace berth::pid1;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    std::string root;
    Scratch() {
        std::string pattern = (fs::temp_directory_path() / "host-setup-XXXXXX").string();
        root = ::mkdtemp(pattern.data());
    }
    ~Scratch() {
        std::error_code ignored;
        fs::remove_all(root, ignored);
    }
    HostSetupPaths paths() const {
        HostSetupPaths p;
        p.sources = {root + "/fw_cfg", root + "/esp.toml"};
        p.saved = root + "/state/host-config.toml";
        p.services_dir = root + "/run/config-services";
        p.ssh_dir = root + "/state/ssh";
        p.net_dir = root + "/run/net";
        return p;
    }
    void write(const std::string& name, const std::string& text) const {
        fs::create_directories(fs::path(root + "/" + name).parent_path());
        std::ofstream(root + "/" + name) << text;
    }
    std::string read(const std::string& name) const {
        std::ifstream in(root + "/" + name);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    bool exists(const std::string& name) const { return fs::exists(root + "/" + name); }
};

}  // namespace

TEST_CASE("without any config the runtime files still exist", "[unit][host-setup]") {
    Scratch s;
    auto result = apply_host_config(s.paths());
    REQUIRE(result);
    CHECK(result->source.empty());
    CHECK(s.exists("run/net/resolv.conf"));
    CHECK(s.exists("run/config-services"));
    CHECK_FALSE(s.exists("state/host-config.toml"));
}

TEST_CASE("fw_cfg wins over the ESP, is applied and kept for later boots", "[unit][host-setup]") {
    Scratch s;
    s.write("fw_cfg",
            "hostname = \"h1\"\n[ssh]\nauthorized_keys = [\"ssh-ed25519 AAAA k1\"]\n"
            "[[network.static]]\ninterface = \"eth0\"\naddress = \"10.0.0.2/24\"\ngateway = \"10.0.0.1\"\n"
            "[services]\nweb = \"[container]\\nimage = \\\"x\\\"\\ncommand = [\\\"/x\\\"]\\n\"\n");
    s.write("esp.toml", "hostname = \"from-esp\"\n");
    s.write("run/config-services/stale.toml", "old");
    auto result = apply_host_config(s.paths());
    REQUIRE(result);
    CHECK(result->source == s.root + "/fw_cfg");
    CHECK(result->config.hostname == "h1");
    CHECK(s.read("state/ssh/authorized_keys") == "ssh-ed25519 AAAA k1\n");
    CHECK(s.read("run/net/static") == "eth0 10.0.0.2/24 10.0.0.1\n");
    CHECK(s.read("run/config-services/web.toml") == "[container]\nimage = \"x\"\ncommand = [\"/x\"]\n");
    CHECK_FALSE(s.exists("run/config-services/stale.toml"));  // extra services follow the config
    CHECK(s.read("state/host-config.toml") == s.read("fw_cfg"));
    CHECK((fs::status(s.root + "/state/ssh/authorized_keys").permissions() & fs::perms::group_all) == fs::perms::none);

    // Next boot, no fw_cfg and no ESP file: the kept copy applies.
    fs::remove(s.root + "/fw_cfg");
    fs::remove(s.root + "/esp.toml");
    auto again = apply_host_config(s.paths());
    REQUIRE(again);
    CHECK(again->source == s.root + "/state/host-config.toml");
    CHECK(again->config.hostname == "h1");
}

TEST_CASE("a config that does not parse is an error naming the source, and is not kept", "[unit][host-setup]") {
    Scratch s;
    s.write("esp.toml", "hostname = \"ok\"\nbogus = 1\n");
    auto result = apply_host_config(s.paths());
    REQUIRE_FALSE(result);
    CHECK(result.error().describe() == s.root + "/esp.toml:2:1: bogus: unknown key");
    CHECK_FALSE(s.exists("state/host-config.toml"));
}
