#include <utility>

#include "shoal/auth/verify.h"

namespace shoal::auth {

std::shared_ptr<const KeyStore::Map> KeyStore::snapshot() const {
  std::lock_guard lock(mu_);
  return secrets_;
}

void KeyStore::replace(std::vector<Credentials> credentials) {
  auto fresh = std::make_shared<Map>();
  for (auto& c : credentials) {
    fresh->insert_or_assign(std::move(c.access_key_id), std::move(c.secret_access_key));
  }
  std::shared_ptr<const Map> old;
  std::lock_guard lock(mu_);
  old = std::exchange(secrets_, std::move(fresh));  // `old` is freed after the unlock
}

void KeyStore::put(Credentials credentials) {
  std::shared_ptr<const Map> old;
  std::lock_guard lock(mu_);
  auto fresh = std::make_shared<Map>(*secrets_);
  fresh->insert_or_assign(std::move(credentials.access_key_id),
                          std::move(credentials.secret_access_key));
  old = std::exchange(secrets_, std::move(fresh));
}

std::optional<std::string> KeyStore::secret(std::string_view access_key_id) const {
  auto map = snapshot();
  auto it = map->find(access_key_id);
  if (it == map->end()) return std::nullopt;
  return it->second;
}

std::optional<Digest> KeyStore::signing_key(std::string_view access_key_id,
                                            std::string_view date, std::string_view region,
                                            std::string_view service) const {
  auto map = snapshot();
  auto it = map->find(access_key_id);
  if (it == map->end()) return std::nullopt;
  const std::string& secret = it->second;
  std::string scope;
  scope.reserve(access_key_id.size() + date.size() + region.size() + service.size() + 3);
  scope.append(access_key_id).append("/").append(date).append("/").append(region).append("/").append(
      service);
  {
    std::lock_guard lock(derived_mu_);
    auto d = derived_.find(scope);
    if (d != derived_.end() && d->second.secret == secret) return d->second.key;
  }
  const Digest key = auth::signing_key(secret, date, region, service);
  std::lock_guard lock(derived_mu_);
  if (derived_.size() >= kMaxDerived) derived_.clear();
  derived_.insert_or_assign(std::move(scope), Derived{secret, key});
  return key;
}

size_t KeyStore::size() const { return snapshot()->size(); }

}  // namespace shoal::auth
