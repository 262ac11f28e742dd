// The Store rule that keeps inbound trunk identification unambiguous: the allowed_addresses of an
// address-identified trunk may not overlap those of another organization's (store.hpp).

#include "store/sqlite/sqlite_store_test_support.hpp"

#include <atomic>
#include <thread>

namespace tl::store {
namespace {

using namespace sqlite_test;

SipTrunk ip_trunk(std::string id,
                  std::string org,
                  std::vector<std::string> addresses,
                  std::string direction = "inbound") {
    SipTrunk t = minimal_trunk(std::move(id), std::move(org));
    t.direction = std::move(direction);
    t.auth_type = "ip";
    t.allowed_addresses = std::move(addresses);
    return t;
}

class TrunkAddressTest : public SqliteStoreTest {
protected:
    void SetUp() override {
        SqliteStoreTest::SetUp();
        ASSERT_TRUE(
            store_->create_trunk(ip_trunk("a1", kOrgA, {"203.0.113.0/24", "2001:db8::/32"})));
    }

    void expect_in_use(const Status& result, const std::string& field) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().code, Errc::kAddressInUse);
        EXPECT_EQ(result.error().field, field);
        EXPECT_NE(result.error().message.find(field), std::string::npos);
        // Nothing about the other trunk or its organization.
        for (const char* secret : {"a1", kOrgA, "Org A", "minimal"}) {
            EXPECT_EQ(result.error().message.find(secret), std::string::npos) << secret;
        }
    }
};

TEST_F(TrunkAddressTest, OverlapWithAnotherOrganizationIsRefusedOnCreate) {
    struct Case {
        const char* name;
        SipTrunk trunk;
        const char* field;
    };
    const std::vector<Case> cases = {
        {"same range", ip_trunk("b1", kOrgB, {"203.0.113.0/24"}), "allowed_addresses[0]"},
        {"address inside", ip_trunk("b1", kOrgB, {"198.51.100.1", "203.0.113.9"}),
         "allowed_addresses[1]"},
        {"wider range", ip_trunk("b1", kOrgB, {"203.0.0.0/16"}), "allowed_addresses[0]"},
        {"IPv6", ip_trunk("b1", kOrgB, {"2001:db8:1::5"}), "allowed_addresses[0]"},
        {"lowest index named", ip_trunk("b1", kOrgB, {"192.0.2.1", "2001:db8::1", "203.0.113.1"}),
         "allowed_addresses[1]"},
        {"direction both", ip_trunk("b1", kOrgB, {"203.0.113.128/25"}, "both"),
         "allowed_addresses[0]"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        expect_in_use(store_->create_trunk(c.trunk), c.field);
    }
    EXPECT_TRUE(store_->list_trunks(kOrgB).value().empty());  // nothing half-written
}

TEST_F(TrunkAddressTest, OnlyAddressIdentifiedTrunksOfOtherOrganizationsCount) {
    // The same organization may overlap itself: the dialled number picks among its trunks.
    EXPECT_TRUE(store_->create_trunk(ip_trunk("a2", kOrgA, {"203.0.113.7"})));
    // Trunks that do not identify callers by address never collide.
    EXPECT_TRUE(store_->create_trunk(ip_trunk("b1", kOrgB, {"203.0.113.7"}, "outbound")));
    SipTrunk digest = ip_trunk("b2", kOrgB, {"203.0.113.7"});
    digest.auth_type = "digest";
    EXPECT_TRUE(store_->create_trunk(digest));
    // Disjoint ranges are fine.
    EXPECT_TRUE(store_->create_trunk(ip_trunk("b3", kOrgB, {"203.0.114.0/24", "2001:db9::/32"})));
    // An inactive trunk still holds its addresses, so re-activating it never collides.
    SipTrunk inactive = ip_trunk("b4", kOrgB, {"192.0.2.0/24"});
    inactive.is_active = false;
    ASSERT_TRUE(store_->create_trunk(inactive));
    expect_in_use(store_->create_trunk(ip_trunk("a3", kOrgA, {"192.0.2.5"})),
                  "allowed_addresses[0]");
}

TEST_F(TrunkAddressTest, UpdatesThatClaimAnOverlapAreRefusedAndChangeNothing) {
    ASSERT_TRUE(store_->create_trunk(ip_trunk("b1", kOrgB, {"198.51.100.0/24"})));
    SipTrunk outbound = ip_trunk("b2", kOrgB, {"203.0.113.0/24"}, "outbound");
    ASSERT_TRUE(store_->create_trunk(outbound));
    SipTrunk digest = ip_trunk("b3", kOrgB, {"203.0.113.0/24"});
    digest.auth_type = "digest";
    ASSERT_TRUE(store_->create_trunk(digest));

    SipTrunk more = ip_trunk("b1", kOrgB, {"198.51.100.0/24", "203.0.113.99"});
    more.name = "renamed";
    expect_in_use(store_->update_trunk(more), "allowed_addresses[1]");
    SipTrunk turned_inbound = outbound;
    turned_inbound.direction = "inbound";
    expect_in_use(store_->update_trunk(turned_inbound), "allowed_addresses[0]");
    SipTrunk turned_ip = digest;
    turned_ip.auth_type = "ip";
    expect_in_use(store_->update_trunk(turned_ip), "allowed_addresses[0]");

    expect_same(store_->get_trunk(kOrgB, "b1").value(), ip_trunk("b1", kOrgB, {"198.51.100.0/24"}));
    expect_same(store_->get_trunk(kOrgB, "b2").value(), outbound);
    expect_same(store_->get_trunk(kOrgB, "b3").value(), digest);
    // An update that keeps the trunk's own addresses passes.
    SipTrunk renamed = ip_trunk("b1", kOrgB, {"198.51.100.0/24"});
    renamed.name = "renamed";
    EXPECT_TRUE(store_->update_trunk(renamed));
}

TEST_F(TrunkAddressTest, AnotherOrganizationsTrunkIdIsNotFoundBeforeAnyAddressCheck) {
    SipTrunk foreign = ip_trunk("a1", kOrgB, {"203.0.113.0/24"});
    auto result = store_->update_trunk(foreign);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::kNotFound);
}

TEST_F(TrunkAddressTest, ConcurrentCreatesOfOverlappingRangesLetOnlyOneOrganizationIn) {
    // Two organizations race for the same range, many times: exactly one of each pair wins.
    ASSERT_TRUE(store_->create_organization(Organization::named("org-c", "Org C", kT0)));
    constexpr int kRounds = 20;
    std::atomic<int> created{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    auto race = [&](const char* org) {
        for (int i = 0; i < kRounds; ++i) {
            const auto range = "10." + std::to_string(i) + ".0.0/16";
            auto result =
                store_->create_trunk(ip_trunk(std::string(org) + std::to_string(i), org, {range}));
            if (result) {
                ++created;
            } else if (result.error().code == Errc::kAddressInUse) {
                ++refused;
            } else {
                ++other;
            }
        }
    };
    std::thread b(race, kOrgB);
    std::thread c(race, "org-c");
    b.join();
    c.join();
    EXPECT_EQ(created.load(), kRounds);
    EXPECT_EQ(refused.load(), kRounds);
    EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace tl::store
