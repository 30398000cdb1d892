// Fuzzes the 16550 model with register sequences and host input. Invariants: the interrupt
// line follows the pending conditions (never asserted with IER clear), and the receive FIFO
// never holds more than RX_FIFO_SIZE bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "devices/legacy/serial.h"
#include "fuzz_irq.h"

using namespace vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    fuzz::LevelLine irq;
    size_t output = 0;
    Serial uart(irq, [&](uint8_t) { ++output; });
    uint8_t ier = 0, lcr = 0x03;
    while (in.remaining_bytes() > 0) {
        const uint8_t reg = in.ConsumeIntegralInRange<uint8_t>(0, 7);
        switch (in.ConsumeIntegralInRange(0, 2)) {
        case 0: {
            const uint8_t value = in.ConsumeIntegral<uint8_t>();
            uart.write(reg, value);
            if (reg == 3)
                lcr = value;
            if (reg == 1 && !(lcr & 0x80))
                ier = value & 0x0f;
            break;
        }
        case 1:
            (void)uart.read(reg);
            break;
        default: {
            const auto bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 100));
            (void)uart.enqueue_input(bytes);
            break;
        }
        }
        if (uart.input_space() > Serial::RX_FIFO_SIZE)
            __builtin_trap();
        if (irq.level && (ier & 0x03) == 0)
            __builtin_trap();
    }
    return 0;
}
