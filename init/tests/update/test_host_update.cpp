// The host's view of updates: what status says after an apply was cut off.
#include <catch2/catch.hpp>

#include "berth/update/host_update.hpp"

using namespace berth::update;

namespace {

nlohmann::json started_in_slot_b() {
    BundleManifest m;
    m.version = "0.3.0";
    return in_progress_record({{"action", "apply"}, {"slot", "b"}, {"from_version", "0.2.0"}}, m, "a");
}

std::vector<SlotView> slots_with_b(std::string entry, std::string version) {
    return {SlotView{"a", "berth-a.conf", "0.2.0", std::nullopt, std::nullopt, true},
            SlotView{"b", std::move(entry), std::move(version), 3, 0, true}};
}

}  // namespace

TEST_CASE("status after a cut-off apply says how far it got, from the target slot's entry") {
    auto record = started_in_slot_b();
    CHECK(record["outcome"] == "in-progress");
    CHECK(record["version"] == "0.3.0");

    auto cleared = last_update_view(record, slots_with_b("", ""));
    CHECK(cleared["outcome"] == "interrupted");
    CHECK(cleared["interrupted"] == true);
    CHECK(cleared["slot_state"] == "no bootable system until the next update");
    CHECK_THAT(cleared["reason"].get<std::string>(), Catch::Contains("while it wrote slot b") && Catch::Contains("slot a was not touched"));

    auto untouched = last_update_view(record, slots_with_b("berth-b.conf", "0.1.0"));
    CHECK(untouched["outcome"] == "interrupted");
    CHECK(untouched["slot_state"] == "unchanged");
    CHECK_THAT(untouched["reason"].get<std::string>(), Catch::Contains("before it changed slot b, which still holds 0.1.0"));

    auto complete = last_update_view(record, slots_with_b("berth-b+3.conf", "0.3.0"));
    CHECK(complete["outcome"] == "installed");
    CHECK_THAT(complete["reason"].get<std::string>(), Catch::Contains("0.3.0 was installed completely"));

    nlohmann::json finished = {{"outcome", "installed"}, {"version", "0.3.0"}};
    CHECK(last_update_view(finished, slots_with_b("", "")) == finished);
    CHECK(last_update_view(nullptr, {}).is_null());
}
