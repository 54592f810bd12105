// unix_socket_address: a path that does not fit is refused, never cut short.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <string>

#include "berth/sys.hpp"

using berth::sys::unix_socket_address;

TEST_CASE("socket paths that fit become addresses of their exact length", "[unit][common][socket]") {
    auto address = unix_socket_address("/run/berth/control.sock");
    REQUIRE(address);
    CHECK(address->first.sun_family == AF_UNIX);
    CHECK(std::string(address->first.sun_path) == "/run/berth/control.sock");
    CHECK(address->second == offsetof(sockaddr_un, sun_path) + 23);

    const std::string longest(107, 'x');
    REQUIRE(unix_socket_address(longest));
    CHECK(std::string(unix_socket_address(longest)->first.sun_path) == longest);
}

TEST_CASE("abstract socket names start with a NUL byte", "[unit][common][socket]") {
    auto address = unix_socket_address("@berth-notify");
    REQUIRE(address);
    CHECK(address->first.sun_path[0] == '\0');
    CHECK(std::string(address->first.sun_path + 1) == "berth-notify");
    CHECK(address->second == offsetof(sockaddr_un, sun_path) + 13);
}

TEST_CASE("empty and too long socket paths are refused", "[unit][common][socket]") {
    CHECK(unix_socket_address("").error().describe() == "socket path is empty");
    const std::string too_long = "/" + std::string(107, 'x');
    CHECK(unix_socket_address(too_long).error().describe() ==
          "socket path '" + too_long + "' is too long (108 bytes, at most 107)");
    CHECK(berth::sys::connect_unix(too_long, SOCK_STREAM).error().describe() ==
          "socket path '" + too_long + "' is too long (108 bytes, at most 107)");
}
