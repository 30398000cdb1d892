#include "vmm/key_values.h"

#include <fmt/format.h>

namespace vmm {

Result<KeyValues> split_key_values(std::string_view text, std::string_view where) {
    KeyValues items;
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return Error(fmt::format("{}: '{}' is not key=value", where, item));
        items.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    return items;
}

bool valid_device_id(std::string_view id) {
    if (id.empty() || id.size() > MAX_DEVICE_ID)
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

}  // namespace vmm
