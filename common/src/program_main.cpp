// main() of each Berth program: calls its entry function (BERTH_ENTRY, set by CMake's
// berth_program()), so that the same code also links into the image's multi-call binary.
int BERTH_ENTRY(int argc, char** argv);

int main(int argc, char** argv) { return BERTH_ENTRY(argc, argv); }
