// 16550A UART (National Semiconductor PC16550D data sheet) as a plain state machine:
// register semantics only; output, input and the interrupt line are handed in.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "base/result.h"
#include "devices/device.h"

namespace vmm {

class Serial {
public:
    using OutputSink = std::function<void(uint8_t)>;

    static constexpr size_t RX_FIFO_SIZE = 64;

    Serial(IrqLine& irq, OutputSink output) : m_irq(irq), m_output(std::move(output)) {}

    uint8_t read(uint8_t reg);
    void write(uint8_t reg, uint8_t value);

    // Queues host input for the guest; returns how many bytes fit in the receive FIFO.
    size_t enqueue_input(std::span<const uint8_t> bytes);
    size_t input_space() const { return RX_FIFO_SIZE - m_rx.size(); }

    // Called (under the device lock) when the guest has emptied the receive FIFO, so a host
    // input source that paused for lack of space can resume.
    void set_rx_drained_listener(std::function<void()> listener) { m_rx_drained = std::move(listener); }

    // The registers and the receive FIFO (the interrupt line follows from them on restore).
    struct State {
        uint8_t ier, lcr, mcr, scratch, fcr, dll, dlm;
        bool thr_empty_pending;
        std::vector<uint8_t> rx;
        bool operator==(const State&) const = default;
    };
    State save() const;
    // Input beyond the FIFO's size is refused (the state may come from a file).
    Status restore(const State& state);

private:
    uint8_t read_iir();
    void transmit(uint8_t value);
    uint8_t modem_status() const;
    void update_irq();

    IrqLine& m_irq;
    OutputSink m_output;
    std::function<void()> m_rx_drained;
    std::deque<uint8_t> m_rx;
    uint8_t m_ier = 0;
    uint8_t m_lcr = 0x03;  // 8N1
    uint8_t m_mcr = 0x08;  // OUT2
    uint8_t m_scratch = 0;
    uint8_t m_fcr = 0;
    uint8_t m_dll = 0x0c;  // 9600 baud
    uint8_t m_dlm = 0;
    bool m_thr_empty_pending = false;  // THRE interrupt condition
    bool m_irq_asserted = false;
};

}  // namespace vmm
