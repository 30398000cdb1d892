// CLI11's parse as ember and ember-jailer both end it: help and version printed, a usage error
// as one "<program>: error: ..." line.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vmm/lifecycle.h"

namespace vmm {

// The exit status to stop with, or nothing when the command line parsed.
inline std::optional<int> parse_or_exit_status(CLI::App& app, int argc, char** argv, const char* program) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return exit_status::USAGE;
    }
    return std::nullopt;
}

}  // namespace vmm
