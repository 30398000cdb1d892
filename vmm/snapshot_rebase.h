// A diff snapshot's memory file holds only the pages written since the snapshot before it
// (the rest are holes). Rebasing copies those pages onto the earlier snapshot's memory file,
// which then restores with the diff's state file; a chain of diffs is applied in order,
// oldest first. Firecracker's rebase-snap does the same to its files.
#pragma once

#include <string>

#include "base/result.h"

namespace vmm {

// The data of `diff_path` written over `base_path` in place (both the same size), then synced.
Status rebase_memory_file(const std::string& base_path, const std::string& diff_path);

}  // namespace vmm
