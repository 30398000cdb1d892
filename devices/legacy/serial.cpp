#include "devices/legacy/serial.h"

#include <fmt/format.h>

namespace vmm {

namespace {

// Register offsets (DLAB selects the divisor latch at 0 and 1).
constexpr uint8_t REG_DATA = 0;   // RBR / THR, DLL with DLAB
constexpr uint8_t REG_IER = 1;    // DLM with DLAB
constexpr uint8_t REG_IIR = 2;    // FCR on write
constexpr uint8_t REG_LCR = 3;
constexpr uint8_t REG_MCR = 4;
constexpr uint8_t REG_LSR = 5;
constexpr uint8_t REG_MSR = 6;
constexpr uint8_t REG_SCR = 7;

constexpr uint8_t LCR_DLAB = 0x80;
constexpr uint8_t IER_RX_DATA = 0x01;
constexpr uint8_t IER_THR_EMPTY = 0x02;
constexpr uint8_t IER_MASK = 0x0f;
constexpr uint8_t IIR_NONE = 0x01;
constexpr uint8_t IIR_THR_EMPTY = 0x02;
constexpr uint8_t IIR_RX_DATA = 0x04;
constexpr uint8_t IIR_FIFO_ENABLED = 0xc0;
constexpr uint8_t FCR_ENABLE = 0x01;
constexpr uint8_t FCR_CLEAR_RX = 0x02;
constexpr uint8_t LSR_DATA_READY = 0x01;
constexpr uint8_t LSR_THR_EMPTY = 0x20;
constexpr uint8_t LSR_TX_EMPTY = 0x40;
constexpr uint8_t MCR_DTR = 0x01;
constexpr uint8_t MCR_RTS = 0x02;
constexpr uint8_t MCR_OUT1 = 0x04;
constexpr uint8_t MCR_OUT2 = 0x08;
constexpr uint8_t MCR_LOOP = 0x10;
constexpr uint8_t MCR_MASK = 0x1f;
constexpr uint8_t MSR_CTS = 0x10;
constexpr uint8_t MSR_DSR = 0x20;
constexpr uint8_t MSR_RI = 0x40;
constexpr uint8_t MSR_DCD = 0x80;

}  // namespace

uint8_t Serial::read(uint8_t reg) {
    const bool dlab = m_lcr & LCR_DLAB;
    switch (reg) {
    case REG_DATA: {
        if (dlab)
            return m_dll;
        if (m_rx.empty())
            return 0;
        const uint8_t byte = m_rx.front();
        m_rx.pop_front();
        if (m_rx.empty() && m_rx_drained)
            m_rx_drained();
        update_irq();
        return byte;
    }
    case REG_IER:
        return dlab ? m_dlm : m_ier;
    case REG_IIR:
        return read_iir();
    case REG_LCR:
        return m_lcr;
    case REG_MCR:
        return m_mcr;
    case REG_LSR:
        // Transmission is instantaneous: the holding and shift registers are always empty.
        return (m_rx.empty() ? 0 : LSR_DATA_READY) | LSR_THR_EMPTY | LSR_TX_EMPTY;
    case REG_MSR:
        return modem_status();
    case REG_SCR:
        return m_scratch;
    default:
        return 0;
    }
}

void Serial::write(uint8_t reg, uint8_t value) {
    const bool dlab = m_lcr & LCR_DLAB;
    switch (reg) {
    case REG_DATA:
        if (dlab)
            m_dll = value;
        else
            transmit(value);
        break;
    case REG_IER:
        if (dlab) {
            m_dlm = value;
        } else {
            // Enabling THRE while the holding register is empty raises the interrupt at once.
            if ((value & IER_THR_EMPTY) && !(m_ier & IER_THR_EMPTY))
                m_thr_empty_pending = true;
            m_ier = value & IER_MASK;
        }
        break;
    case REG_IIR:
        m_fcr = value;
        if (value & FCR_CLEAR_RX)
            m_rx.clear();
        break;
    case REG_LCR:
        m_lcr = value;
        break;
    case REG_MCR:
        m_mcr = value & MCR_MASK;
        break;
    case REG_SCR:
        m_scratch = value;
        break;
    default:  // LSR and MSR are read-only
        break;
    }
    update_irq();
}

size_t Serial::enqueue_input(std::span<const uint8_t> bytes) {
    const size_t accepted = std::min(bytes.size(), input_space());
    m_rx.insert(m_rx.end(), bytes.begin(), bytes.begin() + accepted);
    if (accepted)
        update_irq();
    return accepted;
}

uint8_t Serial::read_iir() {
    const uint8_t fifo = (m_fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;
    if ((m_ier & IER_RX_DATA) && !m_rx.empty())
        return fifo | IIR_RX_DATA;
    if ((m_ier & IER_THR_EMPTY) && m_thr_empty_pending) {
        // Reading IIR while it reports THRE clears that condition (16550 data sheet, table 4).
        m_thr_empty_pending = false;
        update_irq();
        return fifo | IIR_THR_EMPTY;
    }
    return fifo | IIR_NONE;
}

void Serial::transmit(uint8_t value) {
    if (m_mcr & MCR_LOOP) {
        if (m_rx.size() < RX_FIFO_SIZE)
            m_rx.push_back(value);
    } else {
        m_output(value);
    }
    m_thr_empty_pending = true;
}

uint8_t Serial::modem_status() const {
    if (!(m_mcr & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    // Loopback: the modem control outputs feed the modem status inputs.
    uint8_t msr = 0;
    if (m_mcr & MCR_RTS) msr |= MSR_CTS;
    if (m_mcr & MCR_DTR) msr |= MSR_DSR;
    if (m_mcr & MCR_OUT1) msr |= MSR_RI;
    if (m_mcr & MCR_OUT2) msr |= MSR_DCD;
    return msr;
}

void Serial::update_irq() {
    const bool pending = ((m_ier & IER_RX_DATA) && !m_rx.empty()) ||
                         ((m_ier & IER_THR_EMPTY) && m_thr_empty_pending);
    if (pending != m_irq_asserted) {
        m_irq_asserted = pending;
        m_irq.set_level(pending);
    }
}

Serial::State Serial::save() const {
    return {m_ier, m_lcr, m_mcr, m_scratch, m_fcr, m_dll, m_dlm, m_thr_empty_pending,
            std::vector<uint8_t>(m_rx.begin(), m_rx.end())};
}

Status Serial::restore(const State& state) {
    if (state.rx.size() > RX_FIFO_SIZE)
        return Error(fmt::format("serial state: {} bytes in a {}-byte receive FIFO", state.rx.size(), RX_FIFO_SIZE));
    m_ier = state.ier;
    m_lcr = state.lcr;
    m_mcr = state.mcr;
    m_scratch = state.scratch;
    m_fcr = state.fcr;
    m_dll = state.dll;
    m_dlm = state.dlm;
    m_thr_empty_pending = state.thr_empty_pending;
    m_rx.assign(state.rx.begin(), state.rx.end());
    update_irq();
    return {};
}

}  // namespace vmm
