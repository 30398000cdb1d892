// Test doubles around the virtio transports: a device type that completes every chain with one
// written byte (or fails when told to) and counts what it is asked, and the register sequences a
// driver writes to an MMIO or a PCI transport (status steps, features, queue set-up, MSI-X).
#pragma once

#include <cstdint>
#include <map>
#include <span>

#include "base/result.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci_config.h"
#include "devices/virtio/mmio_transport.h"
#include "devices/virtio/pci_transport.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_device.h"

namespace vmm::test {

struct FakeVirtioDevice : virtio::VirtioDevice {
    FakeVirtioDevice(uint32_t id = 42, uint64_t features = 1ull << 3, size_t queues = 1, size_t config = 8)
        : m_id(id), m_features(features), m_queues(queues), m_config(config) {}

    uint32_t device_id() const override { return m_id; }
    uint64_t device_features() const override { return m_features; }
    size_t queue_count() const override { return m_queues; }
    size_t config_size() const override { return m_config; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override {
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(0xa0 + offset + i);
    }
    void activate(uint64_t features) override { activated_with = features; }
    Result<bool> process_queue(size_t, virtio::Virtqueue& queue) override {
        ++calls;
        if (fail)
            return guest_fault("bad request");
        virtio::DescriptorChain chain;
        while (TRY(queue.pop(chain)))
            TRY(queue.add_used(chain.head, 1));
        return false;
    }
    void reset() override { ++resets; }

    uint64_t activated_with = 0;
    int resets = 0;
    int calls = 0;
    bool fail = false;

private:
    uint32_t m_id;
    uint64_t m_features;
    size_t m_queues;
    size_t m_config;
};

// A driver's register accesses on an MMIO transport (VIRTIO 1.2 §4.2.3).
struct MmioDriver {
    virtio::MmioTransport& transport;

    static constexpr uint64_t STATUS = 0x70;

    uint32_t rd(uint64_t offset) {
        uint32_t v = 0;
        transport.read(offset, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
    void wr(uint64_t offset, uint32_t v) { transport.write(offset, std::span(reinterpret_cast<uint8_t*>(&v), 4)); }

    // ACKNOWLEDGE, DRIVER, the features, FEATURES_OK.
    void negotiate(uint64_t features) {
        wr(STATUS, virtio::status::ACKNOWLEDGE);
        wr(STATUS, virtio::status::ACKNOWLEDGE | virtio::status::DRIVER);
        wr(0x24, 0);
        wr(0x20, static_cast<uint32_t>(features));
        wr(0x24, 1);
        wr(0x20, static_cast<uint32_t>(features >> 32));
        wr(STATUS, virtio::status::ACKNOWLEDGE | virtio::status::DRIVER | virtio::status::FEATURES_OK);
    }
    void setup_queue(uint32_t index, const virtio::QueueLayout& l) {
        wr(0x30, index);
        wr(0x38, l.size);
        wr(0x80, static_cast<uint32_t>(l.desc_table));
        wr(0x90, static_cast<uint32_t>(l.avail_ring));
        wr(0xa0, static_cast<uint32_t>(l.used_ring));
        wr(0x44, 1);
    }
    // VERSION_1, queue 0 on `l`, DRIVER_OK.
    void bring_up(const virtio::QueueLayout& l) {
        negotiate(virtio::feature::VERSION_1);
        setup_queue(0, l);
        wr(STATUS, 0x0f);
    }
};

// struct virtio_pci_common_cfg offsets (VIRTIO 1.2 §4.1.4.3).
struct PciCommonCfg {
    static constexpr uint64_t DFSELECT = 0x00, DF = 0x04, GFSELECT = 0x08, GF = 0x0c, MSIX_CONFIG = 0x10,
                              NUM_QUEUES = 0x12, STATUS = 0x14, Q_SELECT = 0x16, Q_SIZE = 0x18, Q_MSIX = 0x1a,
                              Q_ENABLE = 0x1c, Q_NOTIFY_OFF = 0x1e, Q_DESC = 0x20, Q_DRIVER = 0x28, Q_DEVICE = 0x30;
};

// A driver's accesses to a virtio-pci function whose BAR 0 sits at `bar` (VIRTIO 1.2 §4.1):
// config space, the common configuration and the MSI-X table.
struct PciDriver : PciCommonCfg {
    virtio::PciTransport& transport;
    uint64_t bar;

    PciDriver(virtio::PciTransport& t, uint64_t b) : transport(t), bar(b) {}

    template <typename T>
    T cfg(uint64_t offset) {
        T v{};
        transport.config_read(offset, std::span(reinterpret_cast<uint8_t*>(&v), sizeof v));
        return v;
    }
    template <typename T>
    void set_cfg(uint64_t offset, T v) {
        transport.config_write(offset, std::span(reinterpret_cast<const uint8_t*>(&v), sizeof v));
    }
    // BAR 0 accesses; false when the transport did not decode the address.
    template <typename T>
    T rd(uint64_t offset, bool* decoded = nullptr) {
        T v{};
        const bool hit = transport.mmio_read(bar + offset, std::span(reinterpret_cast<uint8_t*>(&v), sizeof v));
        if (decoded)
            *decoded = hit;
        return v;
    }
    template <typename T>
    bool wr(uint64_t offset, T v) {
        return transport.mmio_write(bar + offset, std::span(reinterpret_cast<const uint8_t*>(&v), sizeof v));
    }
    // The capabilities by id (vendor ones by cfg_type, as 0x0900 | type), at their offsets.
    std::map<uint16_t, uint8_t> capabilities() {
        std::map<uint16_t, uint8_t> found;
        for (uint8_t at = cfg<uint8_t>(pci::reg::CAPABILITIES); at != 0; at = cfg<uint8_t>(at + 1)) {
            const uint8_t id = cfg<uint8_t>(at);
            found[id == pci::capability::VENDOR ? uint16_t(0x0900 | cfg<uint8_t>(at + 3)) : id] = at;
            if (found.size() > 16)
                break;
        }
        return found;
    }
    // MSI-X on, vector v of `vectors` aimed at 0xfee00000 with data 0x40 + v, all unmasked.
    void enable_msix(uint16_t vectors) {
        set_cfg<uint16_t>(capabilities().at(pci::capability::MSIX) + 2, pci::Msix::CONTROL_ENABLE);
        for (uint16_t v = 0; v < vectors; ++v) {
            wr<uint32_t>(virtio::PciTransport::MSIX_TABLE_OFFSET + v * 16, 0xfee00000);
            wr<uint32_t>(virtio::PciTransport::MSIX_TABLE_OFFSET + v * 16 + 8, 0x40 + v);
            wr<uint32_t>(virtio::PciTransport::MSIX_TABLE_OFFSET + v * 16 + 12, 0);
        }
    }
    // §3.1.1 through DRIVER_OK: VERSION_1, queue 0 on `l` with `queue_vector`.
    void bring_up(const virtio::QueueLayout& l, uint16_t queue_vector) {
        using namespace virtio::status;
        wr<uint8_t>(STATUS, ACKNOWLEDGE | DRIVER);
        wr<uint32_t>(GFSELECT, 1);
        wr<uint32_t>(GF, 1);  // VERSION_1
        wr<uint8_t>(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        wr<uint16_t>(Q_SELECT, 0);
        wr<uint16_t>(Q_SIZE, l.size);
        wr<uint16_t>(Q_MSIX, queue_vector);
        wr<uint64_t>(Q_DESC, l.desc_table);
        wr<uint32_t>(Q_DRIVER, static_cast<uint32_t>(l.avail_ring));
        wr<uint32_t>(Q_DRIVER + 4, static_cast<uint32_t>(l.avail_ring >> 32));
        wr<uint64_t>(Q_DEVICE, l.used_ring);
        wr<uint16_t>(Q_ENABLE, 1);
        wr<uint8_t>(STATUS, 0x0f);
    }
};

}  // namespace vmm::test
