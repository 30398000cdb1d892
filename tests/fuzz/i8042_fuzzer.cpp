// Fuzzes the i8042 and its keyboard with port sequences and host key presses. Invariants: the
// keyboard buffer never holds more than KEYBOARD_BUFFER bytes, and interrupt 1 is asserted
// exactly while a keyboard byte waits, no controller reply is ahead of it and the guest's
// configuration byte enables it.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "devices/legacy/i8042.h"
#include "fuzz_irq.h"

using namespace vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    fuzz::LevelLine irq;
    I8042 kbd(irq, [] {});
    while (in.remaining_bytes() > 0) {
        const uint8_t reg = in.ConsumeBool() ? I8042::COMMAND : I8042::DATA;
        switch (in.ConsumeIntegralInRange(0, 2)) {
        case 0:
            kbd.write(reg, in.ConsumeIntegral<uint8_t>());
            break;
        case 1:
            (void)kbd.read(reg);
            break;
        default:
            (void)kbd.press_ctrl_alt_del();
            break;
        }
        const I8042::State state = kbd.save();
        if (state.keyboard_output.size() > I8042::KEYBOARD_BUFFER)
            __builtin_trap();
        const bool pending = (state.ctr & 0x01) && !state.controller_output && !state.keyboard_output.empty();
        if (irq.level != pending)
            __builtin_trap();
    }
    return 0;
}
