#include "vmm/memory_config.h"

#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "vmm/key_values.h"

namespace vmm {

namespace {

constexpr uint64_t HUGE_2M = 2ull << 20;

std::optional<unsigned> unit_shift(std::string_view suffix) {
    if (suffix.empty())
        return 20;  // bare number: MiB
    if (suffix.size() > 1 && (suffix.substr(1) == "iB" || suffix.substr(1) == "B"))
        suffix = suffix.substr(0, 1);
    if (suffix.size() != 1)
        return std::nullopt;
    switch (suffix[0]) {
    case 'K': case 'k': return 10;
    case 'M': case 'm': return 20;
    case 'G': case 'g': return 30;
    case 'T': case 't': return 40;
    default: return std::nullopt;
    }
}

std::optional<bool> on_off(std::string_view value) {
    if (value == "on" || value == "off")
        return value == "on";
    return std::nullopt;
}

std::optional<HugePages> huge_pages_of(std::string_view value) {
    if (value == "none")
        return HugePages::None;
    if (value == "2M")
        return HugePages::Size2M;
    if (value == "transparent")
        return HugePages::Transparent;
    return std::nullopt;
}

// Sets the backend for "anon", "memfd", "file:PATH"; false for anything else.
bool set_backend(MemoryConfig& memory, std::string_view value) {
    if (value == "anon" || value == "memfd") {
        memory.backend = value == "anon" ? MemoryConfig::Backend::Anon : MemoryConfig::Backend::Memfd;
        return true;
    }
    if (!value.starts_with("file:") || value.size() == 5)
        return false;
    memory.backend = MemoryConfig::Backend::File;
    memory.path = value.substr(5);
    return true;
}

}  // namespace

Result<uint64_t> parse_memory_size(std::string_view text) {
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    const auto shift = unit_shift(std::string_view(end, text.data() + text.size() - end));
    if (ec != std::errc() || end == text.data() || !shift)
        return Error(fmt::format("memory size '{}' is not a size like 256M or 2G", text));
    if (number > (UINT64_MAX >> *shift))
        return Error(fmt::format("memory size '{}' is too large", text));
    return number << *shift;
}

Result<MemoryConfig> parse_memory(std::string_view text, uint64_t& size) {
    MemoryConfig memory;
    if (text.find('=') == std::string_view::npos) {
        size = TRY(parse_memory_size(text));
        return memory;
    }
    const std::string where = fmt::format("--memory '{}'", text);
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        const auto flag = on_off(value);
        const auto huge = huge_pages_of(value);
        if (key == "size") {
            size = TRY_CTX(parse_memory_size(value), where);
        } else if (key == "backend" && set_backend(memory, value)) {
            continue;
        } else if (key == "hugepages" && huge) {
            memory.huge_pages = *huge;
        } else if (key == "mergeable" && flag) {
            memory.mergeable = *flag;
        } else if (key == "prefault" && flag) {
            memory.prefault = *flag;
        } else if (key == "track_dirty_pages" && flag) {
            memory.track_dirty = *flag;
        } else {
            return Error(fmt::format("{}: bad '{}={}' (size=SIZE, backend=anon|memfd|file:PATH, "
                                     "hugepages=none|2M|transparent, mergeable=on|off, prefault=on|off, "
                                     "track_dirty_pages=on|off)",
                                     where, key, value));
        }
    }
    return memory;
}

Status validate_memory(const MemoryConfig& memory, uint64_t size, bool vhost_user) {
    using Backend = MemoryConfig::Backend;
    if (memory.huge_pages == HugePages::Size2M && size % HUGE_2M)
        return Error(fmt::format("--memory: hugepages=2M needs a size that is a multiple of 2 MiB, not {} KiB",
                                 size >> 10));
    if (vhost_user && memory.backend == Backend::Anon)
        return Error("--memory backend=anon: virtio-fs (--fs) needs guest memory it can share: "
                     "backend=memfd or backend=file:PATH");
    if (memory.mergeable && memory.shared(vhost_user))
        return Error("--memory mergeable=on: KSM merges private memory only, not a shared backend "
                     "(memfd, file, or the memfd virtio-fs needs)");
    if (memory.mergeable && memory.huge_pages == HugePages::Size2M)
        return Error("--memory mergeable=on: KSM does not merge hugepages=2M memory");
    if (memory.backend == Backend::File && memory.huge_pages == HugePages::Transparent)
        return Error("--memory hugepages=transparent: for backend=anon or memfd; a file on hugetlbfs takes hugepages=2M");
    return {};
}

}  // namespace vmm
