// Hostile sizes: nesting that would overflow toml++'s stack, text beyond 1 MiB and lists that
// would make checks slow are refused with a located error, for manifests and the host config.
#include <csignal>

#include <catch2/catch.hpp>

#include "berth/manifest/host_config.hpp"
#include "fixtures.hpp"

using namespace berth::manifest;
using namespace berth::manifest::test;

namespace {

const std::string kMinimal = "[container]\nimage = \"app\"\ncommand = [\"/bin/app\"]\n";

std::string host_config_error(const std::string& text) {
    auto config = parse_host_config(text, "host.toml");
    if (config) return "<parsed>";
    return config.error().describe();
}

std::string repeated(const std::string& part, std::size_t count) {
    std::string out;
    out.reserve(part.size() * count);
    for (std::size_t i = 0; i < count; ++i) out += part;
    return out;
}

std::string dotted_key(std::size_t parts) { return "a" + repeated(".a", parts - 1); }

// Every way TOML nests, `depth` levels deep, as a key of the top level.
struct Nesting {
    const char* kind;
    std::string (*text)(std::size_t depth);
};
const Nesting kNestings[] = {
    {"dotted key", [](std::size_t depth) { return dotted_key(depth) + " = 1\n"; }},
    {"table header", [](std::size_t depth) { return "[" + dotted_key(depth) + "]\n"; }},
    {"array of tables header", [](std::size_t depth) { return "[[" + dotted_key(depth) + "]]\n"; }},
    {"inline table", [](std::size_t depth) { return "a = " + repeated("{a=", depth) + "1" + std::string(depth, '}') + "\n"; }},
    {"array", [](std::size_t depth) { return "a = " + std::string(depth, '[') + std::string(depth, ']') + "\n"; }},
    {"unclosed array", [](std::size_t depth) { return "a = " + std::string(depth, '['); }},
};

}  // namespace

TEST_CASE("deep nesting of every kind is refused, not a stack overflow", "[unit][manifest][limits]") {
    for (const auto& nesting : kNestings) {
        for (std::size_t depth : {10000, 300000}) {
            INFO(nesting.kind << ", " << depth << " deep");
            const std::string text = nesting.text(depth);
            const std::string manifest_error = parse_error(text + kMinimal);
            const std::string host_error = host_config_error(text);
            const bool dotted = nesting.kind == std::string("dotted key") || std::string(nesting.kind).ends_with("header");
            if (text.size() > 1024 * 1024) {  // 4 bytes a level ({a=}): the size limit comes first
                CHECK(manifest_error == "svc.toml: " + std::to_string(text.size() + kMinimal.size()) +
                                            " bytes, more than the 1048576 allowed");
                CHECK(host_error == "host.toml: " + std::to_string(text.size()) + " bytes, more than the 1048576 allowed");
                continue;
            }
            if (dotted) {
                CHECK(manifest_error.ends_with(": a dotted key of more than 32 parts"));
                CHECK(host_error.ends_with(": a dotted key of more than 32 parts"));
            } else {
                CHECK(manifest_error.ends_with(": nested deeper than 32 levels of [ and {"));
                CHECK(host_error.ends_with(": nested deeper than 32 levels of [ and {"));
            }
            CHECK(manifest_error.starts_with("svc.toml:1:"));
            CHECK(host_error.starts_with("host.toml:1:"));
        }
    }
}

TEST_CASE("the limits name the line and column where they are crossed", "[unit][manifest][limits]") {
    CHECK(parse_error(kMinimal + "x = " + std::string(33, '[')) == "svc.toml:4:37: nested deeper than 32 levels of [ and {");
    CHECK(parse_error(kMinimal + dotted_key(33) + " = 1") == "svc.toml:4:64: a dotted key of more than 32 parts");
    CHECK(host_config_error("\n\n  [" + dotted_key(40) + "]") == "host.toml:3:67: a dotted key of more than 32 parts");
}

TEST_CASE("nesting within the limits still reaches toml++ and its checks", "[unit][manifest][limits]") {
    // 32 levels are allowed; what is wrong then is the unknown key.
    CHECK(parse_error("x = " + std::string(32, '[') + std::string(32, ']') + "\n" + kMinimal) ==
          "svc.toml:1:1: x: unknown key");
    CHECK(parse_error(dotted_key(32) + " = 1\n" + kMinimal) == "svc.toml:1:1: a: unknown key");
    CHECK(host_config_error("[" + dotted_key(32) + "]") == "host.toml:1:2: a: unknown key");
}

TEST_CASE("brackets, braces and dots in strings and comments do not count", "[unit][manifest][limits]") {
    const std::string deep = std::string(100, '[') + std::string(100, '{') + repeated(".", 100);
    ServiceManifest m = parse_ok("description = \"" + deep + "\"  # " + deep + "\n" + kMinimal +
                                 "args = ['" + deep + "', \"\"\"" + deep + "\\\"\"\"\"\", '''" + deep + "'''']\n");
    CHECK(m.description == deep);
    CHECK(m.container.args == std::vector<std::string>{deep, deep + "\"\"", deep + "'"});
    CHECK(parse_ok(kMinimal + "env = { A = \"1.5\", B = \"x.y.z\" }\n").container.env.size() == 2);
    CHECK(parse_ok("description = \"a\\\"[[[\"\n" + kMinimal).description == "a\"[[[");
}

TEST_CASE("text over 1 MiB is refused before parsing", "[unit][manifest][limits]") {
    const std::string comment = "# " + std::string(1024 * 1024, 'x') + "\n";
    CHECK(parse_error(comment + kMinimal) == "svc.toml: " + std::to_string(comment.size() + kMinimal.size()) +
                                                 " bytes, more than the 1048576 allowed");
    CHECK(host_config_error(comment) == "host.toml: 1048579 bytes, more than the 1048576 allowed");
    const std::string padding = "# " + std::string(1024 * 1024 - kMinimal.size() - 3, 'x') + "\n";
    CHECK(parse_ok(padding + kMinimal).container.image == "app");
}

TEST_CASE("requires and after take at most 256 names", "[unit][manifest][limits]") {
    auto names = [](std::size_t count) {
        std::string list = "[";
        for (std::size_t i = 0; i < count; ++i) list += (i ? ", \"s" : "\"s") + std::to_string(i) + "\"";
        return list + "]";
    };
    CHECK(parse_ok("requires = " + names(256) + "\n" + kMinimal).required_services.size() == 256);
    CHECK(parse_error("requires = " + names(257) + "\n" + kMinimal) ==
          "svc.toml:1:12: requires: 257 entries, more than the 256 allowed");
    CHECK(parse_error("after = " + names(50000) + "\n" + kMinimal) ==
          "svc.toml:1:9: after: 50000 entries, more than the 256 allowed");
    CHECK(parse_error(kMinimal + "args = " + names(1025) + "\n") ==
          "svc.toml:4:8: container.args: 1025 entries, more than the 1024 allowed");
}

TEST_CASE("arrays of tables take at most 1024 entries", "[unit][manifest][limits]") {
    CHECK(host_config_error(repeated("[[network.static]]\ninterface = \"e\"\naddress = \"10.0.0.1/8\"\n", 1025)) ==
          "host.toml:1:11: network.static: 1025 entries, more than the 1024 allowed");
    CHECK(parse_error(kMinimal + repeated("[[mount]]\ntype = \"tmpfs\"\ntarget = \"/t\"\n", 1025)) ==
          "svc.toml:4:3: mount: 1025 entries, more than the 1024 allowed");
}

TEST_CASE("the stop signal comes from the one signal table", "[unit][manifest][limits]") {
    CHECK(parse_ok("[stop]\nsignal = \"SEGV\"\n" + kMinimal).stop.signal == SIGSEGV);
    CHECK(parse_ok("[stop]\nsignal = \"SIGSEGV\"\n" + kMinimal).stop.signal_name == "SEGV");
    CHECK(parse_ok("[stop]\nsignal = \"RTMIN+2\"\n" + kMinimal).stop.signal == SIGRTMIN + 2);
    CHECK(parse_ok("[stop]\nsignal = \"9\"\n" + kMinimal).stop.signal_name == "KILL");
    CHECK(parse_error("[stop]\nsignal = \"99999999999\"\n" + kMinimal) ==
          "svc.toml:2:10: stop.signal: invalid signal number 99999999999 (expected 1-64)");
    CHECK(parse_error("[stop]\nsignal = \"TREM\"\n" + kMinimal) ==
          "svc.toml:2:10: stop.signal: unknown signal 'TREM'; did you mean 'TERM'?");
    CHECK(parse_error("[stop]\nsignal = \"HPU\"\n" + kMinimal) ==
          "svc.toml:2:10: stop.signal: unknown signal 'HPU'; did you mean 'HUP'?");
    // Any case, as berth kill and berthctl kill have always taken it.
    CHECK(parse_ok("[stop]\nsignal = \"sigsegv\"\n" + kMinimal).stop.signal_name == "SEGV");
}
