// receive_migration: the receiving side of a live migration (migration.h).
#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vmm/migration.h"
#include "vmm/migration_receive.h"
#include "vmm/snapshot.h"
#include "vmm/vm_builder.h"

namespace vmm {

namespace {

constexpr uint64_t MAX_HELLO = 1u << 20;
constexpr uint64_t MAX_PAGES_MESSAGE = sizeof(uint64_t) + MIGRATION_PAGES_PER_MESSAGE * DIRTY_PAGE_SIZE;

// A Pages message into RAM: the pages must lie inside one region.
Status store_pages(GuestMemory& memory, std::span<const uint8_t> payload) {
    uint64_t offset = 0;
    if (payload.size() <= sizeof offset || (payload.size() - sizeof offset) % DIRTY_PAGE_SIZE)
        return Error("migration: a pages message that is not an offset and whole pages");
    std::memcpy(&offset, payload.data(), sizeof offset);
    const auto pages = payload.subspan(sizeof offset);
    for (const MemoryRegion& region : memory.regions()) {
        if (offset % DIRTY_PAGE_SIZE == 0 && offset >= region.fd_offset && offset - region.fd_offset < region.size &&
            pages.size() <= region.size - (offset - region.fd_offset))
            return memory.write(region.gpa + (offset - region.fd_offset), pages);
    }
    return Error(fmt::format("migration: pages at {:#x}+{:#x} are outside the guest's RAM", offset, pages.size()));
}

bool same_section(const StateFile& a, const StateFile& b, uint32_t tag) {
    auto x = a.section(tag), y = b.section(tag);
    return x.ok() && y.ok() && std::equal(x->begin(), x->end(), y->begin(), y->end());
}

}  // namespace

Result<IncomingVm> receive_incoming(int fd, const VmConfig& base) {
    const ReceivedMessage first = TRY(receive_message(fd, MAX_HELLO));
    if (first.type != MigrationMessage::Hello)
        return Error("migration: the sender did not begin with the VM's configuration");
    const StateFile hello = TRY(StateFile::parse(first.payload, "the migrating VM's configuration"));
    VmConfig config = TRY(restored_config(hello, base));
    GuestMemory memory = TRY(fresh_memory_for(hello, config));
    std::optional<StateFile> state;
    uint64_t pages = 0;
    for (;;) {
        const ReceivedMessage message = TRY(receive_message(fd, std::max(MAX_STATE_FILE, MAX_PAGES_MESSAGE)));
        if (message.type == MigrationMessage::End)
            break;
        if (message.type == MigrationMessage::Pages && !state) {
            TRY(store_pages(memory, message.payload));
            pages += (message.payload.size() - sizeof(uint64_t)) / DIRTY_PAGE_SIZE;
        } else if (message.type == MigrationMessage::State && !state) {
            state = TRY(StateFile::parse(message.payload, "the migrating VM's state"));
        } else {
            return Error(fmt::format("migration: message type {} out of order", static_cast<uint32_t>(message.type)));
        }
    }
    if (!state)
        return Error("migration: the sender ended without the VM's state");
    if (!same_section(hello, *state, CONFIG_TAG) || !same_section(hello, *state, MEMORY_LAYOUT_TAG))
        return Error("migration: the VM's state is not of the configuration the sender began with");
    return IncomingVm{std::move(config), std::move(memory), std::move(*state), pages};
}

namespace {

Result<std::unique_ptr<Vmm>> receive_vm(int fd, const VmConfig& base) {
    IncomingVm incoming = TRY(receive_incoming(fd, base));
    spdlog::info("migration: {} pages received ({} MiB of {})", incoming.pages, (incoming.pages * DIRTY_PAGE_SIZE) >> 20,
                 incoming.config.memory >> 20);
    return assemble_restored(incoming.state, incoming.config, std::move(incoming.memory));
}

}  // namespace

Result<std::unique_ptr<Vmm>> receive_migration(const std::string& url_text, const VmConfig& base) {
    const MigrationUrl url = TRY(parse_migration_url(url_text));
    const UniqueFd fd = TRY(accept_migration(url));
    auto vmm = receive_vm(fd.get(), base);
    std::vector<uint8_t> verdict{static_cast<uint8_t>(vmm.ok() ? 0 : 1)};
    if (!vmm.ok()) {
        const std::string& reason = vmm.error().message();
        verdict.insert(verdict.end(), reason.begin(), reason.end());
    }
    const Status told = send_message(fd.get(), MigrationMessage::Result, verdict);
    if (!vmm.ok())
        return vmm.error();
    // A sender that did not hear the verdict resumes its VM: this copy must not run too.
    if (!told.ok())
        return told.error().context("migration: the sender did not hear that the VM runs here");
    spdlog::info("migration from '{}': the VM runs here", url.text);
    return vmm;
}

}  // namespace vmm
