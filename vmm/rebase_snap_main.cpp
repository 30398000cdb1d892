// ember-rebase-snap --base-file BASE --diff-file DIFF: applies a diff snapshot's memory file to
// the memory file of the snapshot it was taken after (snapshot_rebase.h), as Firecracker's
// rebase-snap does. Exit 0, or 1 with one line naming the problem.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vmm/snapshot_rebase.h"

int main(int argc, char** argv) {
    CLI::App app{"Writes a diff snapshot's memory pages over its base snapshot's memory file"};
    std::string base, diff;
    app.add_option("--base-file", base, "The earlier snapshot's memory file (updated in place)")->required();
    app.add_option("--diff-file", diff, "The diff snapshot's memory file")->required();
    CLI11_PARSE(app, argc, argv);
    const auto done = vmm::rebase_memory_file(base, diff);
    if (!done.ok()) {
        fmt::print(stderr, "ember-rebase-snap: error: {}\n", done.error().message());
        return 1;
    }
    return 0;
}
