// An initramfs packed in memory from a host directory (`--initramfs-dir`): the newc cpio format
// Linux unpacks (Documentation/driver-api/early-userspace/buffer-format.rst), every entry owned
// by root, directories before what they hold, names in sorted order (the same tree gives the
// same bytes). Regular files, directories, symlinks, device nodes and FIFOs; anything else, a
// file of 4 GiB or more, or an archive beyond max_size is an error naming the path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vmm::boot {

Result<std::vector<uint8_t>> pack_initramfs_dir(const std::string& dir, uint64_t max_size);

}  // namespace vmm::boot
