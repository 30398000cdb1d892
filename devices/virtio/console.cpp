#include "devices/virtio/console.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

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


size_t Console::enqueue_input(std::span<const uint8_t> bytes) {
    std::lock_guard lock(m_input_mutex);
    const size_t accepted = std::min(bytes.size(), INPUT_CAPACITY - m_input.size());
    m_input.insert(m_input.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(accepted));
    return accepted;
}

// Host input not yet delivered is not in-flight device state: reset() keeps it for the driver
// that comes next, as QEMU leaves it in its chardev until a driver is ready.
Result<bool> Console::process_queue(size_t index, Virtqueue& queue) {
    if (index != RECEIVEQ)
        return transmit(queue);
    // Receive buffers wait for host input: nothing to do until enqueue_input() notifies.
    TRY(receive(queue));
    return false;
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
            return guest_fault("receive buffer is not writable guest memory");
        m_input.erase(m_input.begin(), m_input.begin() + static_cast<std::ptrdiff_t>(n));
        TRY(queue.add_used(m_chain.head, static_cast<uint32_t>(n)));
        m_rx_bytes += n;
    }
    const bool drained = had_input && m_input.empty();
    lock.unlock();
    if (drained && m_input_space)
        m_input_space();
    return {};
}

Result<bool> Console::transmit(Virtqueue& queue) {
    uint64_t budget = TX_BYTES_PER_CALL;
    size_t served = 0;
    for (; served < REQUESTS_PER_CALL && TRY(queue.pop(m_chain)); ++served) {
        // §5.3.6.1: the device reads only the readable part of transmit buffers.
        const uint64_t offset = std::min(m_tx_offset, m_chain.readable_bytes);
        const uint64_t n = std::min(m_chain.readable_bytes - offset, budget);
        m_iovecs.clear();
        TRY(buffer_iovecs(m_memory, m_chain.readable, offset, n, m_iovecs));
        for (const iovec& piece : m_iovecs)
            m_output(std::span(static_cast<const uint8_t*>(piece.iov_base), piece.iov_len));
        m_tx_bytes += n;
        budget -= n;
        if (offset + n < m_chain.readable_bytes) {
            m_tx_offset = offset + n;  // the rest of this chain in the next call
            queue.undo_pop(1);
            return true;
        }
        m_tx_offset = 0;
        TRY(queue.add_used(m_chain.head, 0));
        if (budget == 0)
            return queue.has_available();
    }
    return stopped_at_budget(served, REQUESTS_PER_CALL, queue);
}

Console::State Console::save() {
    std::lock_guard lock(m_input_mutex);
    return {m_tx_offset, std::vector<uint8_t>(m_input.begin(), m_input.end())};
}

Status Console::restore(const State& state) {
    if (state.input.size() > INPUT_CAPACITY)
        return Error(fmt::format("console state: {} bytes of input, at most {}", state.input.size(), INPUT_CAPACITY));
    std::lock_guard lock(m_input_mutex);
    m_tx_offset = state.tx_offset;
    m_input.assign(state.input.begin(), state.input.end());
    return {};
}

}  // namespace vmm::virtio
