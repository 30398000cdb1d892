// Small whole-file reads and writes for /proc, cgroup and jail files, errors naming the path.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vmm::jailer {

Result<std::string> read_text(const std::string& path);
// One write(2) of the whole text (cgroup files take a value per write), no O_CREAT.
Status write_text(const std::string& path, std::string_view text);
// Creates the file (mode 0644), failing if it exists.
Status create_text(const std::string& path, std::string_view text);

}  // namespace vmm::jailer
