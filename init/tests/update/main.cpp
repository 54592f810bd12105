#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "skip.hpp"

int main(int argc, char** argv) { return berth::test::exit_code(Catch::Session().run(argc, argv)); }
