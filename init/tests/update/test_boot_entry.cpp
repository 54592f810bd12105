#include <catch2/catch.hpp>

#include "berth/update/boot_entry.hpp"

using namespace berth::update;

TEST_CASE("entry names with and without a boot counter") {
    CHECK(parse_entry_name("berth-b+3.conf") == BootEntryName{"berth-b", 3, std::nullopt});
    CHECK(parse_entry_name("berth-b+2-1.conf") == BootEntryName{"berth-b", 2, 1});
    CHECK(parse_entry_name("berth-a+0-3.conf") == BootEntryName{"berth-a", 0, 3});
    CHECK(parse_entry_name("berth-a.conf") == BootEntryName{"berth-a", std::nullopt, std::nullopt});
    CHECK(parse_entry_name("\\loader\\entries\\berth-a+1-2.conf") == BootEntryName{"berth-a", 1, 2});
    CHECK(parse_entry_name("/efi/loader/entries/berth-a+1.conf") == BootEntryName{"berth-a", 1, std::nullopt});
}

TEST_CASE("a '+' without a well-formed counter is part of the name") {
    CHECK(parse_entry_name("berth+x.conf") == BootEntryName{"berth+x", std::nullopt, std::nullopt});
    CHECK(parse_entry_name("berth-a+2-.conf") == BootEntryName{"berth-a+2-", std::nullopt, std::nullopt});
    CHECK(parse_entry_name("berth-a+-1.conf") == BootEntryName{"berth-a+-1", std::nullopt, std::nullopt});
    CHECK(parse_entry_name("berth-a+99999999999.conf")->tries_left == std::nullopt);
    CHECK_FALSE(parse_entry_name("berth-a+3.conf.new"));
    CHECK_FALSE(parse_entry_name("+3.conf"));
    CHECK_FALSE(parse_entry_name(".conf"));
}

TEST_CASE("the blessed name drops the counter, and names round-trip") {
    auto entry = *parse_entry_name("berth-b+2-1.conf");
    CHECK(blessed_file_name(entry) == "berth-b.conf");
    CHECK(entry_file_name(entry) == "berth-b+2-1.conf");
    CHECK(entry_file_name(*parse_entry_name("berth-b+3.conf")) == "berth-b+3.conf");
    CHECK(entry_file_name(*parse_entry_name("berth-b.conf")) == "berth-b.conf");
    CHECK(tries_spent(*parse_entry_name("berth-a+0-2.conf")));
    CHECK_FALSE(tries_spent(*parse_entry_name("berth-a+1-1.conf")));
    CHECK_FALSE(tries_spent(*parse_entry_name("berth-a.conf")));
}

TEST_CASE("is there another slot to fall back to?") {
    CHECK(other_slot_can_boot({"berth-a+0-2.conf", "berth-b.conf"}, "a"));
    CHECK(other_slot_can_boot({"berth-a+0-2.conf", "berth-b+1-1.conf"}, "a"));
    CHECK_FALSE(other_slot_can_boot({"berth-a+0-2.conf", "berth-b+0-3.conf"}, "a"));
    CHECK_FALSE(other_slot_can_boot({"berth-a+0-2.conf"}, "a"));
    CHECK_FALSE(other_slot_can_boot({"berth-a+0-2.conf", "berth-a.conf.new", "debian.conf"}, "a"));
}

TEST_CASE("the slot of an entry") {
    CHECK(slot_of_entry("berth-a") == "a");
    CHECK(slot_of_entry("berth-b2") == "b2");
    CHECK(slot_of_entry("berth-") == "");
    CHECK(slot_of_entry("debian-a") == "");
    CHECK(slot_of_entry("berth-A") == "");
}

TEST_CASE("LoaderBootCountPath as efivarfs gives it: attributes, then UTF-16LE with a NUL") {
    auto utf16 = [](std::string_view ascii, bool nul) {
        std::string out("\x06\x00\x00\x00", 4);
        for (char c : ascii) out += std::string{c, '\0'};
        if (nul) out += std::string("\0\0", 2);
        return out;
    };
    CHECK(parse_efi_string_variable(utf16("\\loader\\entries\\berth-a+2-1.conf", true)) ==
          "\\loader\\entries\\berth-a+2-1.conf");
    CHECK(parse_efi_string_variable(utf16("abc", false)) == "abc");
    CHECK_FALSE(parse_efi_string_variable(utf16("", true)));
    CHECK_FALSE(parse_efi_string_variable(std::string("\x06\x00\x00", 3)));
    CHECK_FALSE(parse_efi_string_variable(utf16("abc", true) + "x"));  // odd length
    CHECK_FALSE(parse_efi_string_variable(std::string("\x06\x00\x00\x00\x41\x01\x00\x00", 8)));  // not ASCII
}

TEST_CASE("versions from an entry file and from os-release") {
    CHECK(entry_version("title Berth (slot b)\nversion 0.1.0~fallback\nlinux /berth/b/vmlinuz\n") == "0.1.0~fallback");
    CHECK(entry_version("title x\r\nversion\t0.2.0  \r\n") == "0.2.0");
    CHECK(entry_version("versionx 1\n") == "");
    CHECK(entry_version("title x\n") == "");
    CHECK(os_release_version("NAME=Berth\nVERSION_ID=0.2.0\n") == "0.2.0");
    CHECK(os_release_version("NAME=Berth\nVERSION_ID=\"0.3.1\"\n") == "0.3.1");
    CHECK(os_release_version("NAME=Berth\n") == "");
}
