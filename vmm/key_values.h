// "key=value,key=value" option strings (--disk, --net), split once for every parser.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace vmm {

using KeyValues = std::vector<std::pair<std::string_view, std::string_view>>;

// `where` names the option in the error, e.g. "--disk 'path=a,x'".
Result<KeyValues> split_key_values(std::string_view text, std::string_view where);

// A device id (id= of --disk and --net): 1 to 64 of A-Z a-z 0-9 _ - .
inline constexpr size_t MAX_DEVICE_ID = 64;
bool valid_device_id(std::string_view id);

}  // namespace vmm
