// parse_integer: the whole text, in range, or nothing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "berth/parse_integer.hpp"

using berth::parse_integer;

TEST_CASE("parse_integer reads whole decimal numbers", "[unit][common]") {
    CHECK(parse_integer<int>("0") == 0);
    CHECK(parse_integer<int>("42") == 42);
    CHECK(parse_integer<int>("-7") == -7);
    CHECK(parse_integer<int>("2147483647") == 2147483647);
    CHECK(parse_integer<std::uint64_t>("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("parse_integer refuses what is not exactly a number that fits", "[unit][common]") {
    CHECK_FALSE(parse_integer<int>(""));
    CHECK_FALSE(parse_integer<int>(" 1"));
    CHECK_FALSE(parse_integer<int>("+1"));
    CHECK_FALSE(parse_integer<int>("1x"));
    CHECK_FALSE(parse_integer<int>("0x10"));
    CHECK_FALSE(parse_integer<int>("2147483648"));
    CHECK_FALSE(parse_integer<int>("99999999999"));
    CHECK_FALSE(parse_integer<int>(std::string(30, '9')));
    CHECK_FALSE(parse_integer<unsigned>("-1"));
    CHECK_FALSE(parse_integer<std::uint64_t>("18446744073709551616"));
}

TEST_CASE("parse_integer with a range", "[unit][common]") {
    CHECK(parse_integer<int>("1", 1, 64) == 1);
    CHECK(parse_integer<int>("64", 1, 64) == 64);
    CHECK_FALSE(parse_integer<int>("0", 1, 64));
    CHECK_FALSE(parse_integer<int>("65", 1, 64));
}
