// Vmm::migrate: the sending side of a live migration (migration.h).
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/block.h"
#include "devices/virtio/virtio.h"
#include "vmm/migration.h"
#include "vmm/snapshot.h"
#include "vmm/vmm.h"

namespace vmm {

namespace {

// Pre-copy ends when a round finds this few pages dirty (the pause then sends at most 4 MiB);
// when the guest dirties memory as fast as it is sent (two rounds in a row that find no fewer
// pages dirty than the one before), or after MAX_ROUNDS, the rest goes while paused.
constexpr uint64_t FINAL_ROUND_PAGES = 1024;
constexpr int MAX_ROUNDS = 30;
constexpr int ROUNDS_WITHOUT_PROGRESS = 2;

bool all_zero(const uint8_t* page) {
    for (size_t i = 0; i < DIRTY_PAGE_SIZE; ++i) {
        if (page[i])
            return false;
    }
    return true;
}

// Sends the pages `wanted(region, page)` picks as Pages messages, runs of at most
// MIGRATION_PAGES_PER_MESSAGE; returns how many.
template <typename Wanted>
Result<uint64_t> send_pages(int fd, const GuestMemory& memory, Wanted wanted) {
    uint64_t sent = 0;
    const auto& regions = memory.regions();
    for (size_t r = 0; r < regions.size(); ++r) {
        const MemoryRegion& region = regions[r];
        const uint64_t pages = region.size / DIRTY_PAGE_SIZE;
        uint64_t run = 0, length = 0;
        for (uint64_t page = 0; page <= pages; ++page) {
            const bool take = page < pages && wanted(r, page);
            if (take && length == 0)
                run = page;
            if (take)
                ++length;
            if (length && (!take || length == MIGRATION_PAGES_PER_MESSAGE)) {
                const uint64_t offset = region.fd_offset + run * DIRTY_PAGE_SIZE;
                const auto head = std::span(reinterpret_cast<const uint8_t*>(&offset), sizeof offset);
                TRY(send_message(fd, MigrationMessage::Pages, head,
                                 std::span(region.host + run * DIRTY_PAGE_SIZE, length * DIRTY_PAGE_SIZE)));
                sent += length;
                length = 0;
            }
        }
    }
    return sent;
}

Result<uint64_t> send_dirty(int fd, const GuestMemory& memory, const DirtyPages& dirty) {
    return send_pages(fd, memory, [&dirty](size_t r, uint64_t page) { return dirty.test(r, page); });
}

// The receiver's Result: empty when it runs the VM, else its reason.
Status receiver_verdict(int fd) {
    const ReceivedMessage reply = TRY(receive_message(fd, 4096));
    if (reply.type != MigrationMessage::Result || reply.payload.empty())
        return Error("migration: the receiver's answer is not a result");
    if (reply.payload[0] == 0)
        return {};
    return Error(fmt::format("migration: the receiver could not take the VM: {}",
                             std::string(reply.payload.begin() + 1, reply.payload.end())));
}

}  // namespace

Status Vmm::hand_over_disks(bool release) {
    for (const auto& slot : m_parts->devices.virtio_slots()) {
        if (slot.transport->device().device_id() != virtio::device_id::BLOCK)
            continue;
        TRY_CTX(slot.transport->with_device([release](virtio::VirtioDevice& device) {
            return static_cast<virtio::Block&>(device).hand_over(release);
        }), fmt::format("disk '{}'", slot.id));
    }
    return {};
}

Status Vmm::migrate(const std::string& url_text) {
    TRY(check_snapshottable(m_parts->config));
    const MigrationUrl url = TRY(parse_migration_url(url_text));
    const State at_start = state();
    if (at_start != State::Running && at_start != State::Paused)
        return Error(ErrorKind::Busy, "migration: the VM is not running");
    std::lock_guard lock(m_snapshot_mutex);
    const UniqueFd fd = TRY(connect_migration(url));
    const GuestMemory& memory = *m_parts->memory;
    const auto started = std::chrono::steady_clock::now();

    StateFile hello;
    StateEncoder config;
    encode_config(m_parts->config, config);
    hello.add(CONFIG_TAG, config.take());
    StateEncoder layout;
    encode_memory_layout(memory, layout);
    hello.add(MEMORY_LAYOUT_TAG, layout.take());
    TRY(send_message(fd.get(), MigrationMessage::Hello, hello.serialize()));

    // Tracking turned on while paused: no device is between taking a view and writing it.
    if (at_start == State::Running)
        TRY(pause());
    const Status tracking = start_dirty_tracking();
    if (at_start == State::Running)
        TRY(resume());
    TRY(tracking);
    TRY(take_dirty_pages());  // from here on, every write is in the next round

    auto abandon = [&](Error error) -> Status {
        if (at_start == State::Running && state() == State::Paused)
            (void)resume();
        return error;
    };
    auto sent = send_pages(fd.get(), memory, [&memory](size_t r, uint64_t page) {
        return !all_zero(memory.regions()[r].host + page * DIRTY_PAGE_SIZE);
    });
    if (!sent.ok())
        return abandon(sent.error());
    uint64_t total = *sent;
    int rounds = 1;
    DirtyPages dirty = DirtyPages::none(memory);
    uint64_t previous = UINT64_MAX;
    for (int stalled = 0; rounds <= MAX_ROUNDS; ++rounds) {
        auto round = take_dirty_pages();
        if (!round.ok())
            return abandon(round.error());
        const uint64_t count = round->count();
        stalled = count >= previous ? stalled + 1 : 0;
        previous = count;
        if (count <= FINAL_ROUND_PAGES || stalled >= ROUNDS_WITHOUT_PROGRESS) {
            dirty = std::move(*round);
            break;
        }
        auto pages = send_dirty(fd.get(), memory, *round);
        if (!pages.ok())
            return abandon(pages.error());
        total += *pages;
    }

    if (at_start == State::Running) {
        if (auto paused = pause(); !paused.ok())
            return abandon(paused.error());
    }
    const auto paused_at = std::chrono::steady_clock::now();
    auto last = take_dirty_pages();
    if (!last.ok())
        return abandon(last.error());
    dirty.merge(*last);
    auto final_pages = send_dirty(fd.get(), memory, dirty);
    if (!final_pages.ok())
        return abandon(final_pages.error());
    auto state_file = save_state();
    if (!state_file.ok())
        return abandon(state_file.error());
    // The disks synced and unlocked, so that a receiver on this host can open them; locked
    // again if the VM stays here.
    Status handed = hand_over_disks(true);
    if (handed.ok())
        handed = send_message(fd.get(), MigrationMessage::State, state_file->serialize());
    if (handed.ok())
        handed = send_message(fd.get(), MigrationMessage::End);
    if (handed.ok())
        handed = receiver_verdict(fd.get());
    if (!handed.ok()) {
        if (auto kept = hand_over_disks(false); !kept.ok()) {
            // Another process has the disk now: this VM must not write it again.
            stop(exit_status::VMM_ERROR, fmt::format("migration failed ({}), and {}", handed.error().message(),
                                                     kept.error().message()));
            return handed;
        }
        return abandon(handed.error());
    }
    const auto ended = std::chrono::steady_clock::now();
    auto ms = [](auto span) { return std::chrono::duration_cast<std::chrono::milliseconds>(span).count(); };
    const std::string summary = fmt::format(
        "migrated to '{}': {} MiB in {} rounds, {} pages in the last, {} ms in all, paused {} ms", url.text,
        ((total + *final_pages) * DIRTY_PAGE_SIZE) >> 20, rounds, *final_pages, ms(ended - started),
        ms(ended - paused_at));
    stop(exit_status::MIGRATED, summary);
    return {};
}

}  // namespace vmm
