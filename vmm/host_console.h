// The host side of one guest console (the 16550 or virtio-console): guest output to stdout or
// a file; in tty mode, stdin (raw on a terminal) pumped into the guest from the event loop,
// with backpressure instead of unbounded buffering.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "vmm/event_loop.h"
#include "vmm/terminal.h"
#include "base/unique_fd.h"
#include "vmm/vm_config.h"

namespace vmm {

class HostConsole {
public:
    // Offers input to the guest; returns how many bytes it accepted.
    using InputSink = std::function<size_t(std::span<const uint8_t>)>;

    // A file=PATH output takes at most this much guest output; the rest is dropped (one warning).
    static constexpr uint64_t MAX_FILE_BYTES = 256ull << 20;

    // `name` ("serial", "console") prefixes errors about the output file.
    HostConsole(ConsoleConfig config, const char* name, uint64_t max_file_bytes = MAX_FILE_BYTES)
        : m_config(std::move(config)), m_name(name), m_max_file_bytes(max_file_bytes) {}
    ~HostConsole();

    // Guest output (dropped until open_output(), and when off).
    void write(std::span<const uint8_t> bytes);

    // Creates/truncates the output file or takes stdout. Done last while building, so a
    // failed build leaves no file behind.
    Status open_output();

    // Tty mode: raw terminal, stdin offered to `sink` from the event loop. When the sink
    // accepts less than offered, stdin is paused until input_space().
    Status attach_input(EventLoop& loop, InputSink sink);

    // Thread-safe: the guest consumed input; what is pending is offered again.
    void input_space();

private:
    void on_stdin(EventLoop& loop);
    void on_space(EventLoop& loop);
    void push_pending();

    ConsoleConfig m_config;
    const char* m_name;
    int m_output_fd = -1;
    UniqueFd m_output_file;
    std::unique_ptr<RawTerminal> m_raw_terminal;
    InputSink m_sink;
    UniqueFd m_space_event;
    std::vector<uint8_t> m_pending;  // read from stdin, not yet accepted by the guest
    bool m_stdin_paused = false;
    uint64_t m_max_file_bytes;
    uint64_t m_file_bytes = 0;  // written to a file=PATH output so far
    bool m_file_full = false;   // the cap was reached (and said once)
};

}  // namespace vmm
