#include "sip/inbound_router.hpp"

#include "common/ids.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

namespace tl::sip {
namespace {

constexpr const char* kT = "2025-01-01T00:00:00.000Z";

class InboundRouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tl-router-test-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        store_ = store::open_sqlite_store(dir_ / "t.db").value();
        box_.emplace(store::SecretBox::from_keys(
                         {store::SecretBox::parse_key(std::string(64, 'a')).value()})
                         .value());
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named("org-a", "A", kT)));
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named("org-b", "B", kT)));
        assistant_ = make_assistant("org-a");
        ASSERT_TRUE(store_->create_assistant(assistant_));

        store::SipTrunk ip;
        ip.id = new_uuid();
        ip.org_id = "org-a";
        ip.name = "carrier";
        ip.direction = "inbound";
        ip.auth_type = "ip";
        ip.allowed_addresses = {"203.0.113.0/24"};
        ip.created_at = ip.updated_at = kT;
        ASSERT_TRUE(store_->create_trunk(ip));

        store::SipTrunk digest = ip;
        digest.id = new_uuid();
        digest.auth_type = "digest";
        digest.allowed_addresses = {};
        digest.inbound_username = "tlpbx";
        digest.inbound_password_sealed = box_->seal("pbx-secret");
        ASSERT_TRUE(store_->create_trunk(digest));

        add_number("+31850835037", "org-a", assistant_.id, true);
        router_.emplace(*store_, *box_, metrics_, InboundRouterConfig{},
                        std::array<unsigned char, 32>{});
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    store::Assistant make_assistant(const std::string& org, bool active = true) {
        store::Assistant a;
        a.id = new_uuid();
        a.org_id = org;
        a.name = "Support";
        a.is_active = active;
        a.created_at = a.updated_at = kT;
        return a;
    }

    void add_number(const std::string& e164,
                    const std::string& org,
                    std::optional<std::string> assistant,
                    bool active) {
        store::PhoneNumber n;
        n.id = new_uuid();
        n.org_id = org;
        n.phone_number = e164;
        n.assistant_id = std::move(assistant);
        n.is_active = active;
        n.created_at = n.updated_at = kT;
        ASSERT_TRUE(store_->create_number(n));
    }

    InviteRequest invite(const std::string& user, const std::string& source = "203.0.113.9") {
        InviteRequest r;
        r.request_uri = "sip:" + user + "@trunkline.test";
        r.request_user = user;
        r.to_user = user;
        r.from_user = "+31612345678";
        r.source_ip = source;
        return r;
    }

    // Answers the challenge of a first INVITE with `password`.
    InviteRequest authenticated(const std::string& user,
                                const std::string& password,
                                const std::string& source = "198.51.100.20") {
        auto first = invite(user, source);
        auto challenge = std::get<RejectedCall>(router_->route(first));
        EXPECT_EQ(challenge.reply.status, 401);
        std::smatch m;
        const auto& header = challenge.reply.headers.at(0).value;  // MD5 challenge
        EXPECT_TRUE(std::regex_search(header, m, std::regex("nonce=\"([^\"]+)\"")));
        DigestCredentials c;
        c.username = "tlpbx";
        c.realm = "trunkline";
        c.nonce = m[1];
        c.uri = first.request_uri;
        c.qop = "auth";
        c.nc = "00000001";
        c.cnonce = "abc";
        const auto response = compute_digest_response(c, password, "INVITE");
        first.authorization.push_back(
            "Digest username=\"tlpbx\", realm=\"trunkline\", nonce=\"" + c.nonce + "\", uri=\"" +
            c.uri + "\", response=\"" + response + "\", qop=auth, nc=00000001, cnonce=\"abc\"");
        return first;
    }

    int status_of(const RouteDecision& d) {
        if (const auto* r = std::get_if<RejectedCall>(&d)) return r->reply.status;
        return 200;
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    std::optional<store::SecretBox> box_;
    metrics::Registry metrics_;
    store::Assistant assistant_;
    std::optional<InboundRouter> router_;
};

TEST_F(InboundRouterTest, AllowedSourceReachesTheNumbersAssistant) {
    auto decision = router_->route(invite("+31850835037"));
    ASSERT_TRUE(std::holds_alternative<AcceptedCall>(decision));
    const auto& call = std::get<AcceptedCall>(decision);
    EXPECT_EQ(call.assistant.id, assistant_.id);
    EXPECT_EQ(call.dialled, "+31850835037");
    EXPECT_EQ(call.caller, "+31612345678");
    EXPECT_EQ(status_of(router_->route(invite("0031850835037"))), 200);
}

TEST_F(InboundRouterTest, UnknownSourceIsChallengedWhateverItDials) {
    for (const char* user : {"+31850835037", "+31999999999", "sales"}) {
        auto decision = router_->route(invite(user, "192.0.2.1"));
        const auto& rejected = std::get<RejectedCall>(decision);
        EXPECT_EQ(rejected.reply.status, 401) << user;
        ASSERT_EQ(rejected.reply.headers.size(), 1u);
        EXPECT_NE(rejected.reply.headers[0].value.find("algorithm=MD5"), std::string::npos);
        EXPECT_NE(rejected.reply.headers[0].value.find("qop=\"auth\""), std::string::npos);
    }
}

TEST_F(InboundRouterTest, Sha256IsOfferedAndVerifiedWhenConfigured) {
    InboundRouterConfig config;
    config.offer_sha256 = true;
    InboundRouter router(*store_, *box_, metrics_, config, std::array<unsigned char, 32>{});
    auto first = invite("+31850835037", "198.51.100.30");
    auto challenge = std::get<RejectedCall>(router.route(first));
    ASSERT_EQ(challenge.reply.headers.size(), 2u);
    const auto& sha = challenge.reply.headers[1].value;
    EXPECT_NE(sha.find("algorithm=SHA-256"), std::string::npos);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(sha, m, std::regex("nonce=\"([^\"]+)\"")));
    DigestCredentials c;
    c.username = "tlpbx";
    c.realm = "trunkline";
    c.nonce = m[1];
    c.uri = first.request_uri;
    c.algorithm = DigestAlgorithm::kSha256;
    const auto response = compute_digest_response(c, "pbx-secret", "INVITE");
    first.authorization.push_back("Digest username=\"tlpbx\", realm=\"trunkline\", nonce=\"" +
                                  c.nonce + "\", uri=\"" + c.uri + "\", algorithm=SHA-256, response=\"" +
                                  response + "\"");
    EXPECT_EQ(status_of(router.route(first)), 200);
}

TEST_F(InboundRouterTest, DigestRightPasswordRoutesWrongIs403ThenRateLimited) {
    EXPECT_EQ(status_of(router_->route(authenticated("+31850835037", "pbx-secret"))), 200);
    EXPECT_EQ(status_of(router_->route(authenticated("+31850835037", "wrong"))), 403);
    for (int i = 0; i < 9; ++i) router_->route(authenticated("+31850835037", "wrong"));
    // Now blocked: even the right password gets 403, without a challenge.
    auto blocked = router_->route(invite("+31850835037", "198.51.100.20"));
    EXPECT_EQ(status_of(blocked), 403);
    EXPECT_NE(metrics_.render_prometheus().find("trunkline_sip_auth_blocked_total 1"),
              std::string::npos);
    // Another source is unaffected.
    EXPECT_EQ(status_of(router_->route(authenticated("+31850835037", "pbx-secret", "198.51.100.21"))),
              200);
}

TEST_F(InboundRouterTest, RoutingOutcomes) {
    add_number("+31850000001", "org-a", std::nullopt, true);
    add_number("+31850000002", "org-a", assistant_.id, false);
    auto inactive = make_assistant("org-a", false);
    ASSERT_TRUE(store_->create_assistant(inactive));
    add_number("+31850000003", "org-a", inactive.id, true);
    auto other = make_assistant("org-b");
    ASSERT_TRUE(store_->create_assistant(other));
    add_number("+31850000004", "org-b", other.id, true);

    EXPECT_EQ(status_of(router_->route(invite("+31999999999"))), 404);   // unknown
    EXPECT_EQ(status_of(router_->route(invite("+31850000001"))), 480);   // no assistant
    EXPECT_EQ(status_of(router_->route(invite("+31850000002"))), 480);   // number inactive
    EXPECT_EQ(status_of(router_->route(invite("+31850000003"))), 480);   // assistant inactive
    EXPECT_EQ(status_of(router_->route(invite("+31850000004"))), 404);   // another org's number
    EXPECT_EQ(status_of(router_->route(invite("sales"))), 404);          // not a number
}

TEST_F(InboundRouterTest, TrunkNumbersLimitWhichDidsItMayDeliver) {
    store::SipTrunk limited;
    limited.id = new_uuid();
    limited.org_id = "org-a";
    limited.name = "limited";
    limited.direction = "both";
    limited.host = "carrier.example";
    limited.auth_type = "ip";
    limited.allowed_addresses = {"192.0.2.0/24"};
    limited.numbers = {"+31850000009"};
    limited.created_at = limited.updated_at = kT;
    ASSERT_TRUE(store_->create_trunk(limited));
    add_number("+31850000009", "org-a", assistant_.id, true);
    EXPECT_EQ(status_of(router_->route(invite("+31850000009", "192.0.2.5"))), 200);
    // The organization owns +31850835037, but this trunk may not deliver it.
    EXPECT_EQ(status_of(router_->route(invite("+31850835037", "192.0.2.5"))), 404);
}

TEST_F(InboundRouterTest, AssistantHeaderRoutesWithinTheTrunksOrganization) {
    auto r = invite("anything");
    r.extra_headers.push_back({"x-assistant-id", assistant_.id});
    auto decision = router_->route(r);
    ASSERT_TRUE(std::holds_alternative<AcceptedCall>(decision));
    EXPECT_EQ(std::get<AcceptedCall>(decision).assistant.id, assistant_.id);

    auto other = make_assistant("org-b");
    ASSERT_TRUE(store_->create_assistant(other));
    auto foreign = invite("anything");
    foreign.extra_headers.push_back({"X-Assistant-Id", other.id});
    EXPECT_EQ(status_of(router_->route(foreign)), 404);
}

// --- Digest replays ------------------------------------------------------------------------------

std::string nonce_of(const RouteDecision& decision) {
    const auto& rejected = std::get<RejectedCall>(decision);
    std::smatch m;
    const auto& header = rejected.reply.headers.at(0).value;
    EXPECT_TRUE(std::regex_search(header, m, std::regex("nonce=\"([^\"]+)\""))) << header;
    return m[1];
}

bool is_stale_challenge(const RouteDecision& decision) {
    const auto* rejected = std::get_if<RejectedCall>(&decision);
    return rejected != nullptr && rejected->reply.status == 401 &&
           rejected->reply.headers.at(0).value.find("stale=true") != std::string::npos;
}

// `invite` with an Authorization header answering `nonce` as the tlpbx trunk; qop=auth unless
// `nc` is empty.
InviteRequest answered(InviteRequest invite,
                       const std::string& nonce,
                       const std::string& nc,
                       const std::string& cnonce,
                       const std::string& password = "pbx-secret") {
    DigestCredentials c;
    c.username = "tlpbx";
    c.realm = "trunkline";
    c.nonce = nonce;
    c.uri = invite.request_uri;
    if (!nc.empty()) {
        c.qop = "auth";
        c.nc = nc;
        c.cnonce = cnonce;
    }
    const auto response = compute_digest_response(c, password, "INVITE");
    auto header = "Digest username=\"tlpbx\", realm=\"trunkline\", nonce=\"" + nonce +
                  "\", uri=\"" + c.uri + "\", response=\"" + response + "\"";
    if (!nc.empty()) header += ", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\"";
    invite.authorization = {header};
    return invite;
}

TEST_F(InboundRouterTest, ReplayedDigestHeaderIsChallengedStaleAndNotCountedAsAFailure) {
    const auto first = authenticated("+31850835037", "pbx-secret");
    EXPECT_EQ(status_of(router_->route(first)), 200);
    // The same header on a new INVITE seconds later: a replay.
    auto replay = router_->route(first);
    ASSERT_TRUE(is_stale_challenge(replay));
    EXPECT_EQ(std::get<RejectedCall>(replay).reason, "digest_replay");
    const auto metrics = metrics_.render_prometheus();
    EXPECT_NE(metrics.find("trunkline_sip_digest_replays_total 1"), std::string::npos);
    EXPECT_NE(metrics.find("trunkline_sip_auth_failures_total 0"), std::string::npos);
    // An honest client answers the fresh nonce and gets in.
    EXPECT_EQ(status_of(router_->route(answered(first, nonce_of(replay), "00000001", "fresh"))),
              200);
}

TEST_F(InboundRouterTest, HigherCountsAndNewCnoncesOnOneNonceAreAccepted) {
    const auto nonce = nonce_of(router_->route(invite("+31850835037", "198.51.100.20")));
    const auto base = invite("+31850835037", "198.51.100.20");
    EXPECT_EQ(status_of(router_->route(answered(base, nonce, "00000001", "c1"))), 200);
    EXPECT_EQ(status_of(router_->route(answered(base, nonce, "00000002", "c1"))), 200);
    EXPECT_TRUE(is_stale_challenge(router_->route(answered(base, nonce, "00000002", "c1"))));
    EXPECT_TRUE(is_stale_challenge(router_->route(answered(base, nonce, "00000001", "c1"))));
    EXPECT_EQ(status_of(router_->route(answered(base, nonce, "00000001", "c2"))), 200);
    // Without qop a nonce authenticates once.
    EXPECT_EQ(status_of(router_->route(answered(base, nonce, "", ""))), 200);
    EXPECT_TRUE(is_stale_challenge(router_->route(answered(base, nonce, "", ""))));
    // A replay with a wrong password is still a wrong password.
    EXPECT_EQ(status_of(router_->route(answered(base, nonce, "00000001", "c1", "wrong"))), 403);
}

TEST_F(InboundRouterTest, ReplayProtectionFollowsTheInjectedClock) {
    auto now = NonceIssuer::Clock::time_point(std::chrono::seconds(1'700'000'000));
    InboundRouterConfig config;
    config.clock = [&now] { return now; };
    InboundRouter router(*store_, *box_, metrics_, config, std::array<unsigned char, 32>{});
    const auto base = invite("+31850835037", "198.51.100.40");
    const auto nonce = nonce_of(router.route(base));
    now += std::chrono::seconds(10);
    EXPECT_EQ(status_of(router.route(answered(base, nonce, "00000001", "c"))), 200);
    now += std::chrono::seconds(10);
    EXPECT_TRUE(is_stale_challenge(router.route(answered(base, nonce, "00000001", "c"))));
    // Past the nonce lifetime the nonce itself is stale, whatever the count.
    now += config.nonce_lifetime;
    EXPECT_TRUE(is_stale_challenge(router.route(answered(base, nonce, "00000009", "c"))));
}

// --- Several trunks for one source -------------------------------------------------------------

TEST_F(InboundRouterTest, TheDialledNumberPicksAmongTrunksThatShareAnAddress) {
    auto ip_trunk = [&](const std::string& name, std::vector<std::string> numbers) {
        store::SipTrunk t;
        t.id = new_uuid();
        t.org_id = "org-a";
        t.name = name;
        t.direction = "inbound";
        t.auth_type = "ip";
        t.allowed_addresses = {"192.0.2.0/24"};
        t.numbers = std::move(numbers);
        t.created_at = t.updated_at = kT;
        EXPECT_TRUE(store_->create_trunk(t));
        return t.id;
    };
    const auto first = ip_trunk("first", {"+31850000011"});
    const auto second = ip_trunk("second", {"+31850000012"});
    const auto open = ip_trunk("any number", {});
    for (const char* e164 : {"+31850000011", "+31850000012", "+31850000013"}) {
        add_number(e164, "org-a", assistant_.id, true);
    }
    auto trunk_for = [&](const std::string& dialled) {
        auto decision = router_->route(invite(dialled, "192.0.2.50"));
        const auto* call = std::get_if<AcceptedCall>(&decision);
        return call != nullptr ? call->trunk.id : std::string("rejected");
    };
    EXPECT_EQ(trunk_for("+31850000011"), first);
    EXPECT_EQ(trunk_for("+31850000012"), second);  // not the first match
    EXPECT_EQ(trunk_for("+31850000013"), open);    // the organization's, listed on no trunk
    EXPECT_EQ(trunk_for("+31850835037"), open);
    EXPECT_EQ(trunk_for("+31999999999"), "rejected");
}

}  // namespace
}  // namespace tl::sip
