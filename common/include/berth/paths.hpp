// The one list of the image's paths: where Berth keeps its configuration, its state and its
// sockets. Everything in runtime/, init/ and common/ names them through here.
#pragma once

namespace berth::paths {

// /etc/berth: configuration shipped read-only in the image.
inline constexpr const char* kEtc = "/etc/berth";
inline constexpr const char* kServices = "/etc/berth/services";               // the image's manifests
inline constexpr const char* kModules = "/etc/berth/modules";                 // modules loaded before the root is mounted
inline constexpr const char* kModulesLater = "/etc/berth/modules.later";      // modules loaded once the boot has settled

// /usr/lib/berth: read-only data of the image.
inline constexpr const char* kLib = "/usr/lib/berth";
inline constexpr const char* kImages = "/usr/lib/berth/images";               // image "sshd" → kImages/sshd
inline constexpr const char* kSeccompCacheSeed = "/usr/lib/berth/seccomp-cache";  // filters compiled at build time
inline constexpr const char* kUpdateKeys = "/usr/lib/berth/update-keys";      // *.pub: the keys update bundles must be signed with
inline constexpr const char* kCompatible = "/usr/lib/berth/compatible";       // the image family a bundle must name

// /var/lib/berth: state kept across boots (the state partition).
inline constexpr const char* kVarLib = "/var/lib/berth";
inline constexpr const char* kRuntimeServices = "/var/lib/berth/services";    // manifests `berthctl add` writes
inline constexpr const char* kVolumes = "/var/lib/berth/volumes";             // named volumes of the services
inline constexpr const char* kSsh = "/var/lib/berth/ssh";                     // authorized_keys, host keys
inline constexpr const char* kHostConfig = "/var/lib/berth/host-config.toml"; // the last host config applied
inline constexpr const char* kRandomSeed = "/var/lib/berth/random-seed";      // entropy carried to the next boot

// /var/log/berth: the services' log files, written by logd.
inline constexpr const char* kLogs = "/var/log/berth";

// /run/berth: this boot's state (tmpfs); also the `berth` runtime's state root.
inline constexpr const char* kRun = "/run/berth";
inline constexpr const char* kControlSocket = "/run/berth/control.sock";      // berthctl ↔ berth-init
inline constexpr const char* kLogdRun = "/run/berth/logd";                    // logd's sockets
inline constexpr const char* kLogdSocket = "/run/berth/logd/ingest.sock";     // berth-init → logd records
inline constexpr const char* kSyslog = "/run/berth/syslog";                   // the services' /dev/log sockets
inline constexpr const char* kServiceState = "/run/berth/services";           // per service: notify socket
inline constexpr const char* kConfigServices = "/run/berth/config-services";  // manifests from the host config
inline constexpr const char* kNet = "/run/berth/net";                         // netd's files: static, dns, ntp-servers
inline constexpr const char* kSeccompCache = "/run/berth/.seccomp-cache";     // compiled seccomp filters
inline constexpr const char* kEspLock = "/run/berth/esp.lock";                // held by whoever writes the ESP
inline constexpr const char* kBootSlot = "/run/berth/boot-slot";              // the slot this boot came from ("a", "b")
inline constexpr const char* kUserspaceStart = "/run/berth/userspace-start";  // when userspace began (uptime seconds)

// Inside a service's container: its state directory is mounted at /run/berth.
inline constexpr const char* kContainerRun = "/run/berth";
inline constexpr const char* kContainerNotifySocket = "/run/berth/notify.sock";  // $NOTIFY_SOCKET

}  // namespace berth::paths
