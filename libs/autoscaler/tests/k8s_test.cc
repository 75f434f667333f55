// The Kubernetes side's pure parts: StatefulSet names as the chart builds them, and where the
// configuration comes from. The client itself runs against a real API server in
// tests/k8s/test_autoscaler_k8s.py.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "shoal/autoscaler/k8s.h"

namespace shoal::autoscaler {
namespace {

TEST(K8s, ZoneSlugMatchesTheChart) {
  EXPECT_EQ(zone_slug("zone-a"), "zone-a");
  EXPECT_EQ(zone_slug("US_East.1A"), "us-east-1a");
  // trunc 15, then trimSuffix "-"
  EXPECT_EQ(zone_slug("europe-west1-b-extra"), "europe-west1-b");
}

TEST(K8s, StatefulSetNameFromTemplate) {
  EXPECT_EQ(statefulset_name("shoal-storage-{zone}", "zone-b"), "shoal-storage-zone-b");
  EXPECT_EQ(statefulset_name("x-{zone}-{zone}", "Z.1"), "x-z-1-z-1");
  EXPECT_EQ(statefulset_name("fixed", "zone-b"), "fixed");
}

TEST(K8s, ExplicitConfigNeedsNamespaceAndCredentials) {
  K8sConfig c;
  c.api_url = "https://127.0.0.1:6443";
  auto r = resolve_k8s_config(c, "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("namespace"), std::string::npos);
  c.namespace_name = "ns";
  r = resolve_k8s_config(c, "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("credentials"), std::string::npos);
  c.client_cert_file = "/some.crt";
  EXPECT_FALSE(resolve_k8s_config(c, "/nonexistent").ok());  // key missing
  c.client_key_file = "/some.key";
  EXPECT_TRUE(resolve_k8s_config(c, "/nonexistent").ok());
}

TEST(K8s, InClusterConfigFromServiceAccountFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("shoal-k8s-sa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "tok\n";
  std::ofstream(dir / "ca.crt") << "x";
  std::ofstream(dir / "namespace") << "shoal-prod\n";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto r = resolve_k8s_config({}, dir.string());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->api_url, "https://10.96.0.1:443");
  EXPECT_EQ(r->token_file, (dir / "token").string());
  EXPECT_EQ(r->ca_file, (dir / "ca.crt").string());
  EXPECT_EQ(r->namespace_name, "shoal-prod");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  r = resolve_k8s_config({}, dir.string());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->api_url, "https://[fd00::1]:443");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(resolve_k8s_config({}, dir.string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(K8s, ClientRejectsBadUrls) {
  for (const char* url : {"http://127.0.0.1:6443", "https://", "https://h:port", "https://h:1/api"}) {
    K8sConfig c;
    c.api_url = url;
    EXPECT_FALSE(K8sClient::create(c).ok()) << url;
  }
  K8sConfig c;
  c.api_url = "https://[::1]:6443";
  EXPECT_TRUE(K8sClient::create(c).ok());
}

}  // namespace
}  // namespace shoal::autoscaler
