// Reading a kernel or initramfs file whole, with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vmm::boot {

// `what` names the role in messages: "kernel 'path': No such file or directory".
// Rejects directories, empty files and files larger than max_size.
Result<std::vector<uint8_t>> read_image_file(const std::string& path, const char* what,
                                             uint64_t max_size);

// Exactly `size` bytes from the start of the open file `fd`; `name` prefixes the errors.
Result<std::vector<uint8_t>> read_file_bytes(int fd, size_t size, const std::string& name);

}  // namespace vmm::boot
