#include "vmm/migration.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace vmm {
namespace {

std::string error_of(const Result<MigrationUrl>& url) { return url.ok() ? "ok" : url.error().message(); }

TEST(MigrationUrl, UnixAndTcpWithNumericHosts) {
    auto unix_url = parse_migration_url("unix:/run/ember/m.sock").value();
    EXPECT_EQ(unix_url.kind, MigrationUrl::Kind::Unix);
    EXPECT_EQ(unix_url.path, "/run/ember/m.sock");
    auto tcp = parse_migration_url("tcp:10.0.0.2:4444").value();
    EXPECT_EQ(tcp.kind, MigrationUrl::Kind::Tcp);
    EXPECT_EQ(tcp.host, "10.0.0.2");
    EXPECT_EQ(tcp.port, 4444);
    auto v6 = parse_migration_url("tcp:[::1]:80").value();
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(parse_migration_url("tcp:localhost:1").value().host, "localhost");
}

TEST(MigrationUrl, RefusesWhatItCannotReachByName) {
    EXPECT_NE(error_of(parse_migration_url("unix:")).find("the path must be 1 to"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("unix:/" + std::string(200, 'x'))).find("the path must be"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("tcp:1.2.3.4")).find("is not tcp:HOST:PORT"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("tcp:1.2.3.4:0")).find("port '0' is not 1 to 65535"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("tcp:1.2.3.4:65536")).find("65536"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("tcp:1.2.3.4:8x")).find("8x"), std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("tcp:host.example:80")).find("is not an IPv4 or IPv6 address"),
              std::string::npos);
    EXPECT_NE(error_of(parse_migration_url("http://x")).find("is not unix:PATH or tcp:HOST:PORT"), std::string::npos);
}

struct SocketPair {
    SocketPair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
    UniqueFd a, b;
};

TEST(MigrationMessages, RoundTripHeadAndBodyAsOnePayload) {
    SocketPair pair;
    const uint8_t head[] = {1, 2, 3};
    std::vector<uint8_t> body(300000, 0x5a);  // more than a socket buffer: writev goes on
    std::thread sender([&] {
        EXPECT_TRUE(send_message(pair.a.get(), MigrationMessage::Pages, head, body).ok());
        EXPECT_TRUE(send_message(pair.a.get(), MigrationMessage::End).ok());
    });
    auto first = receive_message(pair.b.get(), 1 << 20);
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(first->type, MigrationMessage::Pages);
    ASSERT_EQ(first->payload.size(), 3 + body.size());
    EXPECT_EQ(first->payload[2], 3);
    EXPECT_EQ(first->payload.back(), 0x5a);
    auto end = receive_message(pair.b.get(), 0);
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(end->type, MigrationMessage::End);
    EXPECT_TRUE(end->payload.empty());
    sender.join();
}

TEST(MigrationMessages, RefusesUnknownTypesOversizeAndEarlyEnds) {
    {
        SocketPair pair;
        const uint8_t junk[16] = {'G', 'E', 'T', ' '};
        ASSERT_EQ(::write(pair.a.get(), junk, sizeof junk), 16);
        auto got = receive_message(pair.b.get(), 1 << 20);
        ASSERT_FALSE(got.ok());
        EXPECT_NE(got.error().message().find("unknown type"), std::string::npos);
    }
    {
        SocketPair pair;
        ASSERT_TRUE(send_message(pair.a.get(), MigrationMessage::State, std::vector<uint8_t>(100)).ok());
        auto got = receive_message(pair.b.get(), 99);
        ASSERT_FALSE(got.ok());
        EXPECT_NE(got.error().message().find("a message of 100 bytes, more than the 99"), std::string::npos);
    }
    {
        SocketPair pair;
        const uint8_t header[16] = {2, 0, 0, 0, 0, 0, 0, 0, 50};  // Pages of 50 bytes, 10 sent
        ASSERT_EQ(::write(pair.a.get(), header, sizeof header), 16);
        ASSERT_EQ(::write(pair.a.get(), header, 10), 10);
        pair.a.reset();
        auto got = receive_message(pair.b.get(), 1 << 20);
        ASSERT_FALSE(got.ok());
        EXPECT_NE(got.error().message().find("closed the connection"), std::string::npos);
    }
}

}  // namespace
}  // namespace vmm
