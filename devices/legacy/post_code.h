// Port 0x80, the POST-code port: writes are dropped, reads return 0. Linux writes it for I/O
// delays (io_delay) and firmware for progress codes; served as a known device so such exits
// take the shortest path and are never logged as unknown accesses.
#pragma once

#include "devices/device.h"

namespace vmm {

class PostCode final : public BusDevice {
public:
    void read(uint64_t, std::span<uint8_t>) override {}
    void write(uint64_t, std::span<const uint8_t>) override {}
    std::string_view name() const override { return "post-code"; }
};

}  // namespace vmm
