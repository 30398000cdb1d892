// Ember's log: stderr from the start ("ember: level: message"); a file or named pipe can be
// added while it runs (the API's PUT /logger, a config file's "logger"). Thread-safe.
#pragma once

#include <string>

#include <spdlog/common.h>

#include "base/result.h"

namespace vmm::logging {

void init(spdlog::level::level_enum level);
void set_level(spdlog::level::level_enum level);
// Appends to PATH (created if missing; a FIFO is opened without blocking); replaces an
// earlier file. show_level prefixes each line with its level, as Firecracker's logger does.
Status log_to_file(const std::string& path, bool show_level);

}  // namespace vmm::logging
