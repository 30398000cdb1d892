#include "devices/virtio/console.h"

#include <algorithm>
#include <array>

#include "devices/virtio/chain_io.h"
#include "devices/virtio/virtio.h"

namespace vmm::virtio {

namespace {

// §5.3.4: cols, rows (valid with F_SIZE), max_nr_ports (with F_MULTIPORT), emerg_wr.
struct [[gnu::packed]] ConsoleConfigSpace {
    uint16_t cols;
    uint16_t rows;
    uint32_t max_nr_ports;
    uint32_t emerg_wr;
};
static_assert(sizeof(ConsoleConfigSpace) == 12);

}  // namespace

Console::Console(GuestMemory& memory, OutputSink output, std::function<void()> input_space)
    : m_memory(memory), m_output(std::move(output)), m_input_space(std::move(input_space)) {}

uint32_t Console::device_id() const { return device_id::CONSOLE; }

size_t Console::config_size() const { return sizeof(ConsoleConfigSpace); }

void Console::read_config(uint64_t offset, std::span<uint8_t> data) const {
    const ConsoleConfigSpace config{0, 0, 1, 0};
    copy_config(config, offset, data);
}

// Host input not yet delivered is not in-flight device state: it stays for the driver that
// comes next, as QEMU leaves it in its chardev until a driver is ready.
void Console::reset() {}

size_t Console::enqueue_input(std::span<const uint8_t> bytes) {
    std::lock_guard lock(m_input_mutex);
    const size_t accepted = std::min(bytes.size(), INPUT_CAPACITY - m_input.size());
    m_input.insert(m_input.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(accepted));
    return accepted;
}

Status Console::process_queue(size_t index, Virtqueue& queue) {
    return index == RECEIVEQ ? receive(queue) : transmit(queue);
}

Status Console::receive(Virtqueue& queue) {
    std::unique_lock lock(m_input_mutex);
    const bool had_input = !m_input.empty();
    // A receive buffer is taken only when there is something to put in it.
    while (!m_input.empty() && TRY(queue.pop(m_chain))) {
        const size_t n = std::min<uint64_t>(m_input.size(), m_chain.writable_bytes);
        std::array<uint8_t, INPUT_CAPACITY> bytes;  // n <= INPUT_CAPACITY; no allocation
        std::copy_n(m_input.begin(), n, bytes.begin());
        if (!write_buffers(m_memory, m_chain.writable, 0, std::span(bytes.data(), n)).ok())
            return Error("receive buffer is not writable guest memory");
        m_input.erase(m_input.begin(), m_input.begin() + static_cast<std::ptrdiff_t>(n));
        TRY(queue.add_used(m_chain.head, static_cast<uint32_t>(n)));
    }
    const bool drained = had_input && m_input.empty();
    lock.unlock();
    if (drained && m_input_space)
        m_input_space();
    return {};
}

Status Console::transmit(Virtqueue& queue) {
    // §5.3.6.1: the device reads only the readable part of transmit buffers.
    for (size_t served = 0; served < REQUESTS_PER_CALL && TRY(queue.pop(m_chain)); ++served) {
        for (const Buffer& buffer : m_chain.readable)
            m_output(TRY(m_memory.slice(buffer.addr, buffer.len)));
        TRY(queue.add_used(m_chain.head, 0));
    }
    return {};
}

}  // namespace vmm::virtio
