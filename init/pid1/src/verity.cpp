#include "berth/pid1/verity.hpp"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "berth/parse_integer.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {
namespace {

constexpr const char* kDmControl = "/dev/mapper/control";
// 2^40 blocks of 4 KiB = 4 PiB: beyond any slot, and far from overflowing the byte and sector counts.
constexpr std::uint64_t kMaxBlocks = std::uint64_t{1} << 40;

bool is_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

Result<std::uint64_t> number_word(const std::map<std::string, std::string>& words, const std::string& key,
                                  std::uint64_t min, std::uint64_t max) {
    auto it = words.find(key);
    if (it == words.end()) return fail("kernel command line: berth.verity= needs " + key + "= as well");
    auto value = parse_integer<std::uint64_t>(it->second, min, max);
    if (!value)
        return fail("kernel command line: " + key + "='" + it->second + "' is not a number (" + std::to_string(min) +
                    ".." + std::to_string(max) + ")");
    return *value;
}

}  // namespace

Result<std::optional<VerityParameters>> parse_verity_words(const std::map<std::string, std::string>& words) {
    if (words.empty()) return std::nullopt;
    for (const auto& [key, value] : words)
        if (key != "berth.verity" && key != "berth.verity.salt" && key != "berth.verity.blocks" &&
            key != "berth.verity.hash_offset")
            return fail("kernel command line: unknown word " + key + "= (expected berth.verity, berth.verity.salt, "
                        "berth.verity.blocks, berth.verity.hash_offset)");
    auto root_hash = words.find("berth.verity");
    if (root_hash == words.end())
        return fail("kernel command line: " + words.begin()->first + "= without berth.verity=<root hash>");
    VerityParameters params;
    if (root_hash->second.size() != 64 || !is_hex(root_hash->second))
        return fail("kernel command line: berth.verity='" + root_hash->second + "' is not a sha256 root hash (64 hex digits)");
    params.root_hash = lowercase(root_hash->second);
    auto salt = words.find("berth.verity.salt");
    if (salt == words.end()) return fail("kernel command line: berth.verity= needs berth.verity.salt= as well");
    // "-" is dm-verity's "no salt"; veritysetup allows up to 256 bytes.
    if (salt->second != "-" &&
        (salt->second.empty() || salt->second.size() % 2 != 0 || salt->second.size() > 512 || !is_hex(salt->second)))
        return fail("kernel command line: berth.verity.salt='" + salt->second + "' is not hex bytes (2..512 hex digits, or -)");
    params.salt = lowercase(salt->second);
    params.data_blocks = TRY(number_word(words, "berth.verity.blocks", 1, kMaxBlocks));
    params.hash_offset = TRY(number_word(words, "berth.verity.hash_offset", kVerityBlockSize, kMaxBlocks * 2 * kVerityBlockSize));
    if (params.hash_offset % kVerityBlockSize != 0)
        return fail("kernel command line: berth.verity.hash_offset=" + std::to_string(params.hash_offset) +
                    " is not a multiple of " + std::to_string(kVerityBlockSize));
    if (params.hash_offset < params.data_blocks * kVerityBlockSize)
        return fail("kernel command line: berth.verity.hash_offset=" + std::to_string(params.hash_offset) +
                    " lies inside the data (berth.verity.blocks=" + std::to_string(params.data_blocks) + " ends at byte " +
                    std::to_string(params.data_blocks * kVerityBlockSize) + ")");
    return params;
}

std::string verity_table(const VerityParameters& params, const std::string& device) {
    const std::string block = std::to_string(kVerityBlockSize);
    return "1 " + device + " " + device + " " + block + " " + block + " " + std::to_string(params.data_blocks) + " " +
           std::to_string(params.hash_offset / kVerityBlockSize) + " sha256 " + params.root_hash + " " + params.salt;
}

Result<std::vector<std::uint64_t>> dm_request(const std::string& name, const std::string& uuid, std::uint32_t flags,
                                              const std::optional<DmTarget>& target) {
    if (name.empty() || name.size() >= DM_NAME_LEN) return fail("device-mapper name '" + name + "' is empty or too long");
    if (uuid.size() >= DM_UUID_LEN) return fail("device-mapper uuid '" + uuid + "' is too long");
    size_t size = sizeof(dm_ioctl);
    if (target) {
        if (target->type.size() >= DM_MAX_TYPE_NAME) return fail("device-mapper target type '" + target->type + "' is too long");
        // The parameters follow their spec, NUL-terminated; the next spec would start 8-aligned.
        size += (sizeof(dm_target_spec) + target->parameters.size() + 1 + 7) / 8 * 8;
    }
    // Room for the kernel's answer (it writes the device's name and status back).
    size = std::max(size, sizeof(dm_ioctl) + 1024);
    std::vector<std::uint64_t> buffer((size + 7) / 8, 0);
    auto* bytes = reinterpret_cast<char*>(buffer.data());
    auto* request = reinterpret_cast<dm_ioctl*>(bytes);
    request->version[0] = DM_VERSION_MAJOR;  // the kernel answers with its own; minor 0 = any
    request->data_size = static_cast<std::uint32_t>(buffer.size() * 8);
    request->data_start = sizeof(dm_ioctl);
    request->flags = flags;
    std::memcpy(request->name, name.data(), name.size());
    std::memcpy(request->uuid, uuid.data(), uuid.size());
    if (target) {
        request->target_count = 1;
        auto* spec = reinterpret_cast<dm_target_spec*>(bytes + sizeof(dm_ioctl));
        spec->sector_start = 0;
        spec->length = target->sectors;
        spec->next = static_cast<std::uint32_t>((sizeof(dm_target_spec) + target->parameters.size() + 1 + 7) / 8 * 8);
        std::memcpy(spec->target_type, target->type.data(), target->type.size());
        std::memcpy(bytes + sizeof(dm_ioctl) + sizeof(dm_target_spec), target->parameters.data(), target->parameters.size());
    }
    return buffer;
}

Result<std::string> open_verity_device(const std::string& name, const std::string& data_device,
                                       const VerityParameters& params) {
    struct stat data{};
    if (::stat(data_device.c_str(), &data) != 0 || !S_ISBLK(data.st_mode))
        return fail("dm-verity: " + data_device + " is not a block device");
    const std::string device = std::to_string(major(data.st_rdev)) + ":" + std::to_string(minor(data.st_rdev));
    const std::string uuid = "berth-verity-" + params.root_hash;
    auto control = TRY_CTX(sys::open(kDmControl, O_RDWR | O_CLOEXEC), "dm-verity (are dm_mod and dm_verity loaded?)");

    auto create = TRY(dm_request(name, uuid, 0, std::nullopt));
    TRY(sys::ioctl(control.get(), DM_DEV_CREATE, create.data(), "dm-verity: create device-mapper device '" + name + "'"));
    dev_t created = reinterpret_cast<dm_ioctl*>(create.data())->dev;

    // Verity targets must be read-only; the kernel logs why it refuses a table (size, hash, salt).
    const std::string table = verity_table(params, device);
    auto load = TRY(dm_request(name, "", DM_READONLY_FLAG, DmTarget{params.data_blocks * (kVerityBlockSize / 512), "verity", table}));
    TRY(sys::ioctl(control.get(), DM_TABLE_LOAD, load.data(),
                   "dm-verity: load table '" + table + "' over " + data_device + " (the kernel log above says why)"));
    // A resume (DM_DEV_SUSPEND without DM_SUSPEND_FLAG) makes the loaded table live.
    auto resume = TRY(dm_request(name, "", 0, std::nullopt));
    TRY(sys::ioctl(control.get(), DM_DEV_SUSPEND, resume.data(), "dm-verity: activate device-mapper device '" + name + "'"));

    // devtmpfs made the node (dm-N) when the disk was added; its name is in the device's uevent.
    const std::string dev_dir = "/sys/dev/block/" + std::to_string(major(created)) + ":" + std::to_string(minor(created));
    auto uevent = TRY_CTX(sys::read_file(dev_dir + "/uevent"), "dm-verity: device '" + name + "'");
    auto node = parse_block_uevent(uevent).name;
    if (node.empty()) return fail("dm-verity: no DEVNAME in " + dev_dir + "/uevent");
    return "/dev/" + node;
}

}  // namespace berth::pid1
