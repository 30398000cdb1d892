// Fuzzes virtio-console: host input and structure-aware receive/transmit queues (chains up to
// 4 GiB pointing at the same pages). Invariants: one call never hands the sink more than
// TX_BYTES_PER_CALL, and receive never reports work without host input.
#include <cstddef>
#include <cstdint>

#include "devices/virtio/console.h"
#include "fuzz_driver.h"

using namespace vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    auto memory = fuzz::driver_memory();
    uint64_t call_bytes = 0;
    virtio::Console console(memory, [&](std::span<const uint8_t> bytes) { call_bytes += bytes.size(); }, [] {});
    fuzz::FuzzDriver driver(in, memory);
    auto queue = virtio::Virtqueue::create(memory, driver.layout(), in.ConsumeBool(), true);
    if (!queue.ok())
        __builtin_trap();
    const size_t index = in.ConsumeBool() ? virtio::Console::RECEIVEQ : virtio::Console::TRANSMITQ;
    for (int round = 0; round < 16 && in.remaining_bytes() > 0; ++round) {
        if (in.ConsumeBool())
            driver.post(in.ConsumeIntegralInRange<uint16_t>(1, driver.size()));
        const auto input = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 512));
        const size_t accepted = console.enqueue_input(input);
        call_bytes = 0;
        auto more = console.process_queue(index, *queue);
        if (!more.ok())
            break;
        if (call_bytes > virtio::Console::TX_BYTES_PER_CALL)
            __builtin_trap();
        if (index == virtio::Console::RECEIVEQ && *more)
            __builtin_trap();
        if (accepted > input.size())
            __builtin_trap();
        if (in.ConsumeIntegralInRange(0, 15) == 0)
            console.reset();
    }
    return 0;
}
