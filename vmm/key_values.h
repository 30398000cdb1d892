// "key=value,key=value" option strings (--disk, --net), split once for every parser.
#pragma once

#include <charconv>
#include <optional>
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

// A whole decimal number of type T, or nullopt (empty, trailing characters, out of range).
template <typename T>
std::optional<T> parse_number(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

}  // namespace vmm
