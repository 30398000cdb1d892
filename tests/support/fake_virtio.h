// Test doubles around the virtio transports: a device type that completes every chain with one
// written byte (or fails when told to) and counts what it is asked, and the register sequence a
// driver writes to an MMIO transport (status steps, features, queue set-up).
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "devices/virtio/mmio_transport.h"
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

}  // namespace vmm::test
