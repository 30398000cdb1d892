// Bounds how often a guest-triggered message is logged: the guest controls the rate of
// unknown port and MMIO accesses, the log must not.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vmm {

class RateLimiter {
public:
    explicit RateLimiter(uint32_t per_second) : m_per_second(per_second) {}

    // True while fewer than per_second events were allowed in the current one-second window.
    bool allow() {
        const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count();
        int64_t window = m_window.load(std::memory_order_relaxed);
        if (window != now && m_window.compare_exchange_strong(window, now))
            m_count.store(0, std::memory_order_relaxed);
        return m_count.fetch_add(1, std::memory_order_relaxed) < m_per_second;
    }

private:
    const uint32_t m_per_second;
    std::atomic<int64_t> m_window{0};
    std::atomic<uint32_t> m_count{0};
};

// The one budget every guest-triggered log message draws from, whichever vCPU or device it
// comes from (so 254 vCPUs or 18 devices do not multiply it): a few per second, and at most
// GUEST_MESSAGES_MAX for the VM's life. Past that, one line says the rest are suppressed.
inline constexpr uint32_t GUEST_MESSAGES_PER_SECOND = 10;
inline constexpr uint32_t GUEST_MESSAGES_MAX = 1000;
bool allow_guest_message();

}  // namespace vmm
