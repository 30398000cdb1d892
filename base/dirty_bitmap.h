// DirtyBitmap: one bit per 4 KiB page of a guest memory region, set by the VMM's own writes
// into guest RAM (devices filling buffers, the loader), which KVM's dirty log does not see.
// Marking is lock-free (device threads and vCPU threads mark at once); take() hands the bits
// over and clears them, in KVM_GET_DIRTY_LOG's layout (bit i of word i/64: page i).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace vmm {

inline constexpr uint64_t DIRTY_PAGE_SIZE = 4096;

class DirtyBitmap {
public:
    explicit DirtyBitmap(uint64_t pages) : m_pages(pages), m_words(std::make_unique<std::atomic<uint64_t>[]>(words(pages))) {}

    static uint64_t words(uint64_t pages) { return (pages + 63) / 64; }

    // Marks the pages [offset, offset + len) of the region touch; offsets are in bytes and
    // must lie inside the region (GuestMemory checked them).
    void mark(uint64_t offset, uint64_t len) {
        if (len == 0)
            return;
        const uint64_t last = (offset + len - 1) / DIRTY_PAGE_SIZE;
        for (uint64_t page = offset / DIRTY_PAGE_SIZE; page <= last; ++page)
            m_words[page / 64].fetch_or(1ull << (page % 64), std::memory_order_relaxed);
    }

    // The bits marked since the last take(), cleared here.
    std::vector<uint64_t> take() {
        std::vector<uint64_t> bits(words(m_pages));
        for (size_t i = 0; i < bits.size(); ++i)
            bits[i] = m_words[i].exchange(0, std::memory_order_relaxed);
        return bits;
    }

    uint64_t pages() const { return m_pages; }

private:
    uint64_t m_pages;
    std::unique_ptr<std::atomic<uint64_t>[]> m_words;
};

}  // namespace vmm
