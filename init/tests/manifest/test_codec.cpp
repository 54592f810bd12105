// The binary form in which the manifest-parsing child hands manifests to PID 1.
#include <catch2/catch.hpp>
#include <cstddef>
#include <utility>

#include "berth/manifest/codec.hpp"

using namespace berth::manifest;

namespace {

// The number of fields of an aggregate: the most initializers its braces take. A field added to
// a manifest struct changes it, and the static_asserts below then ask for fields() to list it.
struct AnyValue {
    template <typename T>
    operator T() const;
};
template <typename T, size_t... I>
constexpr bool takes_initializers(std::index_sequence<I...>) {
    return requires { T{(void(I), AnyValue{})...}; };
}
template <typename T, size_t N = 0>
constexpr size_t field_count() {
    if constexpr (takes_initializers<T>(std::make_index_sequence<N + 1>())) return field_count<T, N + 1>();
    else return N;
}

static_assert(field_count<ServiceManifest>() == 17, "update fields(ServiceManifest&) in codec.hpp, then this count");
static_assert(field_count<ContainerSection>() == 17, "update fields(ContainerSection&) in codec.hpp, then this count");
static_assert(field_count<MountEntry>() == 5, "update fields(MountEntry&) in codec.hpp, then this count");
static_assert(field_count<ResourceLimits>() == 4, "update fields(ResourceLimits&) in codec.hpp, then this count");
static_assert(field_count<Readiness>() == 5, "update fields(Readiness&) in codec.hpp, then this count");
static_assert(field_count<HealthCheck>() == 5, "update fields(HealthCheck&) in codec.hpp, then this count");
static_assert(field_count<RestartSettings>() == 4, "update fields(RestartSettings&) in codec.hpp, then this count");
static_assert(field_count<StopSettings>() == 3, "update fields(StopSettings&) in codec.hpp, then this count");
static_assert(field_count<SourcePosition>() == 2, "update fields(SourcePosition&) in codec.hpp, then this count");
static_assert(field_count<Diagnostic>() == 3, "update fields(Diagnostic&) in codec.hpp, then this count");

// Every field set, none to its default: a field that fields() forgot would come back default.
ServiceManifest everything_set() {
    using std::chrono::milliseconds;
    ServiceManifest m;
    m.name = "web";
    m.file_path = "/etc/berth/services/web.toml";
    m.description = "the web server";
    m.type = ServiceType::Oneshot;
    m.critical = true;
    m.privileged = true;
    m.after = {"logd", "netd"};
    m.required_services = {"db"};
    auto& c = m.container;
    c.image = "web";
    c.command = {"/bin/httpd", "-f"};
    c.args = {"-p", "8080"};
    c.env = {{"A", "1"}, {"B", "two"}};
    c.workdir = "/srv";
    c.user = "www-data";
    c.group = "www";
    c.read_only = false;
    c.hostname = "webhost";
    c.capabilities_add = {"CAP_NET_ADMIN"};
    c.capabilities_drop = {"CAP_CHOWN", "CAP_KILL"};
    c.seccomp = SeccompMode::Profile;
    c.seccomp_profile = "/etc/web.json";
    c.sysctls = {{"net.ipv4.ip_forward", "1"}};
    c.devices = {"/dev/fuse"};
    c.network = NetworkMode::Host;
    c.pid = PidMode::Host;
    m.mounts = {MountEntry{MountType::Volume, "data", "/data", true, {"noexec"}},
                MountEntry{MountType::Tmpfs, "", "/tmp", false, {"size=1m"}}};
    m.resources = ResourceLimits{64 << 20, 0.5, 100, 250};
    m.ready = Readiness{ReadyKind::Tcp, {"/bin/true"}, 8080, "/run/ready", milliseconds(1234)};
    m.health = HealthCheck{{"/bin/check"}, milliseconds(2000), milliseconds(300), 7, milliseconds(4000)};
    m.restart = RestartSettings{RestartPolicy::Always, milliseconds(5), milliseconds(6), milliseconds(7)};
    m.stop = StopSettings{10, "USR1", milliseconds(8)};
    m.warnings = {"web.toml:3:1: privileged: runs privileged"};
    m.positions = {{"container.user", SourcePosition{4, 2}}, {"privileged", SourcePosition{3, 1}}};
    return m;
}

}  // namespace

TEST_CASE("codec: a manifest with every field set comes back the same") {
    ServiceManifest m = everything_set();
    std::string bytes = encode(m);
    auto back = decode<ServiceManifest>(bytes);
    REQUIRE(back);
    CHECK(encode(*back) == bytes);
    // Spot checks of values, so that a codec that dropped fields on both sides would still fail.
    CHECK(back->container.env.at("B") == "two");
    CHECK(back->resources.cpus == 0.5);
    CHECK(back->ready.timeout == std::chrono::milliseconds(1234));
    CHECK(back->health->retries == 7);
    CHECK(back->stop.signal_name == "USR1");
    CHECK(back->positions.at("container.user").column == 2);
    CHECK(back->mounts[1].options == std::vector<std::string>{"size=1m"});
    CHECK(back->container.pid == PidMode::Host);
    CHECK(back->critical);
}

TEST_CASE("codec: vectors of manifests and diagnostics") {
    std::vector<ServiceManifest> many{everything_set(), ServiceManifest{}};
    std::vector<Diagnostic> errors{{"/x.toml", "x", "/x.toml:1:1: bad"}};
    auto back = decode<std::vector<ServiceManifest>>(encode(many));
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK(encode((*back)[1]) == encode(ServiceManifest{}));
    auto diagnostics = decode<std::vector<Diagnostic>>(encode(errors));
    REQUIRE(diagnostics);
    CHECK(diagnostics->at(0).message == "/x.toml:1:1: bad");
}

TEST_CASE("codec: broken input is refused, never trusted") {
    std::string bytes = encode(everything_set());
    SECTION("every truncation") {
        for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode<ServiceManifest>(bytes.substr(0, n)));
    }
    SECTION("bytes left over") { CHECK_FALSE(decode<ServiceManifest>(bytes + "x")); }
    SECTION("a count far beyond the input does not allocate it") {
        std::string huge(4, '\xff');  // the name's length: 4 GiB
        CHECK_FALSE(decode<ServiceManifest>(huge + "abc"));
        CHECK_FALSE(decode<std::vector<ServiceManifest>>(huge));
    }
    SECTION("a bool that is neither 0 nor 1") {
        std::string flag = encode(true);
        flag[0] = 7;
        CHECK_FALSE(decode<bool>(flag));
    }
}
