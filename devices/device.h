// What a device sees of the machine: a bus access interface and an interrupt line.
// Devices never call KVM; they are handed these.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace vmm {

// A device on a PIO or MMIO Bus. `offset` is relative to the device's base; the Bus
// guarantees [offset, offset + data.size()) lies inside the device's range and, for reads,
// that `data` is zero-filled on entry.
class BusDevice {
public:
    virtual ~BusDevice() = default;
    virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
    virtual std::string_view name() const = 0;
};

// An interrupt input of the interrupt controller (an IOAPIC/PIC pin), driven as a level.
class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool asserted) = 0;
};

// An edge-triggered interrupt (KVM irqfd): each trigger() delivers one interrupt.
class Interrupt {
public:
    virtual ~Interrupt() = default;
    virtual void trigger() = 0;
};

}  // namespace vmm
