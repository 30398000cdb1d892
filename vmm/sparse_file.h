// The data extents of a sparse file (lseek SEEK_DATA / SEEK_HOLE): what a diff snapshot's
// memory file holds, and what ember-rebase-snap copies onto its base.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"

namespace vmm {

struct Extent {
    uint64_t offset;
    uint64_t length;
};

// The file's data, in order, within [0, size); `what` names the file in errors.
Result<std::vector<Extent>> data_extents(int fd, uint64_t size, const char* what);

}  // namespace vmm
