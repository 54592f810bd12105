// Writing bundles (the image build's side): hash the parts, sign the manifest, stream it all out.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/update/bundle.hpp"

namespace berth::update {

// The dm-verity facts of a slot image, as the image build writes them (image/root.verity:
// key=value lines; only root_hash and salt matter here, the rest are for the boot entry).
struct VerityFacts {
    std::string root_hash, salt;
};
Result<VerityFacts> parse_verity_facts(std::string_view text, std::string_view source);

// Writes `out` (through a temporary file and a rename): `manifest` with each part's size and
// SHA-256 filled in from `part_files` (root, kernel, initramfs), signed by every key in `keys`.
Result<BundleManifest> write_bundle(BundleManifest manifest, const std::array<std::string, 3>& part_files,
                                    const std::vector<SecretKey>& keys, const std::string& out);

}  // namespace berth::update
