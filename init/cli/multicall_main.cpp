// The image's multi-call binary: one copy of the code for berth-init, berthctl, logd, the
// update job and the berth runtime, chosen by the name it runs as (argv[0]), like BusyBox.
#include <cstring>
#include <string_view>

int berth_init_main(int argc, char** argv);
int berthctl_main(int argc, char** argv);
int logd_main(int argc, char** argv);
int berth_runtime_main(int argc, char** argv);
int berth_update_main(int argc, char** argv);

int main(int argc, char** argv) {
    std::string_view name = argc > 0 ? argv[0] : "berth";
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    if (name == "berth-init" || name == "init") return berth_init_main(argc, argv);
    if (name == "berthctl") return berthctl_main(argc, argv);
    if (name == "logd") return logd_main(argc, argv);
    if (name == "berth-update") return berth_update_main(argc, argv);
    return berth_runtime_main(argc, argv);
}
