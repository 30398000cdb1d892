// Fuzzes the PCI side a guest reaches: configuration mechanism #1 (0xCF8/0xCFC), ECAM and
// the BAR window of a PCIe root complex holding a virtio-blk function on the modern
// virtio-pci transport (common configuration, ISR, device configuration, notifications,
// MSI-X table and PBA, the PCI_CFG window). The input is a sequence of accesses (kind, width,
// offset, value); one kind is a driver bringing the device to DRIVER_OK with queue 0 in guest
// memory, so that notifications then reach the block device's queue, whose rings and requests
// come from the input's tail (guest memory). The oracles: every MSI-X delivery names a vector
// of the table; the BAR listener is told only aligned addresses, each move starting where the
// last one left BAR 0.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "devices/pci/pci_root.h"
#include "devices/virtio/pci_transport.h"
#include "fuzz_block.h"
#include "fuzz_irq.h"

using namespace vmm;
using virtio::PciTransport;

namespace {

constexpr uint64_t BAR = 0xc0000000;

struct CheckedSink : pci::MsiSink {
    void deliver(uint16_t vector, const pci::MsiMessage&) override {
        if (vector >= vectors)
            __builtin_trap();
    }
    uint16_t vectors = 0;
};

struct CheckedBars : pci::BarListener {
    void bar_moved(unsigned bar, std::optional<uint64_t> from, std::optional<uint64_t> to) override {
        if (bar != 0 || from != where || (to && *to % PciTransport::BAR_SIZE != 0))
            __builtin_trap();
        where = to;
    }
    std::optional<uint64_t> where;
};

class Guest {
public:
    Guest(pci::PciRoot& root, uint8_t slot) : m_root(root), m_slot(slot) {}

    void config(uint16_t offset, uint32_t value, size_t width) {
        uint8_t buf[4];
        std::memcpy(buf, &value, 4);
        m_root.config_write(m_slot, 0, offset, std::span<const uint8_t>(buf, width));
    }
    void common(uint16_t offset, uint64_t value, size_t width) {
        uint8_t buf[8];
        std::memcpy(buf, &value, 8);
        m_root.mmio_write(BAR + PciTransport::COMMON_OFFSET + offset, std::span<const uint8_t>(buf, width));
    }

    // §3.1.1: reset, ACKNOWLEDGE | DRIVER, VERSION_1, FEATURES_OK, queue 0 at the rings of
    // fuzz_memory.h with vectors 0 (config) and 1 (queue), DRIVER_OK; MSI-X on, unmasked.
    void bring_up(uint16_t queue_size) {
        config(0x04, 0x6, 2);  // memory decoding, bus mastering
        common(0x14, 0, 1);
        common(0x14, 3, 1);
        common(0x08, 1, 4);
        common(0x0c, 1, 4);  // VIRTIO_F_VERSION_1
        common(0x14, 11, 1);
        common(0x10, 0, 2);
        common(0x16, 0, 2);
        common(0x18, queue_size, 2);
        common(0x1a, 1, 2);
        common(0x20, fuzz::DESC, 8);
        common(0x28, fuzz::AVAIL, 8);
        common(0x30, fuzz::USED, 8);
        common(0x1c, 1, 2);
        common(0x14, 15, 1);
        for (uint16_t v = 0; v < 2; ++v) {
            const uint32_t entry[4] = {0xfee00000u, 0, 0x40u + v, 0};
            m_root.mmio_write(BAR + PciTransport::MSIX_TABLE_OFFSET + 16 * v,
                              std::span(reinterpret_cast<const uint8_t*>(entry), sizeof entry));
        }
        // Message Control of the MSI-X capability: found by walking the list.
        for (uint8_t at = read8(0x34); at >= 0x40; at = read8(at + 1u)) {
            if (read8(at) == 0x11) {
                config(at + 2u, 0x8000, 2);
                break;
            }
        }
    }

private:
    uint8_t read8(uint16_t offset) {
        uint8_t v = 0;
        m_root.config_read(m_slot, 0, offset, std::span(&v, 1));
        return v;
    }
    pci::PciRoot& m_root;
    uint8_t m_slot;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t OP = 8;  // u8 kind, u8 width, u16 offset, u32 value
    const size_t ops = std::min<size_t>(size / OP, 96);
    auto memory = fuzz::memory_from({data + ops * OP, size - ops * OP});
    fuzz::LevelLine intx;
    CheckedSink sink;
    CheckedBars bars;
    auto transport = std::make_shared<PciTransport>(fuzz::small_block(memory), memory,
                                                    PciTransport::Wiring{intx, sink, bars});
    sink.vectors = transport->vector_count();
    pci::PciRoot root;
    const uint8_t slot = root.add(transport).value();
    transport->assign_bar(BAR);
    Guest guest(root, slot);
    auto ports = root.config_ports();
    auto ecam = root.ecam();

    for (size_t i = 0; i < ops; ++i) {
        const uint8_t* op = data + i * OP;
        uint16_t offset;
        uint32_t value;
        std::memcpy(&offset, op + 2, 2);
        std::memcpy(&value, op + 4, 4);
        const size_t width = size_t(1) << (op[1] & 3);  // 1, 2, 4, 8
        uint8_t buf[8] = {};
        std::memcpy(buf, &value, 4);
        const bool read = op[0] & 0x80;
        const std::span<uint8_t> span(buf, width);
        switch (op[0] & 7) {
        case 0:  // 0xCF8..0xCFF
            if (read)
                ports->read(offset % 8, span);
            else
                ports->write(offset % 8, span);
            break;
        case 1: {  // ECAM: the host bridge, the function, an empty slot
            const uint64_t at = (static_cast<uint64_t>((op[1] >> 2) & 3) << 15) + offset % 0x1000;
            if (read)
                ecam->read(at, span);
            else
                ecam->write(at, span);
            break;
        }
        case 2:
        case 3: {  // BAR 0 where it was assigned (the guest may have moved or disabled it)
            const uint64_t at = BAR + offset % PciTransport::BAR_SIZE;
            if (read)
                root.mmio_read(at, span);
            else
                root.mmio_write(at, span);
            break;
        }
        case 4:
            guest.bring_up(static_cast<uint16_t>(1u << (value % 9)));
            break;
        case 5:  // queue notifications, as the ioeventfd path serves them
            transport->notify(value % 3);
            break;
        case 6:
            guest.config(offset % 0x100, value, std::min<size_t>(width, 4));
            break;
        default:
            guest.common(offset % 0x40, value, width);
            break;
        }
    }
    return 0;
}
