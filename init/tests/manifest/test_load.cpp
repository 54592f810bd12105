// load_directories: one bad manifest is reported and skipped, everything else still loads;
// requirements on skipped services and cycles are reported too.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace berth::manifest;
using namespace berth::manifest::test;
using Strings = std::vector<std::string>;

namespace {

const std::string kApp = "[container]\nimage = \"app\"\ncommand = [\"/bin/app\"]\n";

Strings names(const LoadReport& report) {
    Strings out;
    for (const auto& s : report.services) out.push_back(s.name);
    return out;
}

Strings messages(const LoadReport& report) {
    Strings out;
    for (const auto& e : report.errors) out.push_back(e.message);
    return out;
}

}  // namespace

TEST_CASE("one bad manifest among good ones is reported and skipped", "[unit][manifest][load]") {
    TempDir dir;
    std::string d = dir.path() + "/services";
    dir.write("services/ntp.toml", kApp);
    dir.write("services/sshd.toml", kApp);
    dir.write("services/syslog.toml", kApp + "[restart]\npolicy = \"sometimes\"\n");
    dir.write("services/README.md", "not a manifest");
    dir.write("services/subdir.toml/x", "a directory named like a manifest");
    LoadReport report = load_directories({d});
    CHECK(names(report) == Strings{"ntp", "sshd"});
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors[0].file == d + "/syslog.toml");
    CHECK(report.errors[0].service == "syslog");
    CHECK(report.errors[0].message == d +
                                          "/syslog.toml:5:10: restart.policy: unknown value 'sometimes' (expected "
                                          "\"no\", \"on-failure\" or \"always\")");
    CHECK(format_diagnostics(report) == report.errors[0].message + "\n2 services loaded, 1 error\n");
}

TEST_CASE("services that require a skipped or missing one are skipped too", "[unit][manifest][load]") {
    TempDir dir;
    std::string d = dir.path();
    dir.write("db.toml", "[container]\nimage = 1\n");
    dir.write("web.toml", "requires = [\"db\"]\n" + kApp);
    dir.write("proxy.toml", "requires = [\"web\"]\n" + kApp);
    dir.write("metrics.toml", "after = [\"web\"]\nrequires = [\"exporter\"]\n" + kApp);
    dir.write("cron.toml", "after = [\"web\", \"gone\"]\n" + kApp);  // after only orders
    LoadReport report = load_directories({d});
    CHECK(names(report) == Strings{"cron"});
    CHECK(messages(report) ==
          Strings{d + "/db.toml:2:9: container.image: expected a string, got an integer",
                  d + "/metrics.toml: service 'metrics' requires 'exporter', which does not exist",
                  d + "/web.toml: service 'web' requires 'db', which failed to load",
                  d + "/proxy.toml: service 'proxy' requires 'web', which was skipped"});
}

TEST_CASE("services on a cycle are skipped, the others kept", "[unit][manifest][load]") {
    TempDir dir;
    std::string d = dir.path();
    dir.write("a.toml", "after = [\"b\"]\n" + kApp);
    dir.write("b.toml", "requires = [\"c\"]\n" + kApp);
    dir.write("c.toml", "after = [\"a\"]\n" + kApp);
    dir.write("d.toml", "requires = [\"a\"]\n" + kApp);
    dir.write("e.toml", "after = [\"a\"]\n" + kApp);
    dir.write("f.toml", kApp);
    LoadReport report = load_directories({d});
    CHECK(names(report) == Strings{"e", "f"});
    CHECK(messages(report) == Strings{d + "/a.toml: service 'a' is on a dependency cycle: a -> b -> c -> a",
                                      d + "/b.toml: service 'b' is on a dependency cycle: a -> b -> c -> a",
                                      d + "/c.toml: service 'c' is on a dependency cycle: a -> b -> c -> a",
                                      d + "/d.toml: service 'd' requires 'a', which was skipped"});
    CHECK(start_order(report.services));  // what is left always has an order
}

TEST_CASE("later directories override earlier ones, a broken override keeps the earlier", "[unit][manifest][load]") {
    TempDir dir;
    std::string etc = dir.path() + "/etc";
    std::string var = dir.path() + "/var";
    dir.write("etc/sshd.toml", kApp + "hostname = \"from-etc\"\n");
    dir.write("etc/ntp.toml", kApp + "hostname = \"from-etc\"\n");
    dir.write("etc/dns.toml", kApp + "hostname = \"from-etc\"\n");
    dir.write("var/ntp.toml", kApp + "hostname = \"from-var\"\n");
    dir.write("var/sshd.toml", kApp + "hostnmae = \"broken\"\n");
    dir.write("var/extra.toml", kApp);
    LoadReport report = load_directories({etc, var, dir.path() + "/does-not-exist"});
    CHECK(names(report) == Strings{"dns", "extra", "ntp", "sshd"});
    CHECK(report.services[2].container.hostname == "from-var");
    CHECK(report.services[2].file_path == var + "/ntp.toml");
    CHECK(report.services[3].container.hostname == "from-etc");
    CHECK(messages(report) == Strings{var + "/sshd.toml:4:1: container.hostnmae: unknown key; did you mean "
                                            "'hostname'? (keeping " + etc + "/sshd.toml)"});
}

TEST_CASE("a valid override heals a broken earlier file", "[unit][manifest][load]") {
    TempDir dir;
    dir.write("etc/web.toml", "broken = true\n" + kApp);
    dir.write("var/web.toml", kApp);
    dir.write("var/proxy.toml", "requires = [\"web\"]\n" + kApp);
    LoadReport report = load_directories({dir.path() + "/etc", dir.path() + "/var"});
    CHECK(names(report) == Strings{"proxy", "web"});
    CHECK(report.errors.size() == 1);  // the broken file is still worth fixing
}

TEST_CASE("unreadable directories and files are reported", "[unit][manifest][load]") {
    TempDir dir;
    std::string file = dir.write("not-a-dir", "x");
    LoadReport report = load_directories({file});
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors[0].message == "cannot list '" + file + "': Not a directory");
    CHECK(format_diagnostics(report) == report.errors[0].message + "\nno services loaded, 1 error\n");

    LoadReport empty = load_directories({});
    CHECK(empty.errors.empty());
    CHECK(format_diagnostics(empty) == "no services loaded, no errors\n");
}

TEST_CASE("format_diagnostics: errors, then warnings, then the summary", "[unit][manifest][load]") {
    TempDir dir;
    std::string d = dir.path();
    dir.write("udev.toml", "privileged = true\n" + kApp);
    dir.write("bad.toml", "type = \"daemon\"\n" + kApp);
    LoadReport report = load_directories({d});
    CHECK(format_diagnostics(report) ==
          d + "/bad.toml:1:8: type: unknown value 'daemon' (expected \"service\" or \"oneshot\")\n"
              "warning: " + d + "/udev.toml:1:14: privileged: service 'udev' runs privileged: every capability, "
              "no seccomp filter, the host's devices, writable /sys and /proc\n"
              "1 service loaded, 1 error\n");
}
