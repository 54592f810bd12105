// Users and groups come from the image's own /etc/passwd and /etc/group, never the host's.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "berth/manifest/users.hpp"
#include "fixtures.hpp"

using namespace berth::manifest;
using namespace berth::manifest::test;

TEST_CASE("passwd and group lines parse, junk lines are skipped", "[unit][manifest][users]") {
    auto users = parse_passwd("root:x:0:0:root:/root:/bin/sh\n# comment\n\nbad\nx:x:notanumber:0::/:\n"
                              "app:x:1000:100::/home/app:/bin/sh\r\nshort:x:5:6\n");
    REQUIRE(users.size() == 3);
    CHECK(users[0].name == "root");
    CHECK(users[1].name == "app");
    CHECK(users[1].uid == 1000);
    CHECK(users[1].gid == 100);
    CHECK(users[1].home == "/home/app");
    CHECK(users[2].home == "/");  // no home field

    auto groups = parse_group("wheel:x:10:alice,bob\nempty:x:11:\nnomembers:x:12\n:x:13:\n");
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].members == std::vector<std::string>{"alice", "bob"});
    CHECK(groups[1].members.empty());
    CHECK(groups[2].gid == 12);
}

TEST_CASE("numeric ids are plain decimal uint32 values", "[unit][manifest][users]") {
    CHECK(parse_id("0") == 0u);
    CHECK(parse_id("4294967295") == 4294967295u);
    CHECK_FALSE(parse_id("4294967296"));
    CHECK_FALSE(parse_id("-1"));
    CHECK_FALSE(parse_id("12a"));
    CHECK_FALSE(parse_id(""));
    CHECK_FALSE(parse_id("+5"));
}

TEST_CASE("users resolve by name or uid inside the image", "[unit][manifest][users]") {
    FakeImages images;
    auto root = resolve_user(images.app_root, "");
    REQUIRE(root);
    CHECK(root->uid == 0);
    CHECK(root->gid == 0);
    CHECK(root->home == "/root");

    auto app = resolve_user(images.app_root, "app");
    REQUIRE(app);
    CHECK(app->uid == 1000);
    CHECK(app->gid == 1000);
    CHECK(app->home == "/home/app");
    CHECK(app->additional_gids == std::vector<uint32_t>{29, 44});  // audio, video

    auto by_uid = resolve_user(images.app_root, "33");
    REQUIRE(by_uid);
    CHECK(by_uid->gid == 33);
    CHECK(by_uid->additional_gids == std::vector<uint32_t>{29});

    // A uid the image does not list is fine, as in Docker: group 0, home "/".
    auto unlisted = resolve_user(images.app_root, "4242");
    REQUIRE(unlisted);
    CHECK(unlisted->uid == 4242);
    CHECK(unlisted->gid == 0);
    CHECK(unlisted->home == "/");
    CHECK(unlisted->additional_gids.empty());

    CHECK(resolve_user(images.app_root, "mysql").error().message ==
          "unknown user 'mysql' (not in " + images.app_root + "/etc/passwd)");
}

TEST_CASE("groups resolve by name or gid inside the image", "[unit][manifest][users]") {
    FakeImages images;
    CHECK(*resolve_group(images.app_root, "video") == 44);
    CHECK(*resolve_group(images.app_root, "777") == 777);
    CHECK(resolve_group(images.app_root, "wheel").error().message ==
          "unknown group 'wheel' (not in " + images.app_root + "/etc/group)");
}

TEST_CASE("an image without passwd still runs numeric users", "[unit][manifest][users]") {
    TempDir dir;
    dir.write("empty/bin/placeholder", "");
    CHECK(resolve_user(dir.path() + "/empty", "")->uid == 0);
    CHECK(resolve_user(dir.path() + "/empty", "1000")->uid == 1000);
    CHECK(resolve_user(dir.path() + "/empty", "app").error().message ==
          "unknown user 'app' (not in " + dir.path() + "/empty/etc/passwd)");
}

TEST_CASE("symlinks in the image resolve inside the image, never on the host", "[unit][manifest][users]") {
    TempDir dir;
    // etc/passwd -> /etc/real-passwd: must read <image>/etc/real-passwd, not the host's.
    dir.write("linked/etc/real-passwd", "svc:x:777:778::/srv:/bin/sh\n");
    REQUIRE(::symlink("/etc/real-passwd", (dir.path() + "/linked/etc/passwd").c_str()) == 0);
    auto svc = resolve_user(dir.path() + "/linked", "svc");
    REQUIRE(svc);
    CHECK(svc->uid == 777);

    // An absolute link to /etc/passwd would be the host's file if followed naively; here it
    // is a loop inside the image, and reading it is refused.
    dir.write("loop/etc/group", "");
    REQUIRE(::symlink("/etc/passwd", (dir.path() + "/loop/etc/passwd").c_str()) == 0);
    auto looped = resolve_user(dir.path() + "/loop", "root");
    REQUIRE_FALSE(looped);
    CHECK(looped.error().message == "cannot read '" + dir.path() + "/loop/etc/passwd'");
    CHECK(looped.error().errnum == ELOOP);
}
