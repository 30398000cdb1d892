// A statistic with one writer (the thread of the device or vCPU that counts) and readers on any
// thread (the API's metrics): a relaxed atomic, so a read is never torn and never a data race,
// while the writer pays a plain load and store, no locked instruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace vmm {

class Counter {
public:
    Counter& operator+=(uint64_t n) {
        m_value.store(m_value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        return *this;
    }
    Counter& operator++() { return *this += 1; }
    uint64_t get() const { return m_value.load(std::memory_order_relaxed); }
    operator uint64_t() const { return get(); }  // NOLINT: reads as the number it counts

private:
    std::atomic<uint64_t> m_value{0};
};

// One named counter's value at the moment it was read.
struct CounterValue {
    std::string_view name;
    uint64_t value;
};

}  // namespace vmm
