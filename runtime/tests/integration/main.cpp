#define CATCH_CONFIG_RUNNER
#include <sys/prctl.h>

#include <catch2/catch.hpp>

#include "skip.hpp"

int main(int argc, char** argv) {
    // Like conmon: containers whose `berth create` exited become our children.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return berth::test::exit_code(Catch::Session().run(argc, argv));
}
