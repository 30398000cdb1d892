#include "base/rate_limiter.h"

#include <spdlog/spdlog.h>

namespace vmm {

bool allow_guest_message() {
    static RateLimiter per_second(GUEST_MESSAGES_PER_SECOND);
    static std::atomic<uint32_t> total{0};
    if (!per_second.allow())
        return false;
    const uint32_t n = total.fetch_add(1, std::memory_order_relaxed);
    if (n == GUEST_MESSAGES_MAX)
        spdlog::warn("{} guest-triggered messages logged; suppressing the rest", GUEST_MESSAGES_MAX);
    return n < GUEST_MESSAGES_MAX;
}

}  // namespace vmm
