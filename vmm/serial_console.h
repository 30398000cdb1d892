// Connects the UART to the host: guest output to stdout or a file, stdin (raw mode on a
// terminal) to the guest, with backpressure instead of unbounded buffering.
#pragma once

#include <memory>
#include <vector>

#include "devices/legacy/byte_register_device.h"
#include "devices/legacy/serial.h"
#include "vmm/event_loop.h"
#include "vmm/terminal.h"
#include "vmm/unique_fd.h"
#include "vmm/vm_config.h"

namespace vmm {

using SerialDevice = ByteRegisterDevice<Serial>;

class SerialConsole {
public:
    explicit SerialConsole(SerialConfig config) : m_config(std::move(config)) {}
    ~SerialConsole();

    // Bytes the guest transmits go here (dropped until open_output(), and when off).
    Serial::OutputSink output_sink();

    // Creates/truncates the output file or takes stdout. Done last while building, so a
    // failed build leaves no file behind.
    Status open_output();

    // Tty mode: raw terminal, stdin read into `device` from the event loop.
    Status attach_input(EventLoop& loop, std::shared_ptr<SerialDevice> device);

private:
    void on_stdin(EventLoop& loop);
    void on_drained(EventLoop& loop);
    void push_pending();

    SerialConfig m_config;
    int m_output_fd = -1;
    UniqueFd m_output_file;
    std::unique_ptr<RawTerminal> m_raw_terminal;
    std::shared_ptr<SerialDevice> m_device;
    UniqueFd m_drained_event;
    std::vector<uint8_t> m_pending;  // read from stdin, not yet accepted by the FIFO
    bool m_stdin_paused = false;
};

}  // namespace vmm
