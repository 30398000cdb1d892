// Fuzzes a live migration's receiving side (migration_receive.h) on hostile streams: message
// framing, the announced configuration and layout, page ranges, the state file and the order
// of messages. Half the inputs (first byte even) follow a valid Hello for a 16 MiB VM, so the
// fuzzer starts where a real sender's pages and state begin; the others are the whole stream.
// Invariants: no crash, no write outside guest RAM (ASan), and a stream that is taken gives
// RAM of the configured size and no more pages than it carried.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/unique_fd.h"
#include "vmm/machine.h"
#include "vmm/migration.h"
#include "vmm/migration_receive.h"
#include "vmm/snapshot.h"

using namespace vmm;

namespace {

constexpr uint64_t GUEST_RAM = 16ull << 20;

std::vector<uint8_t> valid_hello() {
    VmConfig config;
    config.cpus = 1;
    config.memory = GUEST_RAM;
    config.rng = false;
    const auto specs = host_machine()->ram_regions(GUEST_RAM);
    const GuestMemory memory = GuestMemory::create(specs).value();
    StateFile hello;
    StateEncoder conf;
    encode_config(config, conf);
    hello.add(CONFIG_TAG, conf.take());
    StateEncoder layout;
    encode_memory_layout(memory, layout);
    hello.add(MEMORY_LAYOUT_TAG, layout.take());
    const std::vector<uint8_t> payload = hello.serialize();
    const uint32_t head[2] = {static_cast<uint32_t>(MigrationMessage::Hello), 0};
    const uint64_t length = payload.size();
    std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(head), reinterpret_cast<const uint8_t*>(head) + 8);
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&length), reinterpret_cast<const uint8_t*>(&length) + 8);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    static const std::vector<uint8_t> hello = valid_hello();
    std::vector<uint8_t> stream;
    if (data[0] % 2 == 0)
        stream = hello;
    stream.insert(stream.end(), data + 1, data + size);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return 0;
    const UniqueFd sender(fds[0]), receiver(fds[1]);
    const int buffer = 1 << 20;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    if (::write(fds[0], stream.data(), stream.size()) != static_cast<ssize_t>(stream.size()))
        return 0;
    ::shutdown(fds[0], SHUT_WR);
    VmConfig base;
    auto incoming = receive_incoming(receiver.get(), base);
    if (!incoming.ok())
        return 0;
    if (incoming->memory.total_size() != incoming->config.memory)
        __builtin_trap();
    if (incoming->pages * DIRTY_PAGE_SIZE > stream.size())
        __builtin_trap();
    return 0;
}
