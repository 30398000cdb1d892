#include "vmm/dirty_pages.h"

#include <bit>

namespace vmm {

namespace {

DirtyPages filled(const GuestMemory& memory, uint64_t word) {
    DirtyPages pages;
    for (const auto& region : memory.regions()) {
        const uint64_t count = region.size / DIRTY_PAGE_SIZE;
        std::vector<uint64_t> bits(DirtyBitmap::words(count), word);
        if (word && count % 64)
            bits.back() = (1ull << (count % 64)) - 1;
        pages.regions.push_back(std::move(bits));
    }
    return pages;
}

}  // namespace

DirtyPages DirtyPages::none(const GuestMemory& memory) { return filled(memory, 0); }
DirtyPages DirtyPages::all(const GuestMemory& memory) { return filled(memory, ~0ull); }

uint64_t DirtyPages::count() const {
    uint64_t total = 0;
    for (const auto& bits : regions) {
        for (uint64_t word : bits)
            total += static_cast<uint64_t>(std::popcount(word));
    }
    return total;
}

void DirtyPages::merge(const DirtyPages& other) {
    for (size_t r = 0; r < regions.size() && r < other.regions.size(); ++r) {
        for (size_t w = 0; w < regions[r].size() && w < other.regions[r].size(); ++w)
            regions[r][w] |= other.regions[r][w];
    }
}

Result<DirtyPages> collect_dirty_pages(const Vm& vm, const GuestMemory& memory) {
    DirtyPages pages;
    const auto& regions = memory.regions();
    for (size_t i = 0; i < regions.size(); ++i) {
        std::vector<uint64_t> bits = TRY(vm.get_dirty_log(static_cast<uint32_t>(i), regions[i].size));
        const std::vector<uint64_t> own = memory.take_dirty(i);
        for (size_t w = 0; w < bits.size() && w < own.size(); ++w)
            bits[w] |= own[w];
        pages.regions.push_back(std::move(bits));
    }
    return pages;
}

}  // namespace vmm
